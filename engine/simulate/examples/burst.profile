# Ten minutes quiet, a burst five times as high for ten, then quiet again: how fast capacity
# follows, and what the queue shows meanwhile.
20 rps for 10m
ramp 20 to 100 rps over 30s
100 rps for 10m
ramp 100 to 20 rps over 1m
20 rps for 15m
