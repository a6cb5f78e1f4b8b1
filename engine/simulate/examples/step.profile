# Two hours at 15 requests/s, then 30 for ten minutes. With step.json's cold_mult 2 one worker is
# kept stopped with its model on 15/s (restart in 5 s): how soon does the third serving worker
# come, and what does the queue show meanwhile? (The first minute, a cold start, stays under 1 %
# of the requests, so the p99 is the step's.)
15 rps for 2h
30 rps for 10m
