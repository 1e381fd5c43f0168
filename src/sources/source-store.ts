/** Where image URLs find their sources: a key (the URL's last part) → the source's bytes. */
export interface SourceStore {
  /** `folder` or `http`. */
  readonly kind: string;
  /** The bytes; throws NOT_FOUND, FORBIDDEN, FILE_TOO_LARGE, TIMEOUT or BAD_ORIGIN. */
  read(key: string): Promise<Buffer>;
}

/** Every part of a key must be a plain name: no empty, `.` or `..` parts, no hidden files, no backslashes or NULs. */
export function keyParts(key: string): string[] | undefined {
  if (key.length === 0 || key.length > 1024 || /[\\\0]/.test(key)) return undefined;
  const parts = key.split('/');
  return parts.every((part) => part.length > 0 && !part.startsWith('.')) ? parts : undefined;
}
