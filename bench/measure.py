#!/usr/bin/env python3
"""Runs a command and prints, as JSON, its wall time, the CPU time of it and all its children,
and the largest resident set of any one of them: `measure.py -- cmd args...`."""
import json
import resource
import subprocess
import sys
import time

args = sys.argv[sys.argv.index('--') + 1:]
start = time.perf_counter()
proc = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    'exitCode': proc.returncode,
    'wallS': wall,
    'cpuS': usage.ru_utime + usage.ru_stime,
    'maxRssMiB': usage.ru_maxrss / 1024,
    'stderr': proc.stderr.decode(errors='replace')[-2000:],
}))
