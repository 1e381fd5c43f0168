// One image as a Node user converts it with plain sharp: the script `imgfleet process` is compared with.
// usage: node sharp_one.mjs <input> <output.webp>
import sharp from 'sharp';

const [input, output] = process.argv.slice(2);
await sharp(input).resize(800).webp().toFile(output);
