export interface Rgba {
  r: number;
  g: number;
  b: number;
  /** 0..1 */
  alpha: number;
}

const NAMED: Record<string, string> = {
  white: 'ffffff', black: '000000', red: 'ff0000', green: '00ff00', blue: '0000ff',
  yellow: 'ffff00', cyan: '00ffff', magenta: 'ff00ff', gray: '808080', grey: '808080',
  orange: 'ffa500', transparent: '00000000',
};

/** Parses #rgb, #rgba, #rrggbb, #rrggbbaa (the # may be left out, for URLs) or a colour name. */
export function parseColor(text: string): Rgba | undefined {
  const lower = text.trim().toLowerCase();
  let hex = NAMED[lower] ?? lower.replace(/^#/, '');
  if (!/^[0-9a-f]+$/.test(hex)) return undefined;
  if (hex.length === 3 || hex.length === 4) hex = [...hex].map((c) => c + c).join('');
  if (hex.length !== 6 && hex.length !== 8) return undefined;
  const byte = (i: number) => parseInt(hex.slice(i, i + 2), 16);
  return { r: byte(0), g: byte(2), b: byte(4), alpha: hex.length === 8 ? byte(6) / 255 : 1 };
}

export function colorOrThrow(text: string): Rgba {
  const color = parseColor(text);
  if (!color) throw new Error(`not a colour: ${text}`);
  return color;
}
