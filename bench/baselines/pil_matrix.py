#!/usr/bin/python3
"""The benchmark matrix's rows as an informed Pillow user writes them: a multiprocessing Pool of
one process per core, draft() before every JPEG downscale (asking for twice the target, as
thumbnail() does), reducing_gap where resize() takes it, ImageOps.fit for cover, LANCZOS where
imgfleet's default kernel is Lanczos 3, and the same output format and quality.

usage: pil_matrix.py <row id> <input dir> <output dir> <processes>
       pil_matrix.py --list          (the row ids this script knows)
"""
import os
import sys
from multiprocessing import Pool

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

FONT_FILE = os.path.join(os.path.dirname(__file__), '..', '..', 'assets', 'fonts', 'DejaVuSans-Bold.ttf')
LANCZOS = Image.Resampling.LANCZOS


def draft_for(im, width, height):
    """JPEG shrink-on-load to no less than twice the size the next step needs."""
    im.draft(im.mode, (2 * width, 2 * height))
    return im


def cover(im, width, height):
    # A cover crop of the source needs the short side at the target's scale.
    scale = max(width / im.width, height / im.height)
    draft_for(im, round(im.width * scale), round(im.height * scale))
    return ImageOps.fit(im, (width, height), LANCZOS)


def inside(im, width, height):
    im.thumbnail((width, height), LANCZOS)  # draft and reducing_gap=2.0 built in
    return im


def to_width(im, width):
    height = round(im.height * width / im.width)
    draft_for(im, width, height)
    return im.resize((width, height), LANCZOS, reducing_gap=2.0)


def watermark(im, text='imgfleet'):
    # As imgfleet places it by default: 6 % of the shorter side high, 2 % margin, white at 50 %.
    im = im.convert('RGB')
    shorter = min(im.size)
    font = ImageFont.truetype(FONT_FILE, max(8, round(shorter * 0.06)))
    layer = Image.new('RGBA', im.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    box = draw.textbbox((0, 0), text, font=font)
    margin = round(shorter * 0.02)
    draw.text((im.width - box[2] - margin, im.height - box[3] - margin), text, font=font, fill=(255, 255, 255, 128))
    return Image.alpha_composite(im.convert('RGBA'), layer).convert('RGB')


JPEG, WEBP, PNG = ('.jpg', 'JPEG'), ('.webp', 'WEBP'), ('.png', 'PNG')

# Each row: (what to do with the opened image, output extension and format, save options).
ROWS = {
    's-fill': (lambda im: im.resize((512, 512), Image.Resampling.BICUBIC), JPEG, {'quality': 75}),
    's-cover': (lambda im: cover(im, 400, 400), JPEG, {'quality': 80}),
    's-grey': (lambda im: im.convert('L'), PNG, {}),
    's-webp': (lambda im: im, WEBP, {'quality': 80}),
    's-watermark': (watermark, JPEG, {'quality': 80}),
    's-png-cover': (lambda im: cover(im, 200, 200), JPEG, {'quality': 80}),
    's-png-webp': (lambda im: im, WEBP, {'quality': 80}),
    's-png-thumb': (lambda im: inside(im, 256, 256), WEBP, {'quality': 80}),
    's-grey-thumb': (lambda im: inside(im, 256, 256), JPEG, {'quality': 80}),
    's-grey-webp': (lambda im: im, WEBP, {'quality': 80}),
    's-webp-thumb': (lambda im: inside(im, 256, 256), JPEG, {'quality': 80}),
    'l-inside': (lambda im: inside(im, 512, 512), JPEG, {'quality': 80}),
    'l-cover': (lambda im: cover(im, 300, 300), JPEG, {'quality': 80}),
    'l-sharpen': (lambda im: inside(im, 256, 256).filter(ImageFilter.UnsharpMask(radius=1, percent=150, threshold=0)), WEBP, {'quality': 80}),
    'l-watermark': (lambda im: watermark(to_width(im, 400).filter(ImageFilter.GaussianBlur(1.5))), WEBP, {'quality': 80}),
    'l-webp': (lambda im: to_width(im, 1600), WEBP, {'quality': 80}),
}

ROW, SRC, DST = (sys.argv[1:4] + [None, None, None])[:3]


def run(name):
    step, (extension, fmt), options = ROWS[ROW]
    with Image.open(os.path.join(SRC, name)) as im:
        out = step(im)
        out.save(os.path.join(DST, os.path.splitext(name)[0] + extension), fmt, **options)


if __name__ == '__main__':
    if sys.argv[1] == '--list':
        print('\n'.join(ROWS))
        sys.exit(0)
    os.makedirs(DST, exist_ok=True)
    with Pool(int(sys.argv[4])) as pool:
        for _ in pool.imap_unordered(run, sorted(os.listdir(SRC)), chunksize=8):
            pass
