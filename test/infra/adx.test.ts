/**
 * infra/adx read by Kusto's own language service and fed with real events: every KQL file parses and binds without
 * errors against the database its setup script creates (an unknown column or a type error would fail), and the JSON
 * mappings, applied as Data Explorer applies them to JSON and MULTIJSON messages built from the real flow-log
 * samples and from the documented alert events, fill every column with a value of its type.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEvent, eventsOf, flattenFlowLog, type EventEnrichment, type FlowEvent } from "../../src/core";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../devhost/eventhubs";
import { localSink } from "../adapters/localSink";
import { fixtureFiles, readFixture, skipWithoutFixtures } from "../core/flowLogFixtures";
import { applyMapping, mappingsOfScript, recordsOf, type IngestionMapping } from "./adxMapping";
import { emptyFreshnessState, recordRange, reportFreshness } from "../../src/core/freshness";
import {
  errorsOf,
  globalStateOf,
  resultColumnsOf,
  schemaOfScript,
  type Column,
  withScalarParameters,
  type GlobalState,
  type ScalarTypeName,
} from "./kustoLanguage";

const ADX_DIR = join(__dirname, "../../infra/adx");
const KQL_FILES = readdirSync(ADX_DIR).filter((file) => file.endsWith(".kql"));
const SETUP = readFileSync(join(ADX_DIR, "setup.kql"), "utf8");
const schema = schemaOfScript(SETUP);
let globals: GlobalState;

beforeAll(() => {
  globals = globalStateOf(schema);
});

/** A query pack's queries: one per paragraph; a paragraph of comments only (the file's header) is not a query. */
function queriesOf(text: string): string[] {
  return text.split(/\n\s*\n/).filter((p) => p.split("\n").some((l) => l.trim() && !l.startsWith("//")));
}

describe("KQL files bind against the setup script's schema", () => {
  it("the setup script creates the tables, the update policies' functions and the de-duplicated view", () => {
    expect([...schema.tables.keys()]).toEqual(["FlowEvents", "FlowEventsCompact", "Alerts", "Captures"]);
    expect([...schema.functions.keys()]).toEqual(["FlowEventsFromCompact", "CapturesFromAlerts"]);
    expect([...schema.views.keys()]).toEqual(["FlowEventsDeduped"]);
    expect(KQL_FILES).toEqual(["queries.kql", "setup.kql"]);
    expect(readdirSync(ADX_DIR).filter((file) => file.endsWith(".json"))).toEqual(["dashboard.json"]);
  });

  // Binding the whole script takes Kusto's language service tens of seconds on a shared, busy machine, and blocks the
  // test worker meanwhile: one binding per test, so the worker answers the runner in between.
  it("setup.kql (one database script) has no error", () => {
    expect(errorsOf(SETUP, globals)).toEqual([]);
  }, 240_000);

  it("setup.kql with one wrong name in it has exactly that error", () => {
    expect(
      errorsOf(SETUP.replace("| summarize take_any(*) by id", "| summarize take_any(*) by eventId"), globals),
    ).toEqual([expect.stringMatching(/The name 'eventId' does not refer to any known column/)]);
  }, 240_000);

  const queries = queriesOf(readFileSync(join(ADX_DIR, "queries.kql"), "utf8"));
  it.each(queries.map((query) => [query.split("\n")[0]!, query]))("queries.kql: %s", (_title, query) => {
    expect(errorsOf(query, globals)).toEqual([]);
  });

  it("the query pack holds the documented queries", () => {
    const titles = queries.map((q) => q.split("\n")[0]!);
    for (const topic of ["Top talkers", "Denied flows by rule", "Scans and brute force", "Traffic of one VM"]) {
      expect(titles.some((t) => t.startsWith(`// ${topic}`))).toBe(true);
    }
    expect(titles.some((t) => t.startsWith("// Freshness per flow log"))).toBe(true);
    expect(titles.some((t) => t.startsWith("// Capture timeline of an alert"))).toBe(true);
  });

  it("the update policy's function returns exactly the Captures table's columns", () => {
    expect(errorsOf("CapturesFromAlerts()", globals)).toEqual([]);
    expect(resultColumnsOf("CapturesFromAlerts()", globals)).toEqual(schema.tables.get("Captures"));
    expect(SETUP).toMatch(/"Source": "Alerts", "Query": "CapturesFromAlerts\(\)"/);
  });

  it("the compact update policy's function returns exactly the FlowEvents table's columns", () => {
    expect(errorsOf("FlowEventsFromCompact()", globals)).toEqual([]);
    expect(resultColumnsOf("FlowEventsFromCompact()", globals)).toEqual(schema.tables.get("FlowEvents"));
    const policy = SETUP.split(".alter table FlowEvents policy update\n")[1] ?? "";
    expect(policy).toMatch(
      /^```\n\[\{"IsEnabled": true, "Source": "FlowEventsCompact", "Query": "FlowEventsFromCompact\(\)"/,
    );
    expect(policy.split("```")[1]).toContain('"IsTransactional": true');
  });

  it("an unknown column, a type error or an unknown table fails", () => {
    expect(errorsOf("FlowEventsDeduped | where dstPrt == 22", globals)).toEqual([
      expect.stringMatching(/The name 'dstPrt' does not refer to any known column/),
    ]);
    expect(errorsOf('FlowEvents | where bytesSrcToDst > "many"', globals)).toEqual([
      expect.stringMatching(/operator '>' is not defined for the operand types long and string/),
    ]);
    expect(errorsOf("FlowEvents | where time > ago(1h)", globals)).toContainEqual(
      expect.stringMatching(/'time' needs to be bracketed/),
    );
    expect(errorsOf("Captures | summarize count() by captureStatus", globals)).toHaveLength(1);
    expect(errorsOf("NoSuchTable | take 1", globals)).toHaveLength(1);
  });
});

/**
 * The parts of an exported Data Explorer dashboard (schema 52, the version the Fabric Real-Time Dashboard definition
 * documents: learn.microsoft.com/rest/api/fabric/articles/item-management/definitions/kql-dashboard-definition) that
 * the test reads: tiles point at queries by id (`queryRef`), queries at a data source by id, tiles at a page.
 */
interface Dashboard {
  $schema: string;
  schema_version: string;
  title: string;
  dataSources: { id: string; name: string; kind: string; scopeId: string; clusterUri: string; database: string }[];
  pages: { id: string; name: string }[];
  parameters: { kind: string; id: string; beginVariableName?: string; endVariableName?: string }[];
  queries: { id: string; text: string; usedVariables: string[]; dataSource: { kind: string; dataSourceId: string } }[];
  tiles: {
    id: string;
    title: string;
    visualType: string;
    pageId: string;
    queryRef: { kind: string; queryId: string };
  }[];
}

const DASHBOARD = JSON.parse(readFileSync(join(ADX_DIR, "dashboard.json"), "utf8")) as Dashboard;

/** The scalar variables a dashboard's parameters declare: a time range (`duration`) declares two datetimes. */
function parameterVariablesOf(dashboard: Dashboard): Record<string, ScalarTypeName> {
  const variables: Record<string, ScalarTypeName> = {};
  for (const parameter of dashboard.parameters) {
    if (parameter.kind !== "duration" || !parameter.beginVariableName || !parameter.endVariableName) {
      throw new Error(`dashboard.json parameter ${parameter.id}: only time ranges (kind duration) are read here`);
    }
    variables[parameter.beginVariableName] = "DateTime";
    variables[parameter.endVariableName] = "DateTime";
  }
  return variables;
}

describe("infra/adx/dashboard.json (an importable Data Explorer dashboard)", () => {
  const variables = parameterVariablesOf(DASHBOARD);
  const queryOf = (tile: Dashboard["tiles"][number]) => DASHBOARD.queries.find((q) => q.id === tile.queryRef.queryId);

  it("is a dashboard export of the schema version it names, over the flowtap database", () => {
    expect(DASHBOARD.$schema).toBe(
      `https://dataexplorer.azure.com/static/d/schema/${DASHBOARD.schema_version}/dashboard.json`,
    );
    expect(DASHBOARD.dataSources).toEqual([expect.objectContaining({ kind: "manual-kusto", database: "flowtap" })]);
    expect(variables).toEqual({ _startTime: "DateTime", _endTime: "DateTime" });
  });

  it("every tile is on a page and references a query, and every query an existing data source", () => {
    const pageIds = DASHBOARD.pages.map((page) => page.id);
    const dataSourceIds = DASHBOARD.dataSources.map((source) => source.id);
    for (const tile of DASHBOARD.tiles) {
      expect(pageIds, tile.title).toContain(tile.pageId);
      expect(tile.queryRef.kind, tile.title).toBe("query");
      expect(queryOf(tile), tile.title).toBeDefined();
    }
    for (const query of DASHBOARD.queries) {
      expect(query.dataSource.kind).toBe("inline");
      expect(dataSourceIds).toContain(query.dataSource.dataSourceId);
    }
    const ids = [...DASHBOARD.tiles, ...DASHBOARD.queries, ...DASHBOARD.pages, ...DASHBOARD.parameters].map(
      (x) => x.id,
    );
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("shows ingestion rate and freshness per flow log, top talkers, denied flows, alerts and captures", () => {
    const titles = DASHBOARD.tiles.map((tile) => tile.title);
    for (const topic of [
      /^Ingestion rate per flow log/,
      /^Freshness per flow log/,
      /^Top talkers/,
      /^Denied flows/,
      /^Alerts and captures on one time axis/,
    ]) {
      expect(titles).toContainEqual(expect.stringMatching(topic));
    }
    const timeline = DASHBOARD.tiles.find((tile) => tile.title.startsWith("Alerts and captures"))!;
    expect(timeline.visualType).toBe("timechart");
    expect(queryOf(timeline)?.text).toMatch(/union alertEvents, captureReports/);
  });

  it.each(DASHBOARD.tiles.map((tile) => [tile.title, tile]))(
    "tile %s: its query binds with the parameters",
    (_, tile) => {
      const query = queryOf(tile)!;
      const used = Object.keys(variables).filter((name) => new RegExp(`\\b${name}\\b`).test(query.text));

      expect(errorsOf(query.text, withScalarParameters(globals, variables))).toEqual([]);
      expect([...query.usedVariables].sort()).toEqual(used.sort());
    },
  );

  it("a tile's query fails without the dashboard's parameters, or with a wrong column", () => {
    const query = queryOf(DASHBOARD.tiles[0]!)!.text;
    expect(errorsOf(query, globals)).toContainEqual(expect.stringMatching(/The name '_startTime' does not refer/));
    expect(errorsOf(query.replace("blob", "blobPath"), withScalarParameters(globals, variables))).toContainEqual(
      expect.stringMatching(/The name 'blobPath' does not refer to any known column/),
    );
  });
});

const mappings = mappingsOfScript(SETUP);
const mappingOf = (name: string): IngestionMapping => {
  const mapping = mappings.find((m) => m.name === name);
  if (!mapping) throw new Error(`setup.kql creates no ingestion mapping ${name}`);
  return mapping;
};

/** Whether a converted cell has the column's type (see adxMapping.ts for how each type is held). */
function hasColumnType(cell: unknown, type: string): boolean {
  switch (type) {
    case "string":
      return typeof cell === "string";
    case "int":
    case "long":
      return Number.isInteger(cell);
    case "real":
      return typeof cell === "number";
    case "bool":
      return typeof cell === "boolean";
    case "datetime":
      return cell instanceof Date && !Number.isNaN(cell.getTime());
    default:
      return cell !== undefined;
  }
}

/**
 * Ingests the records of a message through a mapping and checks each row: no silent NULL, every cell of its column's
 * type, NULL exactly where the event has no value. Returns the columns that got a value at least once.
 */
function ingestAndCheck(mapping: IngestionMapping, records: unknown[], columns: Column[]): Set<string> {
  const filled = new Set<string>();
  for (const record of records) {
    const row = applyMapping(mapping, record);
    expect(row.conversionFailures, JSON.stringify(record)).toEqual([]);
    for (const { name, type } of columns) {
      const cell = row.cells[name];
      if (cell === null) continue;
      expect(hasColumnType(cell, type), `${name}: ${JSON.stringify(cell)} is not ${type}`).toBe(true);
      filled.add(name);
    }
  }
  return filled;
}

/** Each mapping names every column of its table once, with the table's type. */
function expectMappingCoversTable(mapping: IngestionMapping): Column[] {
  const columns = schema.tables.get(mapping.table)!;
  expect(mapping.elements.map((e) => ({ name: e.column, type: e.datatype }))).toEqual(columns);
  return columns;
}

/** Enrichment as ARM would answer it, so that the four enrichment columns are exercised too. */
const enrich = (mac: string | null): EventEnrichment => {
  const group = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-app";
  return {
    nicId: `${group}/providers/Microsoft.Network/networkInterfaces/nic-${mac}`,
    vmId: `${group}/providers/Microsoft.Compute/virtualMachines/vm-${mac}`,
    subnetId: `${group}/providers/Microsoft.Network/virtualNetworks/vnet-app/subnets/default`,
    vnetId: `${group}/providers/Microsoft.Network/virtualNetworks/vnet-app`,
  };
};

/** The events of every sample, enriched. */
const sampleEvents = (): FlowEvent[] =>
  fixtureFiles().flatMap((file) => eventsOf(flattenFlowLog(readFixture(file), { enrich })));

describe("the FlowEventsJson mapping on events from the real flow-log samples", () => {
  const mapping = mappingOf("FlowEventsJson");

  it("maps every FlowEvents column from the schema 2 field of the same name, with the table's type", () => {
    const columns = expectMappingCoversTable(mapping);
    expect(mapping.elements.map((e) => e.Properties.Path)).toEqual(columns.map((c) => `$.${c.name}`));
  });

  it("fills every column with its type, one row per event, as JSON and as MULTIJSON (100 events a message)", (ctx) => {
    skipWithoutFixtures(ctx);
    const columns = schema.tables.get("FlowEvents")!;
    const events = sampleEvents();
    const encoded = events.map((event) => encodeEvent(event));
    const perMessage = 100;
    const multiJsonMessages = Array.from(
      { length: Math.ceil(encoded.length / perMessage) },
      (_, i) => `[${encoded.slice(i * perMessage, (i + 1) * perMessage).join(",")}]`,
    );

    const fromJson = encoded.flatMap((message) => recordsOf(message, "json"));
    const fromMultiJson = multiJsonMessages.flatMap((message) => recordsOf(message, "multijson"));
    const filled = ingestAndCheck(mapping, fromJson, columns);

    expect(events.length).toBeGreaterThan(500);
    expect(fromMultiJson).toEqual(fromJson);
    expect([...filled].sort()).toEqual(columns.map((c) => c.name).sort());
    const rows = fromJson.map((record) => applyMapping(mapping, record).cells);
    rows.forEach((row, i) => {
      for (const [field, value] of Object.entries(events[i]!)) expect(row[field] === null).toBe(value === null);
    });
    expect(rows.map((row) => (row.time as Date).toISOString())).toEqual(events.map((event) => event.time));
  });
});

/**
 * What FlowEventsFromCompact() does to the rows of one message (setup.kql): each event row (with an id) takes the
 * shared row its `shared` names for the shared columns, its own row for the others, in FlowEvents' column order.
 */
function flowEventsFromCompact(rows: Record<string, unknown>[], sharedColumns: ReadonlySet<string>, columns: Column[]) {
  const sharedRows = new Map(rows.filter((row) => row.id === null).map((row) => [row.shared, row]));
  return rows
    .filter((row) => row.id !== null)
    .map((row) => {
      const shared = sharedRows.get(row.shared);
      return Object.fromEntries(
        columns.map(({ name }) => [name, sharedColumns.has(name) ? (shared?.[name] ?? null) : row[name]]),
      );
    });
}

describe("the FlowEventsCompactJson mapping on compact messages the sink sends from the real samples", () => {
  const mapping = mappingOf("FlowEventsCompactJson");
  let eh: LocalEventHubsEndpoint | undefined;
  afterAll(async () => {
    await eh?.stop();
  });

  /** Sends the events through the real sink and client (compact, 100 a message); returns the stored messages. */
  async function compactMessagesOf(events: readonly FlowEvent[]): Promise<Buffer[]> {
    eh = await startEventHubsEndpoint({ hubs: [{ name: "flows", partitionCount: 2 }] });
    const sink = localSink(eh, "flows", { messageFormat: "compact", eventsPerMessage: 100 });
    try {
      // One key: one partition, so the messages read back in the order sent.
      await sink.send(events.map((event) => ({ id: event.id, ...sink.encode(event, 2), partitionKey: "k" })));
    } finally {
      await sink.close();
    }
    return eh.events("flows").map((message) => {
      expect(message.contentEncoding).toBe("gzip");
      return message.body as Buffer;
    });
  }

  it("maps every FlowEventsCompact column from the record field of the same name, with the table's type", () => {
    const columns = expectMappingCoversTable(mapping);
    expect(mapping.elements.map((e) => e.Properties.Path)).toEqual(columns.map((c) => `$.${c.name}`));
  });

  it("gunzipped: every column filled with its type; joined as the update policy joins: the JSON rows", async (ctx) => {
    skipWithoutFixtures(ctx);
    const events = sampleEvents();
    const flowColumns = schema.tables.get("FlowEvents")!;
    // Samples read without a blob path share ids across files: rows are compared in order.
    const plainRows = events.map((event) => applyMapping(mappingOf("FlowEventsJson"), JSON.parse(encodeEvent(event))));

    const messages = await compactMessagesOf(events);
    const records = messages.map((body) => recordsOf(gunzipSync(body).toString("utf8"), "multijson"));

    const filled = ingestAndCheck(mapping, records.flat(), schema.tables.get("FlowEventsCompact")!);
    const sharedColumns = new Set(Object.keys(records[0]!.find((r) => !("id" in (r as object))) as object));
    const joined = records.flatMap((ofMessage) =>
      flowEventsFromCompact(
        ofMessage.map((record) => applyMapping(mapping, record).cells),
        sharedColumns,
        flowColumns,
      ),
    );
    expect(messages.length).toBe(Math.ceil(events.length / 100));
    expect([...filled].sort()).toEqual([...mapping.elements.map((e) => e.column)].sort());
    expect(joined).toHaveLength(events.length);
    joined.forEach((row, index) => expect(row).toEqual(plainRows[index]!.cells));
  });
});

/** The alert-hub events docs/events.md shows (an anomaly and its capture report). */
function documentedAlertEvents(): unknown[] {
  const docs = readFileSync(join(__dirname, "../../docs/events.md"), "utf8");
  const blocks = [...docs.matchAll(/```json\n([\s\S]*?)\n```/g)].map(([, json]) => JSON.parse(json!) as unknown);
  return blocks.filter((event) => String((event as { type?: unknown }).type).startsWith("flowtap."));
}

/** A freshness event and a silence alert, as the reconcile timer reports them. */
function freshnessEvents(): unknown[] {
  const state = recordRange(emptyFreshnessState("INSIGHTS-LOGS-FLOWLOGFLOWEVENT/FLOWLOGRESOURCEID=/X"), {
    flowLog: "INSIGHTS-LOGS-FLOWLOGFLOWEVENT/FLOWLOGRESOURCEID=/X",
    lastTupleTimeIso: "2026-11-22T10:58:12.345Z",
    commitIso: "2026-11-22T11:01:00.000Z",
    tuples: 40,
    events: 40,
    bytes: 4000,
    dropped: 0,
    droppedByReason: {},
  });
  return reportFreshness(state, { nowIso: "2026-11-22T11:30:00.000Z", silentAfterSeconds: 900 }).events;
}

describe("the AlertsJson mapping on the alerts hub's events", () => {
  const mapping = mappingOf("AlertsJson");

  it("maps every Alerts column once, with the table's type, `payload` holding the whole event", () => {
    expectMappingCoversTable(mapping);
    expect(mapping.elements.find((e) => e.column === "payload")?.Properties.Path).toBe("$");
  });

  it("fills every column with its type from an anomaly, a capture report and the freshness events", () => {
    const events = [...documentedAlertEvents(), ...freshnessEvents()];
    const types = events.map((event) => (event as { type: string }).type);

    const filled = ingestAndCheck(
      mapping,
      recordsOf(JSON.stringify(events), "multijson"),
      schema.tables.get("Alerts")!,
    );

    expect(types).toEqual([
      "flowtap.anomaly",
      "flowtap.captureCompleted",
      "flowtap.freshness",
      "flowtap.flowLogSilent",
    ]);
    expect([...filled].sort()).toEqual(
      schema.tables
        .get("Alerts")!
        .map((c) => c.name)
        .sort(),
    );
  });
});

describe("docs/destinations.md", () => {
  it("names the tables and mappings the data connections need as setup.kql creates them", () => {
    const doc = readFileSync(join(__dirname, "../../docs/destinations.md"), "utf8");
    const row = (setting: string) => doc.split("\n").find((line) => line.startsWith(`| \`${setting}\``)) ?? "";

    expect(row("tableName")).toBe("| `tableName` | `FlowEventsCompact` (json: `FlowEvents`) | `Alerts` |");
    expect(row("mappingRuleName")).toBe(
      "| `mappingRuleName` | `FlowEventsCompactJson` (json: `FlowEventsJson`) | `AlertsJson` |",
    );
    expect(mappings.map((m) => [m.table, m.name])).toEqual([
      ["FlowEvents", "FlowEventsJson"],
      ["FlowEventsCompact", "FlowEventsCompactJson"],
      ["Alerts", "AlertsJson"],
    ]);
  });
});
