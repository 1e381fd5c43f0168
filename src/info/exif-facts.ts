import exifReader from 'exif-reader';

/** What a photo's EXIF says of when and with what it was taken, when it says it. */
export interface ExifFacts {
  /** When it was taken, as the camera wrote it (local time, no zone): `2008-04-20T19:12:06`. */
  date?: string;
  make?: string;
  model?: string;
}

/** Reads the EXIF block libvips hands over; a block that cannot be parsed says nothing. */
export function exifFacts(exif: Buffer | undefined): ExifFacts {
  if (!exif || exif.length === 0) return {};
  let parsed: ReturnType<typeof exifReader>;
  try {
    parsed = exifReader(exif);
  } catch {
    return {};
  }
  const taken = parsed.Photo?.DateTimeOriginal ?? parsed.Photo?.DateTimeDigitized ?? parsed.Image?.DateTime;
  const facts: ExifFacts = {};
  // exif-reader reads the zone-less EXIF time as if it were UTC: its UTC fields are the camera's clock.
  if (taken instanceof Date && !Number.isNaN(taken.getTime())) facts.date = taken.toISOString().slice(0, 19);
  const make = text(parsed.Image?.Make);
  const model = text(parsed.Image?.Model);
  if (make) facts.make = make;
  if (model) facts.model = model;
  return facts;
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.replace(/\0/g, '').trim();
  return trimmed === '' ? undefined : trimmed;
}
