#!/usr/bin/env python3
"""Two builds of one popug command, timed side by side: runs alternate A, B, B, A, ... so that
whatever the machine does meanwhile (the disk's sync time, another process) falls on both.
Each build gets its own copy of the ledger, because a build with another store version
rebuilds the stores it opens and a command changes the ledger it runs on.

usage: python3 benches/pair.py RUNS NAME_A LEDGER_A BIN_A NAME_B LEDGER_B BIN_B -- ARGS...

  e.g. cp -a target/bench/ledger-10000 /tmp/a; cp -a target/bench/ledger-10000 /tmp/b
       POPUG_TOKEN=... python3 benches/pair.py 300 old /tmp/a ./popug-old new /tmp/b \\
           target/release/popug -- task create 'Bench task' --json

Prints each build's median, quartiles (ms, process start to exit) and the ratio of the
medians (A / B: above 1, B is faster). The first 5 rounds are a warm-up and not counted.
The environment (POPUG_TOKEN) is the caller's; POPUG_LEDGER is set per build.
"""
import os
import statistics
import subprocess
import sys
import time


def main():
    if "--" not in sys.argv or len(sys.argv[: sys.argv.index("--")]) != 8:
        sys.exit(__doc__)
    runs = int(sys.argv[1])
    a, b = sys.argv[2:5], sys.argv[5:8]
    args = sys.argv[sys.argv.index("--") + 1 :]
    times = {a[0]: [], b[0]: []}
    for i in range(runs + 5):
        for name, ledger, binary in (a, b) if i % 2 == 0 else (b, a):
            env = dict(os.environ, POPUG_LEDGER=ledger)
            start = time.perf_counter()
            done = subprocess.run([binary] + args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            took = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"{binary} {' '.join(args)}: exit {done.returncode}")
            if i >= 5:
                times[name].append(took * 1000)
    for name, t in times.items():
        t.sort()
        print(f"{name}: median {statistics.median(t):.3f} ms  p25 {t[len(t) // 4]:.3f}  p75 {t[3 * len(t) // 4]:.3f}")
    ratio = statistics.median(times[a[0]]) / statistics.median(times[b[0]])
    print(f"ratio {a[0]}/{b[0]} = {ratio:.3f}")


if __name__ == "__main__":
    main()
