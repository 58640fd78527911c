/**
 * Deterministic event ids: `{blobHash}-{recordIndex}-{tupleIndex}`. The blob path is hashed once per
 * blob (64 bits, so distinct blobs collide with negligible probability); the indices make ids unique
 * within a blob. Same input, same id, on every run and every machine.
 */

/** 64-bit hash of a blob path as 16 hex digits (two independent 32-bit multiply-xorshift lanes). */
export function hashBlobPath(blob: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < blob.length; i++) {
    const c = blob.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}

/** The id of tuple `tupleIndex` of record `recordIndex` in the blob whose hash is `blobHash`. */
export function eventId(blobHash: string, recordIndex: number, tupleIndex: number): string {
  return `${blobHash}-${recordIndex}-${tupleIndex}`;
}
