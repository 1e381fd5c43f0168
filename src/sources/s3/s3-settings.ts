import type { Environment } from '../../config.js';
import { ImgfleetError } from '../../errors.js';

/** How to reach an S3-compatible store: AWS S3, MinIO, Cloudflare R2, Ceph… */
export interface S3Settings {
  /** e.g. http://10.0.0.7:9000; none: AWS S3 in `region`. With an endpoint, buckets are addressed by path (MinIO and most self-hosted stores need that). */
  endpoint?: string;
  /** @defaultValue us-east-1 */
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/**
 * The store's settings from the standard AWS variables (read by src/config.ts), with
 * `--s3-endpoint` winning over AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL.
 */
export function s3Settings(env: Pick<Environment, 's3'>, endpointFlag?: string): S3Settings {
  const endpoint = endpointFlag ?? env.s3.endpoint;
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new ImgfleetError('BAD_USAGE', `S3 endpoint "${endpoint}": expected a URL such as http://10.0.0.7:9000`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ImgfleetError('BAD_USAGE', `S3 endpoint "${endpoint}": expected http:// or https://`);
  }
  return {
    endpoint: endpoint?.replace(/\/+$/, ''),
    region: env.s3.region ?? 'us-east-1',
    accessKeyId: env.s3.accessKeyId,
    secretAccessKey: env.s3.secretAccessKey,
    sessionToken: env.s3.sessionToken,
  };
}
