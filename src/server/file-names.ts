import { extname } from 'node:path';

/**
 * An uploaded file's name made safe to use as a file name: no folders, no traversal, no
 * hidden files, only portable characters, and unique in its upload (by stem, so outputs in
 * one format never collide either).
 */
export function safeFileNames(names: string[]): string[] {
  const taken = new Set<string>();
  return names.map((raw, index) => {
    const base = raw.split(/[\\/]/).pop() ?? '';
    const ext = extname(base).toLowerCase().replace(/[^a-z0-9.]/g, '').slice(0, 6);
    let stem = base.slice(0, base.length - extname(base).length)
      .normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').slice(0, 80);
    if (!stem) stem = `image-${index + 1}`;
    let unique = stem;
    for (let n = 2; taken.has(unique.toLowerCase()); n++) unique = `${stem}-${n}`;
    taken.add(unique.toLowerCase());
    return unique + ext;
  });
}
