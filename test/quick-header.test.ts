/**
 * The header read from the first bytes of a JPEG or PNG must say what libvips says of the same
 * file, for every kind written by Pillow and by libvips; anything it cannot say, it leaves to
 * libvips.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { quickHeader } from '../src/image/quick-header.js';
import { CORPUS, photo, tempDir } from './helpers.js';

const PILLOW_KINDS = `
import sys, io
from PIL import Image, ImageCms
out = sys.argv[1]
base = Image.linear_gradient('L').resize((97, 61))
rgb = Image.merge('RGB', (base, base.rotate(90).resize((97, 61)), base.transpose(Image.FLIP_LEFT_RIGHT)))
base.save(f'{out}/grey.png'); rgb.save(f'{out}/rgb.png')
base.convert('LA').save(f'{out}/grey-alpha.png'); rgb.convert('RGBA').save(f'{out}/rgba.png')
rgb.convert('P', palette=Image.ADAPTIVE).save(f'{out}/palette.png')
base.convert('P').save(f'{out}/palette-grey.png')
p = rgb.convert('P', palette=Image.ADAPTIVE); p.info['transparency'] = 0; p.save(f'{out}/palette-transparent.png', transparency=0)
base.save(f'{out}/grey-transparent.png', transparency=17)
rgb.save(f'{out}/rgb-transparent.png', transparency=(0, 0, 0))
base.convert('1').save(f'{out}/bilevel.png')
base.convert('I;16').save(f'{out}/grey16.png')
srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile('sRGB')).tobytes()
rgb.save(f'{out}/rgb-icc.png', icc_profile=srgb)
rgb.save(f'{out}/colour.jpg', quality=90); base.save(f'{out}/grey.jpg'); rgb.save(f'{out}/progressive.jpg', progressive=True)
rgb.save(f'{out}/icc.jpg', icc_profile=srgb)
exif = Image.Exif(); exif[0x0112] = 6; rgb.save(f'{out}/rotated.jpg', exif=exif.tobytes())
rgb.convert('CMYK').save(f'{out}/cmyk.jpg')
rgb.save(f'{out}/lossy.webp', quality=80); rgb.save(f'{out}/lossless.webp', lossless=True); base.save(f'{out}/grey.webp')
rgb.convert('RGBA').save(f'{out}/alpha.webp'); rgb.convert('RGBA').save(f'{out}/alpha-lossless.webp', lossless=True)
rgb.save(f'{out}/icc.webp', icc_profile=srgb)
rgb.save(f'{out}/animated.webp', save_all=True, append_images=[base.convert('RGB')], duration=100)
`;

interface Said {
  width: number;
  height: number;
  orientation: number;
  channels: number;
  hasAlpha: boolean;
  hasIcc: boolean;
  converts: boolean;
}

async function libvipsSays(file: string): Promise<Said> {
  const m = await sharp(file).metadata();
  const eightBit = m.depth === undefined || m.depth === 'uchar' || m.depth === 'char';
  return {
    width: m.width!, height: m.height!, orientation: m.orientation ?? 1, channels: m.channels!, hasAlpha: m.hasAlpha ?? false,
    hasIcc: Boolean(m.icc), converts: !(eightBit && (m.space === 'srgb' || m.space === 'b-w' || m.space === undefined)),
  };
}

describe('headers read without libvips', () => {
  it('say what libvips says, for every kind of JPEG and PNG Pillow and libvips write', async (t) => {
    const dir = tempDir(t);
    execFileSync('/usr/bin/python3', ['-c', PILLOW_KINDS, dir]);
    const rgb = await sharp(photo('coffee.png')).resize(97, 61).removeAlpha().toBuffer();
    await sharp(rgb).png().toFile(join(dir, 'vips.png'));
    await sharp(rgb).png({ palette: true }).toFile(join(dir, 'vips-palette.png'));
    await sharp(rgb).ensureAlpha(0.5).png().toFile(join(dir, 'vips-alpha.png'));
    await sharp(rgb).jpeg().toFile(join(dir, 'vips.jpg'));
    await sharp(rgb).toColourspace('b-w').jpeg().toFile(join(dir, 'vips-grey.jpg'));
    await sharp(rgb).withMetadata({ orientation: 8 }).jpeg().toFile(join(dir, 'vips-rotated.jpg'));
    await sharp(rgb).webp().toFile(join(dir, 'vips.webp'));
    await sharp(rgb).webp({ lossless: true }).toFile(join(dir, 'vips-lossless.webp'));
    await sharp(rgb).ensureAlpha(0.5).webp().toFile(join(dir, 'vips-alpha.webp'));
    await sharp(rgb).ensureAlpha(0.5).webp({ lossless: true }).toFile(join(dir, 'vips-alpha-lossless.webp'));
    await sharp(rgb).withIccProfile('p3').webp().toFile(join(dir, 'vips-icc.webp'));
    await sharp(rgb).withMetadata({ orientation: 6 }).webp().toFile(join(dir, 'vips-rotated.webp'));
    await sharp(rgb).resize(16383, 3, { fit: 'fill' }).webp().toFile(join(dir, 'vips-widest.webp'));
    const files = readdirSync(dir).map((name) => join(dir, name));
    files.push(photo('rocket.jpg'), photo('astronaut.png'), photo('chelsea.png'));
    // CMYK, an animation and a WebP whose EXIF may turn it are left to libvips.
    const leftToLibvips = ['cmyk.jpg', 'animated.webp', 'vips-rotated.webp'];
    for (const file of files) {
      const quick = quickHeader(readFileSync(file));
      if (leftToLibvips.some((name) => file.endsWith(`/${name}`))) {
        assert.equal(quick, undefined, file);
        continue;
      }
      assert.ok(quick, `${file} is read without libvips`);
      const { format, ...said } = quick;
      assert.equal(format, (await sharp(file).metadata()).format, file);
      assert.deepEqual(said, await libvipsSays(file), file);
    }
  });

  it('leaves what it cannot read to libvips: other formats, cut headers, damaged bytes', () => {
    // A cut JPEG whose frame header survived is read; its decoding then says what is wrong.
    const cut = quickHeader(readFileSync(join(CORPUS, 'bad', 'truncated.jpg')));
    assert.ok(!cut || (cut.width > 0 && cut.height > 0));
    assert.equal(quickHeader(Buffer.from('GIF89a')), undefined);
    assert.equal(quickHeader(Buffer.from('just some words, not pixels at all, long enough to be read')), undefined);
    assert.equal(quickHeader(readFileSync(photo('rocket.jpg')).subarray(0, 20)), undefined, 'a JPEG cut before its frame header');
    assert.equal(quickHeader(readFileSync(photo('coffee.png')).subarray(0, 40)), undefined, 'a PNG cut before its first image data');
  });
});
