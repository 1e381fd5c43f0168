#!/usr/bin/python3
"""PSNR of each tool's outputs against a float reference of the same pipeline.

The reference follows imgfleet's normalised pipeline, step by step, in float64 with numpy and
never rounds: the source as Pillow decodes it; resize with Pillow's resampler on 'F' (32-bit
float) images, from the full-size source (no shrink-on-load), Pillow's LANCZOS for Lanczos 3
and BICUBIC for cubic, cover as a centred crop box of the target's aspect; greyscale as ITU-R
601 luma; blur as an exact Gaussian (4 σ, edges repeated); sharpen as libvips' unsharp mask on
CIELAB lightness (x1 2, y2 10, y3 20); a watermark is not drawn, and the corner it goes in is
left out of the comparison. Each reference is made at the size of the output it is compared
with (tools may round a size differently by a pixel).

usage: float_psnr.py <job.json>
  job: {"steps": [...], "pairs": [{"source": path, "outputs": {tool: decoded PNG path}}]}
prints: {tool: {"psnrDb": float, "images": int}}
"""
import json
import math
import sys

import numpy as np
from PIL import Image

KERNELS = {'lanczos3': Image.Resampling.LANCZOS, 'cubic': Image.Resampling.BICUBIC}


def pixels(path):
    with Image.open(path) as im:
        mode = 'L' if im.mode in ('L', 'LA', 'I', 'I;16') else 'RGB'
        return np.asarray(im.convert(mode), dtype=np.float64)


def resize(image, size, fit, kernel):
    height, width = image.shape[:2]
    box = (0, 0, width, height)
    if fit == 'cover':
        aspect = size[0] / size[1]
        if width / height > aspect:
            crop = height * aspect
            box = ((width - crop) / 2, 0, (width + crop) / 2, height)
        else:
            crop = width / aspect
            box = (0, (height - crop) / 2, width, (height + crop) / 2)
    elif fit not in ('fill', 'inside', 'outside'):
        raise ValueError(f'no float reference for fit={fit}')
    channels = [image] if image.ndim == 2 else [image[:, :, c] for c in range(3)]
    out = [np.asarray(Image.fromarray(c.astype(np.float32), 'F').resize(size, KERNELS[kernel], box=box), dtype=np.float64) for c in channels]
    return out[0] if image.ndim == 2 else np.stack(out, axis=2)


def gaussian(plane, sigma):
    radius = math.ceil(4 * sigma)
    x = np.arange(-radius, radius + 1)
    weights = np.exp(-x * x / (2 * sigma * sigma))
    weights /= weights.sum()
    for axis in (0, 1):
        padded = np.pad(plane, [(radius, radius) if a == axis else (0, 0) for a in range(plane.ndim)], mode='edge')
        n = plane.shape[axis]
        plane = sum(w * np.take(padded, range(k, k + n), axis=axis) for k, w in enumerate(weights))
    return plane


def srgb_to_lab(rgb):
    c = rgb / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = linear @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_srgb(lab):
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > 6 / 29, f ** 3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * np.array([0.95047, 1.0, 1.08883])
    m = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    linear = np.clip(xyz @ m.T, 0, 1)
    return 255 * np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def sharpen(image, sigma, m1, m2, x1=2.0, y2=10.0, y3=20.0):
    rgb = image if image.ndim == 3 else np.stack([image] * 3, axis=2)
    lab = srgb_to_lab(rgb)
    d = lab[..., 0] - gaussian(lab[..., 0], sigma)
    boost = np.where(np.abs(d) <= x1, m1 * d, np.sign(d) * (m1 * x1 + m2 * (np.abs(d) - x1)))
    lab[..., 0] += np.clip(boost, -y3, y2)
    out = lab_to_srgb(lab)
    return out if image.ndim == 3 else out[..., 0]


def watermark_corner(shape, step):
    """The rectangle a bottom-right text watermark may cover, generously: its text at imgfleet's default size."""
    height, width = shape[:2]
    shorter = min(width, height)
    size = step.get('size') or max(8, round(shorter * 0.06))
    margin = step.get('margin') or round(shorter * 0.02)
    text_width = 0.75 * size * len(step['text'])
    return slice(max(0, height - margin - 2 * size), height), slice(max(0, width - margin - int(1.5 * text_width)), width)


def reference(source, steps, out_size):
    image, masks = source, []
    for step in steps:
        op = step['op']
        if op == 'resize':
            image = resize(image, out_size, step['fit'], step['kernel'])
        elif op == 'grayscale' and step['amount'] == 1:
            if image.ndim == 3:
                image = image @ np.array([0.299, 0.587, 0.114])
        elif op == 'blur':
            image = gaussian(image, step['sigma']) if image.ndim == 2 else np.stack([gaussian(image[:, :, c], step['sigma']) for c in range(3)], axis=2)
        elif op == 'sharpen':
            image = sharpen(image, step['sigma'], step['amount'], 2 * step['amount'])
        elif op == 'watermark' and step.get('text') and step['position'] == 'bottom-right':
            masks.append(watermark_corner(image.shape, step))
        else:
            raise ValueError(f'no float reference for step {step}')
    keep = np.ones(image.shape[:2], dtype=bool)
    for rows, cols in masks:
        keep[rows, cols] = False
    return image, keep


def main():
    job = json.load(open(sys.argv[1]))
    totals = {}
    for pair in job['pairs']:
        source = pixels(pair['source'])
        cache = {}
        for tool, path in pair['outputs'].items():
            out = pixels(path)
            size = (out.shape[1], out.shape[0])
            if size not in cache:
                cache[size] = reference(source, job['steps'], size)
            ref, keep = cache[size]
            if ref.ndim == 2 and out.ndim == 3:
                ref = np.stack([ref] * 3, axis=2)
            if ref.ndim == 3 and out.ndim == 2:
                raise ValueError(f'{tool} wrote grey for a colour reference: {path}')
            diff = (out - np.clip(ref, 0, 255))[keep]
            squared, count, images = totals.get(tool, (0.0, 0, 0))
            totals[tool] = (squared + float(np.sum(diff * diff)), count + diff.size, images + 1)
    print(json.dumps({tool: {'psnrDb': 10 * math.log10(255 * 255 / (sq / n)) if sq > 0 else 99.0, 'images': images}
                      for tool, (sq, n, images) in totals.items()}))


if __name__ == '__main__':
    main()
