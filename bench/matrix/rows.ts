/**
 * The benchmark matrix: everyday pipelines × kinds of input. Each row is one imgfleet pipeline
 * on one corpus; bench/baselines/pil_matrix.py and sharp_matrix.mjs write the same row as a
 * Pillow user and a sharp user would, under the same id. `differences` says where the tools
 * cannot mean exactly the same thing.
 */
export type MatrixInput = 'small-jpeg' | 'small-png-pillow' | 'small-png-sharp' | 'small-grey-jpeg' | 'small-grey-png' | 'small-webp' | 'large-jpeg';

export interface MatrixRow {
  id: string;
  title: string;
  input: MatrixInput;
  /** imgfleet's pipeline, in the compact syntax; the float reference follows it too. */
  pipeline: string;
  /** Share of the corpus this row runs on, for slow encoders. @defaultValue 1 */
  share?: number;
  /** Where the baselines differ in meaning, not only in speed. */
  differences?: string;
}

export const INPUT_TITLES: Record<MatrixInput, string> = {
  'small-jpeg': 'small JPEG',
  'small-png-pillow': 'small PNG (Pillow)',
  'small-png-sharp': 'small PNG (sharp)',
  'small-grey-jpeg': 'small grey JPEG',
  'small-grey-png': 'small grey PNG (Pillow)',
  'small-webp': 'small WebP (libwebp q80)',
  'large-jpeg': 'large JPEG',
};

const GREY = 'grey: imgfleet and Pillow take ITU-R 601 luma of the stored values; sharp\'s greyscale is libvips\' luminance in linear light';
const TEXT = 'text: Pillow draws with FreeType, sharp with an SVG through librsvg, imgfleet with its own renderer; PSNR leaves out the corner the text is in';
const SHARPEN = 'sharpen: imgfleet and sharp use libvips\' unsharp mask on lightness (σ 1, m1 1, m2 2); Pillow\'s nearest is UnsharpMask(radius 1, 150 %) on RGB';
const BLUR = 'blur: Pillow\'s GaussianBlur is three box blurs; libvips cuts its Gaussian at a fifth of its peak';
const NO_AVIF = 'Debian\'s Pillow 9.4 has no AVIF encoder: no Pillow cell';

export const MATRIX_ROWS: MatrixRow[] = [
  { id: 's-fill', title: 'exactly 512×512, cubic (the batch resizer)', input: 'small-jpeg', pipeline: 'resize:512:512:fit=fill:kernel=cubic,output:jpeg:75' },
  { id: 's-cover', title: 'cover thumbnail 400×400', input: 'small-jpeg', pipeline: 'resize:400:400:fit=cover,output:jpeg:80' },
  { id: 's-grey', title: 'greyscale to PNG', input: 'small-jpeg', pipeline: 'grayscale,output:png', differences: GREY },
  { id: 's-webp', title: 'JPEG → WebP', input: 'small-jpeg', pipeline: 'output:webp:80' },
  { id: 's-watermark', title: 'text watermark', input: 'small-jpeg', pipeline: 'watermark:imgfleet,output:jpeg:80', differences: TEXT },
  { id: 's-png-cover', title: 'PNG → cover thumbnail 200×200 JPEG', input: 'small-png-pillow', pipeline: 'resize:200:200:fit=cover,output:jpeg:80' },
  { id: 's-png-webp', title: 'PNG → WebP', input: 'small-png-pillow', pipeline: 'output:webp:80' },
  { id: 's-png-thumb', title: 'PNG → thumbnail inside 256 px, WebP', input: 'small-png-sharp', pipeline: 'resize:256:256,output:webp:80' },
  { id: 's-png-avif', title: 'PNG → AVIF', input: 'small-png-sharp', pipeline: 'output:avif:50', share: 0.1, differences: NO_AVIF },
  { id: 's-grey-thumb', title: 'grey JPEG → thumbnail inside 256 px', input: 'small-grey-jpeg', pipeline: 'resize:256:256,output:jpeg:80' },
  { id: 's-grey-webp', title: 'grey PNG → WebP', input: 'small-grey-png', pipeline: 'output:webp:80' },
  { id: 's-webp-thumb', title: 'WebP → thumbnail inside 256 px, JPEG', input: 'small-webp', pipeline: 'resize:256:256,output:jpeg:80' },
  { id: 'l-inside', title: 'thumbnail inside 512 px', input: 'large-jpeg', pipeline: 'resize:512:512,output:jpeg:80' },
  { id: 'l-cover', title: 'cover thumbnail 300×300', input: 'large-jpeg', pipeline: 'resize:300:300:fit=cover,output:jpeg:80' },
  { id: 'l-sharpen', title: 'inside 256 px, sharpen, WebP', input: 'large-jpeg', pipeline: 'resize:256:256,sharpen,output:webp:80', differences: SHARPEN },
  { id: 'l-watermark', title: '400 wide, blur, text watermark, WebP', input: 'large-jpeg', pipeline: 'resize:400,blur:1.5,watermark:imgfleet,output:webp:80', differences: `${BLUR}; ${TEXT}` },
  { id: 'l-webp', title: '1600 wide, WebP (for the web)', input: 'large-jpeg', pipeline: 'resize:1600,output:webp:80' },
  { id: 'l-avif', title: 'inside 1024 px, AVIF', input: 'large-jpeg', pipeline: 'resize:1024:1024,output:avif:50', share: 0.3, differences: NO_AVIF },
];
