/**
 * Enrichment: where a flow log's MAC sits (NIC, VM or scale set instance, subnet, VNet), from ARM
 * reads with the app's identity (`networkInterfaces.listAll` of `@azure/arm-network`, and each scale set's
 * `listVirtualMachineScaleSetNetworkInterfaces`: see listAllNetworkInterfaces), cached.
 * One listing of a subscription answers every MAC in it (lookups are batched per subscription,
 * and concurrent misses share the one listing); entries live for a TTL, and the cache holds at
 * most a bounded number of NICs (least recently used out first). The flattener reads the cache
 * synchronously; a miss starts the listing and waits for it at most a bounded time. A failed or
 * slow listing leaves the fields null: it never drops a tuple and delays a range at most once per
 * subscription and TTL.
 */
import type { NetworkInterface } from "@azure/arm-network";
import { normalizeMac } from "../core/blobPath";
import { NO_ENRICHMENT, type EventEnrichment } from "../core/event";
import type { EnrichmentLookup } from "../core/flatten";
import { logFailure } from "../logger";

export interface NicDirectoryOptions {
  /** The NICs of a subscription, scale sets' included (listAllNetworkInterfaces of the real client). */
  listNics: (subscriptionId: string) => AsyncIterable<NetworkInterface>;
  /** How long a listing's answers (and a subscription's failure) are trusted. */
  ttlInMs: number;
  /** Most NICs cached. */
  maxEntries: number;
  /** Longest a range waits for a listing its MAC needs (0: never waits; the next range has it). */
  waitInMs: number;
  now?: () => number;
}

interface CachedNic {
  enrichment: Readonly<EventEnrichment>;
  expiresAt: number;
}

/** The enrichment fields of an ARM network interface. */
export function enrichmentOf(nic: NetworkInterface): EventEnrichment {
  const subnetId =
    nic.ipConfigurations?.find((config) => config.primary)?.subnet?.id ?? nic.ipConfigurations?.[0]?.subnet?.id ?? null;
  return {
    nicId: nic.id ?? null,
    vmId: nic.virtualMachine?.id ?? null,
    subnetId,
    vnetId: subnetId?.replace(/\/subnets\/[^/]+$/i, "") ?? null,
  };
}

export class NicDirectory {
  private readonly byMac = new Map<string, CachedNic>();
  private readonly byNicId = new Map<string, CachedNic>();
  /** Per subscription (lower case): when its last listing ended (or failed), and the one running. */
  private readonly listedAt = new Map<string, number>();
  private readonly listing = new Map<string, Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly options: NicDirectoryOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The cached enrichment of a MAC (else of a NIC target), or NO_ENRICHMENT. Never throws, never waits. */
  readonly lookup: EnrichmentLookup = (mac, targetResourceId) => {
    const entry =
      (mac !== null ? this.byMac.get(mac) : undefined) ??
      (targetResourceId !== null ? this.byNicId.get(targetResourceId.toLowerCase()) : undefined);
    if (!entry || entry.expiresAt <= this.now()) return NO_ENRICHMENT;
    // Most recently used last: the first entries are the ones evicted.
    if (mac !== null && this.byMac.delete(mac)) this.byMac.set(mac, entry);
    return entry.enrichment;
  };

  /**
   * Makes sure the cache can answer for `mac` in `subscriptionId`: when it cannot and the
   * subscription was not listed within the TTL, lists it, waiting at most `waitInMs`.
   */
  async prefetch(subscriptionId: string, mac: string): Promise<void> {
    const key = subscriptionId.toLowerCase();
    const cached = this.byMac.get(mac);
    if (cached && cached.expiresAt > this.now()) return;
    const listedAt = this.listedAt.get(key);
    if (listedAt !== undefined && listedAt + this.options.ttlInMs > this.now()) return;
    let running = this.listing.get(key);
    if (!running) {
      running = this.list(subscriptionId).finally(() => this.listing.delete(key));
      this.listing.set(key, running);
    }
    if (this.options.waitInMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.waitInMs);
      timer.unref();
    });
    await Promise.race([running, timeout]).finally(() => clearTimeout(timer));
  }

  /** Lists a subscription's NICs into the cache; a failure is logged and remembered for the TTL. */
  private async list(subscriptionId: string): Promise<void> {
    try {
      for await (const nic of this.options.listNics(subscriptionId)) this.add(nic);
    } catch (error) {
      logFailure(`Enrichment: listing the network interfaces of subscription ${subscriptionId}`, error);
    } finally {
      this.listedAt.set(subscriptionId.toLowerCase(), this.now());
    }
  }

  private add(nic: NetworkInterface): void {
    const mac = normalizeMac(nic.macAddress);
    if (mac === null || !nic.id) return;
    const entry: CachedNic = {
      enrichment: Object.freeze(enrichmentOf(nic)),
      expiresAt: this.now() + this.options.ttlInMs,
    };
    this.byMac.delete(mac);
    this.byMac.set(mac, entry);
    this.byNicId.set(nic.id.toLowerCase(), entry);
    while (this.byMac.size > this.options.maxEntries) {
      const [oldestMac, oldest] = this.byMac.entries().next().value as [string, CachedNic];
      this.byMac.delete(oldestMac);
      if (oldest.enrichment.nicId !== null) this.byNicId.delete(oldest.enrichment.nicId.toLowerCase());
    }
  }

  /** NICs cached (for tests and logs). */
  get size(): number {
    return this.byMac.size;
  }
}
