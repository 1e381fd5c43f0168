#!/usr/bin/python3
"""Writes a JPEG corpus again with Pillow's defaults, for the benchmark matrix's PNG inputs.

usage: pil_corpus.py png-pillow|grey-png-pillow <input dir> <output dir>
"""
import os
import sys

from PIL import Image

HOW, SRC, DST = sys.argv[1:4]
for name in sorted(os.listdir(SRC)):
    with Image.open(os.path.join(SRC, name)) as im:
        out = im.convert('L') if HOW == 'grey-png-pillow' else im.convert('RGB')
        out.save(os.path.join(DST, os.path.splitext(name)[0] + '.png'))
