/**
 * The few parts of S3's XML answers imgfleet reads: a listing's keys, sizes and ETags, its
 * continuation token, an error's code and message, an upload's id. Their shape is fixed by the
 * S3 API, and their elements hold text only, so each is found by its tag.
 */
import type { ListedObject } from './s3-client.js';

export interface ListPage {
  objects: ListedObject[];
  truncated: boolean;
  nextToken?: string;
}

export function listPage(xml: string): ListPage {
  const objects: ListedObject[] = [];
  for (const match of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const entry = match[1];
    const key = xmlText(entry, 'Key');
    if (key === undefined) continue;
    objects.push({ key, size: Number(xmlText(entry, 'Size') ?? 0), etag: (xmlText(entry, 'ETag') ?? '').replace(/^"|"$/g, '') });
  }
  return { objects, truncated: xmlText(xml, 'IsTruncated') === 'true', nextToken: xmlText(xml, 'NextContinuationToken') };
}

/** The text of the first element with this tag, entities decoded; undefined when there is none. */
export function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return match ? decodeEntities(match[1]) : undefined;
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    if (entity[0] === '#') return String.fromCodePoint(entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[entity.toLowerCase()]!;
  });
}
