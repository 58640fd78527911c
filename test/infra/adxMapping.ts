/**
 * A small stand-in for Azure Data Explorer's ingestion of JSON and MULTIJSON messages through a JSON mapping, enough
 * to check infra/adx/setup.kql's mappings against real events. It follows these documented rules:
 * - JSON mapping (https://learn.microsoft.com/azure/data-explorer/kusto/management/json-mapping): each element is
 *   `{column, datatype, Properties: {Path}}`; a Path starting with `$` is a JSONPath into the record (`$` the whole
 *   record, `.name` or `['name']` a property, `[n]` an array item).
 * - Formats (https://learn.microsoft.com/azure/data-explorer/ingest-json-formats): `json` is JSON Lines, one record
 *   per line; `multijson` reads records one after another and takes a JSON array as an array of records.
 * - Compression (https://learn.microsoft.com/azure/data-explorer/ingest-data-event-hub-overview): an Event Hubs data
 *   connection with compression `GZip` reads each message body as gzip-compressed data; callers gunzip first.
 * - Invalid data (https://learn.microsoft.com/azure/data-explorer/ingest-invalid-data): a mapped field missing from
 *   the record, or a value that does not match the column's type (e.g. a floating point value into an int column),
 *   fills NULL without an error. Hence `conversionFailures`: a silent NULL here is a mapping bug.
 * - Scalar types (https://learn.microsoft.com/azure/data-explorer/kusto/query/scalar-data-types/): int is 32-bit,
 *   long 64-bit signed, real a double, datetime UTC with 100-nanosecond ticks (at most 7 fractional digits), dynamic
 *   any JSON value. A string column keeps a JSON string as is and any other value as its JSON text.
 */
export interface MappingElement {
  column: string;
  datatype: string;
  Properties: { Path: string };
}
export interface IngestionMapping {
  table: string;
  name: string;
  elements: MappingElement[];
}

export interface IngestedRow {
  /** string, number (int, long, real), boolean (bool), Date (datetime), any JSON value (dynamic), or null. */
  cells: Record<string, unknown>;
  /** Columns whose value was present but could not be converted (ADX would store NULL silently). */
  conversionFailures: string[];
}

/** The JSON ingestion mappings a setup script creates. */
export function mappingsOfScript(script: string): IngestionMapping[] {
  const pattern = /^\.create-or-alter table (\w+) ingestion json mapping "(\w+)"\n```\n([\s\S]*?)\n```/gm;
  return [...script.matchAll(pattern)].map(([, table, name, json]) => ({
    table: table!,
    name: name!,
    elements: JSON.parse(json!) as MappingElement[],
  }));
}

/** The records of a message as the data connection's format reads them. */
export function recordsOf(message: string, format: "json" | "multijson"): unknown[] {
  if (format === "json")
    return message
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((l) => JSON.parse(l));
  const value: unknown = JSON.parse(message);
  return Array.isArray(value) ? value : [value];
}

export function applyMapping(mapping: IngestionMapping, record: unknown): IngestedRow {
  const row: IngestedRow = { cells: {}, conversionFailures: [] };
  for (const { column, datatype, Properties } of mapping.elements) {
    const value = valueAt(record, Properties.Path);
    const cell = value === undefined || value === null ? null : convert(value, datatype);
    if (cell === undefined) row.conversionFailures.push(`${column} (${datatype}): ${JSON.stringify(value)}`);
    row.cells[column] = cell ?? null;
  }
  return row;
}

/** `$`, `$.a.b`, `$['a'].b`, `$.a[0]`; undefined where the record has no such field. */
export function valueAt(record: unknown, path: string): unknown {
  if (!path.startsWith("$")) throw new Error(`mapping path ${path}: only JSONPath (starting with $) is supported`);
  const steps = [...path.slice(1).matchAll(/\.(\w+)|\['([^']+)'\]|\[(\d+)\]/g)];
  if (steps.map((s) => s[0]).join("") !== path.slice(1)) throw new Error(`mapping path ${path}: not understood`);
  let value = record;
  for (const [, name, quoted, index] of steps) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[name ?? quoted ?? Number(index)];
  }
  return value;
}

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$/;

/** The value as the column type stores it; undefined when it does not convert (ADX: NULL). */
function convert(value: unknown, datatype: string): unknown {
  switch (datatype) {
    case "string":
      return typeof value === "string" ? value : JSON.stringify(value);
    case "int":
      return Number.isInteger(value) && (value as number) >= INT32.min && (value as number) <= INT32.max
        ? value
        : undefined;
    case "long":
      return Number.isSafeInteger(value) ? value : undefined;
    case "real":
      return typeof value === "number" ? value : undefined;
    case "bool":
      return typeof value === "boolean" ? value : undefined;
    case "datetime":
      return typeof value === "string" && ISO_DATETIME.test(value) ? new Date(value) : undefined;
    case "dynamic":
      return value;
    default:
      throw new Error(`column type ${datatype}: not supported by this applier`);
  }
}
