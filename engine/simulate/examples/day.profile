# A day of a busy endpoint, in cppworker-load's profile format: quiet night, a morning ramp, an
# afternoon peak that needs about 950 workers of 10 requests/s at target_util 0.9, an evening fall.
1000 rps for 6h
ramp 1000 to 6000 rps over 3h
6000 rps for 2h
ramp 6000 to 8500 rps over 2h
8500 rps for 3h
ramp 8500 to 3000 rps over 4h
ramp 3000 to 1000 rps over 4h
