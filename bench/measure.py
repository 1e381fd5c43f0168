#!/usr/bin/env python3
"""Runs a command and prints, as JSON, its wall time, the CPU time of it and all its children,
the largest resident set of any one of them, the peak memory of the whole process tree, and
the end of its standard error and output: `measure.py -- cmd args...`.

The tree's peak is the sum of the proportional set sizes (PSS: shared pages split among the
processes sharing them) of the command and its descendants, sampled every 50 ms. It counts a
pool of processes (Pillow's multiprocessing) and a pool of threads (one Node process) alike.
"""
import json
import os
import resource
import subprocess
import sys
import threading
import time

SAMPLE_S = 0.05
RESCAN_S = 0.25


def parent_of(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return int(f.read().rsplit(')', 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def descendants(root):
    parents = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            parent = parent_of(int(entry))
            if parent is not None:
                parents[int(entry)] = parent
    tree, changed = {root}, True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    return tree


def pss_kib(pid):
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                if line.startswith('Pss:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def sample_tree(root, done, peak):
    tree, scanned = {root}, 0.0
    while not done.is_set():
        now = time.monotonic()
        if now - scanned >= RESCAN_S:
            tree, scanned = descendants(root), now
        peak[0] = max(peak[0], sum(pss_kib(pid) for pid in tree))
        done.wait(SAMPLE_S)


args = sys.argv[sys.argv.index('--') + 1:]
start = time.perf_counter()
proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
done, peak = threading.Event(), [0]
sampler = threading.Thread(target=sample_tree, args=(proc.pid, done, peak), daemon=True)
sampler.start()
stdout, stderr = proc.communicate()
wall = time.perf_counter() - start
done.set()
sampler.join()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    'exitCode': proc.returncode,
    'wallS': wall,
    'cpuS': usage.ru_utime + usage.ru_stime,
    'maxRssMiB': usage.ru_maxrss / 1024,
    'treePeakMiB': peak[0] / 1024,
    'stderr': stderr.decode(errors='replace')[-2000:],
    'stdout': stdout.decode(errors='replace')[-2000:],
}))
