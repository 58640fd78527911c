/**
 * Seeded randomness for the flow-log generator. Pure: no Math.random, no clock.
 * Every minute of every NIC draws from its own stream, seeded from (seed, keys), so any
 * minute can be generated alone and equals the same minute of a whole-hour run.
 */

/** 32-bit FNV-1a over the parts, each followed by a separator so ("a","bc") != ("ab","c"). */
export function hashKey(...parts: ReadonlyArray<string | number>): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    const text = `${part}\u0000`;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
  }
  return hash >>> 0;
}

/** mulberry32: small, fast, good enough for synthetic traffic. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A stream derived from a seed and any number of keys. */
  static derive(seed: number | string, ...keys: ReadonlyArray<string | number>): SeededRandom {
    return new SeededRandom(hashKey(seed, ...keys));
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick: empty list");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Upper-case hex string of `digits` digits. */
  hex(digits: number): string {
    let out = "";
    while (out.length < digits) out += this.int(0, 0xffff).toString(16).padStart(4, "0");
    return out.slice(0, digits).toUpperCase();
  }

  /** A GUID-shaped upper-case string (version 4 layout). */
  guid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-A${h.slice(17, 20)}-${h.slice(20)}`;
  }
}
