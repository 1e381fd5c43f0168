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
  // Each <Contents> holds <Key>, then <ETag> and <Size>, in the order the API defines.
  for (const [, key, etag, size] of xml.matchAll(/<Contents>\s*<Key>([^<]*)<\/Key>[^]*?<ETag>([^<]*)<\/ETag>[^]*?<Size>(\d+)<\/Size>[^]*?<\/Contents>/g)) {
    objects.push({ key: decodeEntities(key), size: Number(size), etag: unquotedEtag(etag) });
  }
  return { objects, truncated: xmlText(xml, 'IsTruncated') === 'true', nextToken: xmlText(xml, 'NextContinuationToken') };
}

/** An ETag without its quotes, which S3 writes as entities (`&quot;…&quot;`, as most stores do) or as they are. */
function unquotedEtag(text: string): string {
  if (text.startsWith('&quot;') && text.endsWith('&quot;') && text.indexOf('&', 6) === text.length - 6) return text.slice(6, -6);
  return decodeEntities(text).replace(/^"|"$/g, '');
}

const ELEMENTS = new Map<string, RegExp>();

/** The text of the first element with this tag, entities decoded; undefined when there is none. */
export function xmlText(xml: string, tag: string): string | undefined {
  let element = ELEMENTS.get(tag);
  if (!element) ELEMENTS.set(tag, (element = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`)));
  const match = element.exec(xml);
  return match ? decodeEntities(match[1]) : undefined;
}

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    if (entity[0] === '#') return String.fromCodePoint(entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[entity.toLowerCase()]!;
  });
}
