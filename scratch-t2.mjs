import sharp from 'sharp';
import { processImage } from './dist/src/pipeline/process.js';
import { validatePipeline } from './dist/src/pipeline/validate.js';
import { parseCompact } from './dist/src/pipeline/compact.js';
import { readFileSync } from 'node:fs';
const photo = await sharp('/work/shared/corpus/photos/coffee.png').resize(100, 80).toBuffer();
const bordered = await sharp(photo).extend({ top: 13, bottom: 7, left: 21, right: 4, background: '#ffffff' }).png().toBuffer();
for (const p of ['trim', 'trim:threshold=0', 'trim,output:jpeg', 'resize:200:dpr=2', 'resize:50:50:fit=cover:position=attention']) {
  const r = await processImage(bordered, validatePipeline(parseCompact(p)));
  console.log(p, r.width, r.height, r.stats.path);
}
const flat = await sharp({create:{width:30,height:20,channels:3,background:'#123456'}}).png().toBuffer();
const r = await processImage(flat, validatePipeline(parseCompact('trim')));
console.log('flat', r.width, r.height);
const jpg = readFileSync('/work/shared/corpus/photos/rocket.jpg');
for (const p of ['resize:100:dpr=2', 'resize:100:100:fit=cover:position=north', 'resize:100:100:fit=cover', 'trim']) {
  const r = await processImage(jpg, validatePipeline(parseCompact(p)));
  console.log(p, r.width, r.height, r.stats.path);
}
