#!/usr/bin/python3
"""Reference images for the W1 quality comparison: each source resized to 512×512 with
Pillow's LANCZOS in one float pass, stored losslessly. usage: pil_reference.py <in> <out>"""
import os
import sys

from PIL import Image

SRC, DST = sys.argv[1], sys.argv[2]
os.makedirs(DST, exist_ok=True)
for name in sorted(os.listdir(SRC)):
    with Image.open(os.path.join(SRC, name)) as im:
        im.convert('RGB').resize((512, 512), Image.LANCZOS).save(os.path.join(DST, os.path.splitext(name)[0] + '.png'))
