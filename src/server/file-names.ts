import { extname } from 'node:path';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.png', '.webp', '.avif', '.tif', '.tiff', '.gif', '.svg']);

/**
 * An uploaded file's name made safe to use as a file name: no folders, no traversal, no
 * hidden files, only portable characters, and unique in its upload (by stem, so outputs in
 * one format never collide either).
 */
export function safeFileNames(names: string[]): string[] {
  const taken = new Set<string>();
  return names.map((raw, index) => {
    const base = raw.split(/[\\/]/).pop() ?? '';
    // Only an image's own extensions: an output named after its upload never becomes `.exe` or `.html`.
    const given = extname(base).toLowerCase();
    const ext = IMAGE_EXTENSIONS.has(given) ? given : '';
    let stem = base.slice(0, base.length - extname(base).length)
      .normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').slice(0, 80);
    if (!stem) stem = `image-${index + 1}`;
    let unique = stem;
    for (let n = 2; taken.has(unique.toLowerCase()); n++) unique = `${stem}-${n}`;
    taken.add(unique.toLowerCase());
    return unique + ext;
  });
}
