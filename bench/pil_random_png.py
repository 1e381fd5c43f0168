#!/usr/bin/python3
"""The old histogram broker's test image: 512×512 random levels, saved by Pillow with its
defaults, as the broker's generator script made it
(`Image.fromarray(np.random.randint(0, 256, (512, 512), dtype=np.uint8)).save(path)`).

usage: pil_random_png.py grey|rgb <output.png>
"""
import sys

import numpy as np
from PIL import Image

KIND, PATH = sys.argv[1:3]
np.random.seed(512)
shape = (512, 512) if KIND == 'grey' else (512, 512, 3)
Image.fromarray(np.random.randint(0, 256, shape, dtype=np.uint8)).save(PATH)
