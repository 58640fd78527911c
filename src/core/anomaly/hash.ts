/**
 * FNV-1a 64-bit over UTF-16 code units, as 16 hex digits: deterministic, dependency-free ids
 * (alert ids, capture names, idempotency keys). Not cryptographic; collisions are harmless
 * here beyond a skipped duplicate, and 64 bits make them negligible.
 */
export function fnv1a64Hex(text: string): string {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let index = 0; index < text.length; index++) {
    hash ^= BigInt(text.charCodeAt(index));
    hash = (hash * prime) & mask;
  }
  return hash.toString(16).padStart(16, "0");
}
