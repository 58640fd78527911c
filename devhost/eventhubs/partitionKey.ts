/**
 * Maps a partition key to a partition the way Event Hubs does: Bob Jenkins' lookup3 `hashlittle2`
 * over the UTF-8 bytes, the two 32-bit halves xor-ed and cast to int16, modulo the partition count.
 * `EventHubBufferedProducerClient` maps keys on the client with the same function, so the endpoint
 * must agree with it or buffered and unbuffered sends of one key would land in different partitions.
 */
export function partitionIdForKey(partitionKey: string, partitionCount: number): string {
  const { b, c } = lookup3(Buffer.from(partitionKey, "utf8"));
  const int16 = new Int16Array([(c ^ b) | 0])[0];
  return String(Math.abs(int16 % partitionCount));
}

const rotate = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** lookup3 `hashlittle2` with both seeds 0; returns the primary (c) and secondary (b) hashes. */
function lookup3(data: Buffer): { b: number; c: number } {
  let a = (0xdeadbeef + data.length) | 0;
  let b = a;
  let c = a;
  let index = 0;
  let remaining = data.length;
  while (remaining > 12) {
    a = (a + data.readUInt32LE(index)) | 0;
    b = (b + data.readUInt32LE(index + 4)) | 0;
    c = (c + data.readUInt32LE(index + 8)) | 0;
    a = (a - c) ^ rotate(c, 4);
    c = (c + b) | 0;
    b = (b - a) ^ rotate(a, 6);
    a = (a + c) | 0;
    c = (c - b) ^ rotate(b, 8);
    b = (b + a) | 0;
    a = (a - c) ^ rotate(c, 16);
    c = (c + b) | 0;
    b = (b - a) ^ rotate(a, 19);
    a = (a + c) | 0;
    c = (c - b) ^ rotate(b, 4);
    b = (b + a) | 0;
    index += 12;
    remaining -= 12;
  }
  if (remaining === 0) return { b: b >>> 0, c: c >>> 0 };
  // The tail: up to 12 bytes read little-endian into a, b, c (missing bytes count as zero).
  const tail = Buffer.alloc(12);
  data.copy(tail, 0, index);
  a = (a + tail.readUInt32LE(0)) | 0;
  b = (b + tail.readUInt32LE(4)) | 0;
  c = (c + tail.readUInt32LE(8)) | 0;
  c = (c ^ b) - rotate(b, 14);
  a = (a ^ c) - rotate(c, 11);
  b = (b ^ a) - rotate(a, 25);
  c = (c ^ b) - rotate(b, 16);
  a = (a ^ c) - rotate(c, 4);
  b = (b ^ a) - rotate(a, 14);
  c = (c ^ b) - rotate(b, 24);
  return { b: b >>> 0, c: c >>> 0 };
}
