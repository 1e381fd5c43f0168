#!/usr/bin/env python3
"""Copies bench/results/results.md (and cold-start.md and on-request.md, when there are) into README.md between the bench markers."""
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
readme = (root / 'README.md').read_text()
# Images in results.md sit beside it; from the README they are under bench/results/.
table = (root / 'bench' / 'results' / 'results.md').read_text().strip().replace('](matrix.svg)', '](bench/results/matrix.svg)')
start, end = '<!-- bench:start -->', '<!-- bench:end -->'
a, b = readme.index(start) + len(start), readme.index(end)
intro = ("Results of `npm run bench` on this project's 2-core machine (from `bench/results/`; ratios are "
         "within this one run, since the machine is shared and noisy):\n\n")
cold_start = root / 'bench' / 'results' / 'cold-start.md'
cold = ('\n### Cold start\n\n' + cold_start.read_text().strip() + '\n') if cold_start.exists() else ''
on_request = root / 'bench' / 'results' / 'on-request.md'
served = ('\n### Images made on request\n\n' + on_request.read_text().strip() + '\n') if on_request.exists() else ''
(root / 'README.md').write_text(readme[:a] + '\n' + intro + table + '\n\n![images per second](bench/results/chart.svg)\n' + cold + served + readme[b:])
