#!/usr/bin/python3
"""PSNR of resized outputs against a float reference, beside Pillow's own output for the same kernel.

usage: pil_lane_quality.py <input dir> <width> <height> <fit> <kernel> <quality> <output dir>...
The reference resizes each source in float (Pillow's 'F' mode, per channel, no rounding) with
the kernel: a cover from the centred box of the target's shape, in fractions of a pixel (as
Pillow's ImageOps.fit cuts it), a contain padded as sharp places the image. Pillow's output is
the same in 8 bits, saved as JPEG at the same quality. Prints one JSON object: PSNR in dB
of Pillow's output and of each output dir's files (same names, any extension).
"""
import json, math, os, sys
import numpy as np
from PIL import Image

SRC, W, H, FIT, KERNEL, QUALITY = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
OUTS = sys.argv[7:]
FILTER = {'lanczos3': Image.LANCZOS, 'cubic': Image.BICUBIC, 'linear': Image.BILINEAR}[KERNEL]


def geometry(w, h):
    """The resized size and the crop or embed offsets, as sharp computes them (no shrink-on-load)."""
    hs, vs = w / W, h / H
    if FIT in ('cover', 'outside'):
        hs = vs = min(hs, vs)
    elif FIT in ('contain', 'inside'):
        hs = vs = max(hs, vs)
    rw, rh = math.floor(w / hs + 0.5), math.floor(h / vs + 0.5)
    if FIT == 'cover':
        return (W, H), ('box', cover_box(w, h))
    if FIT == 'contain':
        return (rw, rh), ('embed', (W - rw) // 2, (H - rh) // 2)
    return (rw, rh), None


def cover_box(w, h):
    """The centred box of the target's shape in the source, as ImageOps.fit cuts it."""
    if w / h > W / H:
        crop = h * W / H
        return ((w - crop) / 2, 0, (w + crop) / 2, h)
    crop = w * H / W
    return (0, (h - crop) / 2, w, (h + crop) / 2)


def resized(band, size, where):
    return band.resize(size, FILTER, box=where[1] if where and where[0] == 'box' else None)


def place(bands, size, where, mode):
    """Crops or pads each band as sharp would."""
    out = []
    for b in bands:
        if where and where[0] == 'crop':
            b = b.crop((where[1], where[2], where[1] + W, where[2] + H))
        elif where and where[0] == 'embed':
            canvas = Image.new(mode, (W, H), 0)
            canvas.paste(b, (where[1], where[2]))
            b = canvas
        out.append(b)
    return out


def pixels(bands):
    return np.stack([np.asarray(b, dtype=np.float64) for b in bands])


def mse(a, b):
    return float(((a - b) ** 2).sum()), a.size


totals = {'pillow': [0.0, 0]}
for d in OUTS:
    totals[d] = [0.0, 0]
tmp = '/tmp/pil-lane-quality.jpg'
for name in sorted(os.listdir(SRC)):
    im = Image.open(os.path.join(SRC, name)).convert('RGB')
    size, where = geometry(*im.size)
    ref = pixels(place([resized(b.convert('F'), size, where) for b in im.split()], size, where, 'F'))
    ref = np.clip(ref, 0, 255)
    pil = Image.merge('RGB', place(resized(im, size, where).split(), size, where, 'L'))
    pil.save(tmp, quality=QUALITY)
    candidates = {'pillow': tmp}
    stem = os.path.splitext(name)[0]
    for d in OUTS:
        candidates[d] = next(os.path.join(d, f) for f in os.listdir(d) if os.path.splitext(f)[0] == stem)
    for key, path in candidates.items():
        got = Image.open(path).convert('RGB')
        assert got.size == (W, H) or where is None, (path, got.size)
        expected = ref
        if got.size != (ref.shape[2], ref.shape[1]):
            # A JPEG shrunk on load by libvips can come out a pixel off the exact scale (as sharp):
            # compared with the reference made at that size.
            assert where is None and all(abs(a - b) <= 1 for a, b in zip(got.size, size)), (path, got.size)
            expected = np.clip(pixels([b.convert('F').resize(got.size, FILTER) for b in im.split()]), 0, 255)
        s, n = mse(pixels(got.split()), expected)
        totals[key][0] += s
        totals[key][1] += n
print(json.dumps({k: round(10 * math.log10(255 * 255 / (s / n)), 2) for k, (s, n) in totals.items()}))
