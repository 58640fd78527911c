/**
 * Makes Azurite's blob lookups use an index, so a store of 100,000 blobs answers as fast as one of 100.
 *
 * Azurite's LokiBlobMetadataStore (azurite/dist/src/blob/persistence) looks blobs and blocks up with queries such as
 * `{ accountName, containerName, name, snapshot }`, and LokiJS (lokijs/src/lokijs.js, `Resultset.prototype.find`)
 * turns such a query into an `$and` whose first term alone may use a binary index: `accountName`, the same for every
 * blob, so every lookup scanned the whole account and staging N blobs took time quadratic in N. Here a lookup whose
 * query has an equality on the nearly unique `blobName` or `name` (both indexed by Azurite) puts that term first: an
 * `$and` is commutative, so the same documents match, now found through the index. A listing's prefix
 * (`name: { $regex: "^<escaped prefix>" }`, LokiBlobMetadataStore.listBlobs) is likewise looked up as the index range
 * [prefix, prefix + U+FFFF] first, then matched by the same regex; only hierarchical prefixes (holding a `/`) are, as
 * such names never read as numbers, which Loki's comparators would order apart.
 */
import { createRequire } from "node:module";
import { indexAzuriteListings } from "./azuriteListings";

/** The selective fields, in order of preference (a block's `name` is its id, which every blob reuses). */
const SELECTIVE_FIELDS = ["blobName", "name"] as const;

interface LokiResultset {
  collection: { binaryIndices: Record<string, unknown> };
  find(query: unknown, firstOnly?: boolean): LokiResultset;
}

let patched = false;

/** Patches the LokiJS that Azurite loads, and its listings (once per process). */
export function indexAzuriteLookups(): void {
  if (patched) return;
  patched = true;
  const requireFromAzurite = createRequire(require.resolve("azurite/package.json"));
  const loki = requireFromAzurite("lokijs") as { Resultset: { prototype: LokiResultset } };
  const find = loki.Resultset.prototype.find;
  loki.Resultset.prototype.find = function (this: LokiResultset, query: unknown, firstOnly?: boolean) {
    return find.call(this, selectiveFirst(query, this.collection.binaryIndices), firstOnly);
  };
  indexAzuriteListings(requireFromAzurite);
}

/** `^` then a prefix escaped as Azurite's escapeRegex does (a backslash before each special character). */
const ESCAPED_PREFIX = /^\^((?:\\.|[^\\.*+?^${}()|[\]\-/])*)$/;

/** The query with its selective term first (an equality, or a listing prefix as an index range), or the query. */
export function selectiveFirst(query: unknown, indexed: Record<string, unknown>): unknown {
  if (typeof query !== "object" || query === null || Array.isArray(query)) return query;
  const terms = query as Record<string, unknown>;
  const keys = Object.keys(terms);
  if (keys.length < 2) return query;
  const prefix = listingPrefix(terms.name);
  if (prefix !== undefined && indexed.name !== undefined) {
    const rest = keys.map((key) => ({ [key]: terms[key] }));
    return { $and: [{ name: { $between: [prefix, `${prefix}\uffff`] } }, ...rest] };
  }
  const field = SELECTIVE_FIELDS.find(
    (name) => keys.includes(name) && indexed[name] !== undefined && typeof terms[name] === "string",
  );
  if (field === undefined || keys[0] === field) return query;
  return {
    [field]: terms[field],
    ...Object.fromEntries(keys.filter((key) => key !== field).map((k) => [k, terms[k]])),
  };
}

/** The literal prefix of a `{ $regex: "^…" }` term holding a `/`, or undefined. */
function listingPrefix(term: unknown): string | undefined {
  if (typeof term !== "object" || term === null) return undefined;
  const entries = Object.entries(term);
  if (entries.length !== 1 || entries[0]![0] !== "$regex" || typeof entries[0]![1] !== "string") return undefined;
  const match = ESCAPED_PREFIX.exec(entries[0]![1]);
  const prefix = match?.[1]?.replace(/\\(.)/g, "$1");
  return prefix !== undefined && prefix.includes("/") ? prefix : undefined;
}
