import { readFileSync, readdirSync } from 'node:fs';
import sharp from 'sharp';
import { processImage } from '/work/main/dist/src/pipeline/process.js';
import { validatePipeline } from '/work/main/dist/src/pipeline/validate.js';
import { parsePipelineText } from '/work/main/dist/src/pipeline/load.js';
const dir = process.argv[2]; const [w, h] = [+process.argv[3], +process.argv[4]];
sharp.concurrency(1);
const files = readdirSync(dir).sort().map((f) => readFileSync(`${dir}/${f}`));
const pl = validatePipeline(parsePipelineText(`resize:${w}:${h}:fit=cover,output:jpeg:80`));
for (let round = 0; round < 3; round++) {
  let t = performance.now(); const agg = {};
  for (const f of files) { const r = await processImage(f, pl); for (const s of r.stats.steps) agg[s.op] = (agg[s.op] ?? 0) + s.ms; agg.encode = (agg.encode ?? 0) + r.stats.encodeMs; agg.path = r.stats.path; }
  const a = (performance.now() - t) / files.length;
  t = performance.now();
  for (const f of files) await sharp(f).resize(w, h).jpeg({ quality: 80 }).toBuffer();
  const b = (performance.now() - t) / files.length;
  console.log(`imgfleet ${a.toFixed(2)} ms/img  sharp ${b.toFixed(2)}  steps`, Object.fromEntries(Object.entries(agg).map(([k, v]) => [k, typeof v === 'number' ? (v / files.length).toFixed(2) : v])));
}
