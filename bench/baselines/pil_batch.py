#!/usr/bin/python3
"""The per-image work of the Python systems imgfleet replaces, on a multiprocessing pool.

usage: pil_batch.py w1|w2|w3 <input dir> <output dir> <processes>
  w1: Image.open(p).resize((512, 512)).save(out)        (the ZeroMQ batch resizer)
  w2: Image.thumbnail((512, 512)), JPEG                  (thumbnails)
  w3: resize to 800 wide, GaussianBlur, UnsharpMask, text watermark, WebP q80 (the XML-RPC pipeline)
"""
import os
import sys
from multiprocessing import Pool

from PIL import Image, ImageDraw, ImageFilter, ImageFont

MODE, SRC, DST, PROCS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
FONT_FILE = os.path.join(os.path.dirname(__file__), '..', '..', 'assets', 'fonts', 'DejaVuSans-Bold.ttf')


def w1(name):
    Image.open(os.path.join(SRC, name)).resize((512, 512)).save(os.path.join(DST, name))


def w2(name):
    im = Image.open(os.path.join(SRC, name))
    im.thumbnail((512, 512))
    im.save(os.path.join(DST, name))


def w3(name):
    im = Image.open(os.path.join(SRC, name)).convert('RGB')
    im = im.resize((800, round(im.height * 800 / im.width)), Image.LANCZOS)
    im = im.filter(ImageFilter.GaussianBlur(1.5)).filter(ImageFilter.UnsharpMask())
    size = max(8, round(min(im.size) * 0.06))
    font = ImageFont.truetype(FONT_FILE, size)
    layer = Image.new('RGBA', im.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    box = draw.textbbox((0, 0), 'imgfleet', font=font)
    margin = round(min(im.size) * 0.02)
    draw.text((im.width - box[2] - margin, im.height - box[3] - margin), 'imgfleet', font=font, fill=(255, 255, 255, 128))
    im = Image.alpha_composite(im.convert('RGBA'), layer).convert('RGB')
    im.save(os.path.join(DST, os.path.splitext(name)[0] + '.webp'), quality=80)


if __name__ == '__main__':
    os.makedirs(DST, exist_ok=True)
    names = sorted(os.listdir(SRC))
    with Pool(PROCS) as pool:
        pool.map({'w1': w1, 'w2': w2, 'w3': w3}[MODE], names, chunksize=32)
