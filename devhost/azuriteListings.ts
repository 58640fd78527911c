/**
 * Makes Azurite's hierarchical listings (list blobs with a delimiter) cost the prefixes they return, not the blobs
 * under them, as the real service's do.
 *
 * Azurite's LokiBlobMetadataStore.listBlobs (azurite/dist/src/blob/persistence) fills a page with PageWithDelimiter
 * (same folder), reading its candidates `maxResults` at a time, each read finding, filtering and sorting every blob
 * under the prefix; a level holding 100,000 blobs under a handful of prefixes took 20 such reads for one listing.
 * PageWithDelimiter folds the blobs of one prefix (`<prefix>…<delimiter>`, contiguous in name order) into that prefix:
 * the first one adds it (or ends a full page), the ones after it only move the marker to the last one's name. So a
 * listing over just the first and last matching blob of each prefix, and every blob without a delimiter, gives the
 * same blobs, prefixes and next marker. Here a delimited listing's find answers exactly that subset, walking Loki's
 * binary index on `name` and jumping over each prefix's range by binary search; the listing's own filters and sort
 * then run unchanged on it. Loki orders names that read as numbers before all others (lokijs ltHelper), and the rest
 * as JavaScript compares strings, which is Azurite's sort; names reading as numbers are all kept.
 */
interface BlobDoc {
  accountName: string;
  containerName: string;
  name: string;
  snapshot: string;
  isCommitted: boolean;
}

interface BlobCollection {
  data: BlobDoc[];
  binaryIndices: Record<string, { values: number[] } | undefined>;
  ensureIndex(property: string): void;
  chain(): LokiResultset;
}

interface LokiResultset {
  collection: BlobCollection;
  filteredrows: number[];
  filterInitialized: boolean;
  find(query: unknown, firstOnly?: boolean): LokiResultset;
}

/** The arguments of one listing that decide which blobs it may return. */
interface Listing {
  account: string;
  container: string;
  delimiter: string;
  prefix: string;
  marker: string;
  includeUncommittedBlobs: boolean;
}

type ListBlobs = (this: MetadataStore, ...args: unknown[]) => Promise<unknown>;
interface MetadataStore {
  db: { getCollection(name: string): unknown };
  listBlobs: ListBlobs;
}

/** The result sets made for a delimited listing, with that listing. */
const listings = new WeakMap<LokiResultset, Listing>();

/** Patches Azurite's blob metadata store and its LokiJS (`requireFromAzurite` loads them as Azurite does). */
export function indexAzuriteListings(requireFromAzurite: NodeJS.Require): void {
  const loki = requireFromAzurite("lokijs") as { Resultset: { prototype: LokiResultset } };
  const find = loki.Resultset.prototype.find;
  loki.Resultset.prototype.find = function (this: LokiResultset, query: unknown, firstOnly?: boolean) {
    const listing = listings.get(this);
    if (listing === undefined || this.filterInitialized) return find.call(this, query, firstOnly);
    this.filteredrows = listingCandidates(this.collection, listing);
    this.filterInitialized = true;
    return this;
  };
  const store = requireFromAzurite("./dist/src/blob/persistence/LokiBlobMetadataStore") as {
    default: { prototype: MetadataStore };
  };
  store.default.prototype.listBlobs = withIndexedListing(store.default.prototype.listBlobs);
}

/** listBlobs, answering a delimited listing of committed or uncommitted blobs (no snapshots) from the index. */
function withIndexedListing(listBlobs: ListBlobs): ListBlobs {
  return function (this: MetadataStore, ...args: unknown[]) {
    // LokiBlobMetadataStore.listBlobs(context, account, container, delimiter, blob, prefix, maxResults, marker,
    // includeSnapshots, includeUncommittedBlobs)
    const [, account, container, delimiter, blob, prefix = "", , marker = "", includeSnapshots, uncommitted] = args;
    const indexable =
      typeof account === "string" &&
      typeof container === "string" &&
      typeof delimiter === "string" &&
      delimiter.length === 1 &&
      blob === undefined &&
      typeof prefix === "string" &&
      typeof marker === "string" &&
      !includeSnapshots;
    if (!indexable) return listBlobs.apply(this, args);
    const listing = { account, container, delimiter, prefix, marker, includeUncommittedBlobs: Boolean(uncommitted) };
    const db = this.db;
    const view = Object.create(this, {
      db: { value: { getCollection: (name: string) => listingCollection(db.getCollection(name), listing) } },
    }) as MetadataStore;
    return listBlobs.apply(view, args);
  };
}

/** The collection, its `chain()` marked as serving `listing`. */
function listingCollection(collection: unknown, listing: Listing): unknown {
  const blobs = collection as BlobCollection;
  return Object.create(blobs, {
    chain: {
      value: () => {
        const resultset = blobs.chain();
        listings.set(resultset, listing);
        return resultset;
      },
    },
  });
}

/**
 * Positions (in `collection.data`) of the listing's blobs that a page can tell apart: every one without a delimiter
 * after the prefix, the first and last of each delimited prefix, and every one whose name reads as a number.
 */
function listingCandidates(collection: BlobCollection, listing: Listing): number[] {
  collection.ensureIndex("name");
  const index = collection.binaryIndices.name!.values;
  const docs = collection.data;
  const nameAt = (i: number) => docs[index[i]!]!.name;
  const listed = (i: number) => isListed(docs[index[i]!]!, listing);
  const rows: number[] = [];
  let i = 0;
  for (; i < index.length && !Number.isNaN(Number(nameAt(i))); i++) if (listed(i)) rows.push(index[i]!);
  const start = listing.marker > listing.prefix ? listing.marker : listing.prefix;
  i = firstAt(i, index.length, (at) => nameAt(at) >= start);
  while (i < index.length && nameAt(i).startsWith(listing.prefix)) {
    if (!listed(i)) {
      i++;
      continue;
    }
    rows.push(index[i]!);
    const name = nameAt(i);
    const delimiterAt = name.indexOf(listing.delimiter, listing.prefix.length);
    if (delimiterAt < 0) {
      i++;
      continue;
    }
    const folded = name.slice(0, delimiterAt + 1);
    const end = firstAt(i + 1, index.length, (at) => !nameAt(at).startsWith(folded));
    let last = end - 1;
    while (last > i && !listed(last)) last--;
    if (last > i) rows.push(index[last]!);
    i = end;
  }
  return rows;
}

/** Whether the listing's query and filters (LokiBlobMetadataStore.listBlobs) accept `doc`. */
function isListed(doc: BlobDoc, listing: Listing): boolean {
  return (
    doc.accountName === listing.account &&
    doc.containerName === listing.container &&
    doc.name.startsWith(listing.prefix) &&
    doc.name > listing.marker &&
    doc.snapshot.length === 0 &&
    (listing.includeUncommittedBlobs || doc.isCommitted)
  );
}

/** The first position in [from, to) where `reached` holds, given that it holds from some position on (`to` if none). */
function firstAt(from: number, to: number, reached: (at: number) => boolean): number {
  let [low, high] = [from, to];
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (reached(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}
