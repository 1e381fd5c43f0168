import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { withPngIccProfile } from '../src/image/png-icc.js';
import { pngRowsOf, writePng } from '../src/image/png-write.js';
import { photo, tempDir } from './helpers.js';

describe('an ICC profile in a PNG', () => {
  it('goes into PNGs written by libvips and by the pixel lanes\' writer, as libvips and Pillow read it, the pixels unchanged', async (t) => {
    const profile = (await sharp(photo('rocket.jpg')).metadata()).icc!;
    const picture = sharp(photo('coffee.png')).resize(301, 201);
    const { data, info } = await picture.clone().raw().toBuffer({ resolveWithObject: true });
    const pngs = {
      libvips: await picture.clone().png().toBuffer(),
      palette: await picture.clone().png({ palette: true }).toBuffer(),
      alpha: await picture.clone().ensureAlpha(0.5).png().toBuffer(),
      lane: await writePng(pngRowsOf({ data, width: info.width, height: info.height, channels: 3 }), 6),
    };
    const dir = tempDir(t);
    for (const [kind, png] of Object.entries(pngs)) {
      const withProfile = withPngIccProfile(png, profile)!;
      assert.ok(withProfile, kind);
      const meta = await sharp(withProfile).metadata();
      assert.ok(meta.icc?.equals(profile), `${kind}: the profile libvips reads`);
      assert.deepEqual([meta.width, meta.height, meta.hasAlpha], [301, 201, kind === 'alpha'], kind);
      const pixels = async (bytes: Buffer) => sharp(bytes, { ignoreIcc: true }).raw().toBuffer();
      assert.ok((await pixels(withProfile)).equals(await pixels(png)), `${kind}: the same pixels`);
      const file = join(dir, `${kind}.png`);
      writeFileSync(file, withProfile);
      const pillow = execFileSync('/usr/bin/python3', ['-c', 'import sys, hashlib\nfrom PIL import Image\nprint(hashlib.sha256(Image.open(sys.argv[1]).info["icc_profile"]).hexdigest())', file]).toString().trim();
      assert.equal(pillow, createHash('sha256').update(profile).digest('hex'), `${kind}: the profile Pillow reads`);
    }
    assert.equal(withPngIccProfile(pngs.libvips.subarray(0, 20), profile), undefined, 'cut short');
    assert.equal(withPngIccProfile(withPngIccProfile(pngs.libvips, profile)!, profile), undefined, 'a profile already there');
    const srgb = await picture.clone().withIccProfile('srgb').png().toBuffer();
    assert.equal(withPngIccProfile(srgb, profile), undefined, 'one written by libvips');
  });
});
