import { Command } from 'commander';
import type { ImageInfo } from '../../info/image-info.js';
import { positiveInteger, positiveNumber, type CommandContext } from '../usage.js';

interface InfoOptions {
  json?: boolean;
  maxPixels?: number;
  density?: number;
}

export function infoCommand({ result }: CommandContext): Command {
  return new Command('info')
    .description('what each image is: size, format, frames, alpha, orientation, ICC profile, EXIF date and camera, dominant colour, ThumbHash and BlurHash placeholders')
    .argument('<images...>', 'image files, folders or quoted globs')
    .option('--json', 'print a JSON list, one object per image (failures with an error)')
    .option('--max-pixels <n>', 'refuse images whose header claims more pixels (default 50,000,000)', positiveInteger)
    .option('--density <dpi>', 'dots per inch to draw SVGs at (default 72: the size they declare)', positiveNumber)
    .action(async (images: string[], options: InfoOptions) => {
      const [{ collectInputs }, { imageInfo }, { resolveLimits }, { ImgfleetError }] = await Promise.all([
        import('../../io/collect-inputs.js'), import('../../info/image-info.js'), import('../../limits.js'), import('../../errors.js'),
      ]);
      const limits = resolveLimits(options.maxPixels ? { maxInputPixels: options.maxPixels } : {});
      const { files } = await collectInputs(images);
      const listed: unknown[] = [];
      let failed = 0;
      for (const file of files) {
        try {
          const info = await imageInfo(file.path, limits, { density: options.density });
          if (options.json) listed.push({ file: file.relative, ...info });
          else console.log(infoText(file.relative, info));
        } catch (error) {
          failed++;
          const code = error instanceof ImgfleetError ? error.code : 'INTERNAL';
          const message = error instanceof Error ? error.message : String(error);
          if (options.json) listed.push({ file: file.relative, error: { code, message } });
          else console.error(`${file.relative}: ${message}`);
        }
      }
      if (options.json) process.stdout.write(`${JSON.stringify(listed, null, 2)}\n`);
      result.code = failed > 0 ? 1 : 0;
    });
}

/** One image's facts, a line each, as a person reads them. */
export function infoText(name: string, info: ImageInfo): string {
  const camera = [info.camera?.make, info.camera?.model].filter(Boolean).join(' ');
  const lines: [string, string | undefined][] = [
    ['size', `${info.width}×${info.height}${info.frames > 1 ? `, ${info.frames} frames` : ''}`],
    ['format', `${info.format}${info.alpha ? ' with alpha' : ''}, ${info.bytes} bytes`],
    ['orientation', info.orientation === 1 ? undefined : String(info.orientation)],
    ['icc', info.icc],
    ['taken', info.date],
    ['camera', camera || undefined],
    ['dominant', info.dominant],
    ['thumbhash', info.thumbhash],
    ['blurhash', info.blurhash],
  ];
  return [name, ...lines.filter(([, value]) => value !== undefined).map(([key, value]) => `  ${key.padEnd(11)} ${value}`)].join('\n');
}
