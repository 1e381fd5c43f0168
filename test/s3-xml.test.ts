import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listPage, xmlText } from '../src/sources/s3/s3-xml.js';

/** A ListObjectsV2 answer as AWS writes one: owners, checksums and storage classes around the parts imgfleet reads. */
const PAGE = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>photos</Name>
  <Prefix>in/</Prefix>
  <KeyCount>3</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>in/a&amp;b &lt;1&gt;.jpg</Key>
    <LastModified>2026-11-30T10:00:00.000Z</LastModified>
    <ETag>&quot;599bab3ed2c697f1d26842727561fd94&quot;</ETag>
    <ChecksumAlgorithm>CRC32</ChecksumAlgorithm>
    <Size>20670</Size>
    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>someone</DisplayName></Owner>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents><Key>in/caf&#xE9;.jpg</Key><LastModified>2026-11-30T10:00:00.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e-2"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents>
    <Key>in/folder/</Key>
    <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag>
    <Size>0</Size>
  </Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>`;

describe('S3 XML answers', () => {
  it('reads each listed object\'s key, size and ETag, entities decoded and quotes taken off', () => {
    assert.deepEqual(listPage(PAGE), {
      objects: [
        { key: 'in/a&b <1>.jpg', size: 20670, etag: '599bab3ed2c697f1d26842727561fd94' },
        { key: 'in/café.jpg', size: 0, etag: 'd41d8cd98f00b204e9800998ecf8427e-2' },
        { key: 'in/folder/', size: 0, etag: 'd41d8cd98f00b204e9800998ecf8427e' },
      ],
      truncated: true,
      nextToken: '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=',
    });
  });

  it('reads the last page and an empty one', () => {
    assert.deepEqual(listPage('<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>'), { objects: [], truncated: false, nextToken: undefined });
  });

  it('reads an error\'s code and message', () => {
    const error = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>x &amp; y</BucketName></Error>';
    assert.equal(xmlText(error, 'Code'), 'NoSuchBucket');
    assert.equal(xmlText(error, 'BucketName'), 'x & y');
    assert.equal(xmlText(error, 'RequestId'), undefined);
  });
});
