/**
 * infra/loganalytics read by Kusto's own language service: the rule's transformation, the hunting queries and every
 * query of the workbook parse and bind without errors against ASimNetworkSessionLogs as flowtap fills it (the
 * columns src/core/asim/networkSessionColumns.ts lists, plus those the service adds) and FlowtapAlerts_CL (the
 * columns of src/core/alertsTable.ts), so an unknown column or a type
 * error fails. The transformation turns the rule's input stream into exactly the table's columns and types.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ASIM_NETWORK_SESSION_TABLE, NETWORK_SESSION_COLUMNS } from "../../src/core/asim/networkSessionColumns";
import { ALERTS_COLUMNS, ALERTS_TABLE } from "../../src/core/alertsTable";
import { kqlWithoutComments } from "../../infra/logAnalytics";
import { errorsOf, globalStateOf, resultColumnsOf, type Column, type GlobalState } from "./kustoLanguage";

const LA_DIR = join(__dirname, "../../infra/loganalytics");
const read = (file: string) => readFileSync(join(LA_DIR, file), "utf8");

/** A Log Analytics column type as Kusto's schema strings write it (the DCR says `boolean`, Kusto `bool`). */
const kustoType = (type: string) => (type === "boolean" ? "bool" : type);
const STREAM_COLUMNS: Column[] = NETWORK_SESSION_COLUMNS.map((c) => ({ name: c.name, type: kustoType(c.type) }));
/** FlowtapAlerts_CL as the template creates it (src/core/alertsTable.ts). */
const ALERTS_TABLE_COLUMNS: Column[] = ALERTS_COLUMNS.map((c) => ({ name: c.name, type: kustoType(c.type) }));
/** Columns Log Analytics adds to every row (learn.microsoft.com/azure/azure-monitor/logs/log-standard-columns). */
const SERVICE_COLUMNS: Column[] = [
  { name: "TenantId", type: "string" },
  { name: "Type", type: "string" },
  { name: "SourceSystem", type: "string" },
  { name: "_ResourceId", type: "string" },
];

const noOtherObjects = { functions: new Map<string, string>(), views: new Map() };
let workspace: GlobalState;
/** What a transformation sees: its input stream as the table `source`. */
let ingestion: GlobalState;

beforeAll(() => {
  workspace = globalStateOf({
    tables: new Map([
      [ASIM_NETWORK_SESSION_TABLE, [...STREAM_COLUMNS, ...SERVICE_COLUMNS]],
      [ALERTS_TABLE, [...ALERTS_TABLE_COLUMNS, ...SERVICE_COLUMNS]],
    ]),
    ...noOtherObjects,
  });
  ingestion = globalStateOf({ tables: new Map([["source", STREAM_COLUMNS]]), ...noOtherObjects });
});

/** A query file's queries: one per paragraph; a paragraph of comments only (the file's header) is not a query. */
function queriesOf(text: string): string[] {
  return text.split(/\n\s*\n/).filter((p) => p.split("\n").some((l) => l.trim() && !l.startsWith("//")));
}

describe("infra/loganalytics KQL binds against ASimNetworkSessionLogs as flowtap fills it", () => {
  it("holds the transformation, the hunting queries and the workbook, nothing else", () => {
    expect(readdirSync(LA_DIR).sort()).toEqual(["hunting.kql", "transform.kql", "workbook.json"]);
  });

  it("the transformation binds against the rule's stream and yields exactly the table's columns and types", () => {
    const transform = kqlWithoutComments(read("transform.kql"));

    expect(errorsOf(transform, ingestion)).toEqual([]);
    expect(resultColumnsOf(transform, ingestion)).toEqual(STREAM_COLUMNS);
  });

  const hunting = queriesOf(read("hunting.kql"));
  it.each(hunting.map((query) => [query.split("\n")[0]!, query]))("hunting.kql: %s", (_title, query) => {
    expect(errorsOf(query, workspace)).toEqual([]);
  });

  it("the hunting queries include the documented ones, the de-duplication by flowtap event id first", () => {
    const titles = hunting.map((q) => q.split("\n")[0]!);

    expect(hunting[0]).toContain("| summarize arg_max(TimeGenerated, *) by EventOriginalUid");
    for (const topic of ["De-duplicated", "Redelivered", "Top talkers", "Denied flows by rule", "Scans and brute"]) {
      expect(
        titles.some((t) => t.startsWith(`// ${topic}`)),
        topic,
      ).toBe(true);
    }
    for (const topic of ["Unencrypted VNet flows", "Traffic of one VM", "Freshness per flow log", "Alerts and their"]) {
      expect(
        titles.some((t) => t.startsWith(`// ${topic}`)),
        topic,
      ).toBe(true);
    }
  });

  it("an unknown column, a type error or an unknown table fails", () => {
    expect(errorsOf("ASimNetworkSessionLogs | where SrcPort == 22", workspace)).toEqual([
      expect.stringMatching(/The name 'SrcPort' does not refer to any known column/),
    ]);
    expect(errorsOf('ASimNetworkSessionLogs | where SrcBytes > "many"', workspace)).toEqual([
      expect.stringMatching(/operator '>' is not defined for the operand types long and string/),
    ]);
    expect(errorsOf("CommonSecurityLog | take 1", workspace)).toHaveLength(1);
    expect(errorsOf(hunting[0]!.replace("by EventOriginalUid", "by EventId"), workspace)).toEqual([
      expect.stringMatching(/The name 'EventId' does not refer to any known column/),
    ]);
    expect(errorsOf('FlowtapAlerts_CL | where CaptureId == "x"', workspace)).toEqual([
      expect.stringMatching(/The name 'CaptureId' does not refer to any known column/),
    ]);
  });
});

/**
 * The parts of an Azure Monitor workbook (schema "Notebook/1.0", github.com/microsoft/Application-Insights-Workbooks
 * schema/workbook.json) the test reads: items of type 1 (text), 3 (query) and 9 (parameters).
 */
interface Workbook {
  version: string;
  items: {
    type: number;
    name: string;
    content: {
      title?: string;
      query?: string;
      queryType?: number;
      timeContextFromParameter?: string;
      parameters?: { name: string; type: number }[];
    };
  }[];
}

describe("infra/loganalytics/workbook.json (an Azure Monitor / Sentinel workbook)", () => {
  const workbook = JSON.parse(read("workbook.json")) as Workbook;
  const queries = workbook.items.filter((item) => item.type === 3);
  const parameters = workbook.items.flatMap((item) => (item.type === 9 ? item.content.parameters! : []));

  it("is a Notebook/1.0 workbook whose item names are unique, with one time range parameter", () => {
    const names = workbook.items.map((item) => item.name);

    expect(workbook.version).toBe("Notebook/1.0");
    expect(new Set(names).size).toBe(names.length);
    // Type 4 is the time range picker.
    expect(parameters).toEqual([expect.objectContaining({ name: "TimeRange", type: 4 })]);
  });

  it("every query is a Logs query scoped by the time range, with no text parameter left to substitute", () => {
    for (const { content } of queries) {
      expect(content.queryType, content.title).toBe(0);
      expect(content.timeContextFromParameter, content.title).toBe("TimeRange");
      expect(content.query, content.title).not.toMatch(/\{\w+(:\w+)?\}/);
    }
  });

  it("lists each alert with its captures, joined by the alert id, on one row", () => {
    const joined = queries.find((item) => item.name === "alerts-and-captures")!.content.query!;

    const columns = resultColumnsOf(joined, workspace).map((column) => column.name);

    expect(columns).toEqual(expect.arrayContaining(["alertTime", "AlertId", "AlertRule", "TargetMac"]));
    expect(columns).toEqual(
      expect.arrayContaining(["captureOutcome", "CaptureStatus", "CaptureFileUrl", "captureAfter"]),
    );
    expect(columns.filter((name) => name.startsWith("AlertId"))).toEqual(["AlertId"]);
  });

  it.each(queries.map((item) => [item.content.title!, item.content.query!]))("binds: %s", (_title, query) => {
    expect(errorsOf(query, workspace)).toEqual([]);
  });

  it("shows traffic by VM and subnet, denied flows, the freshness of each flow log, alerts and their captures", () => {
    const titles = queries.map((item) => item.content.title!);

    for (const topic of [
      "Traffic by VM",
      "Traffic by subnet",
      "Denied flows by rule",
      "Freshness per flow log",
      "Alerts and their captures over time",
      "Alerts and their captures (each alert",
    ]) {
      expect(
        titles.some((t) => t.startsWith(topic)),
        topic,
      ).toBe(true);
    }
  });
});

describe("docs/destinations.md's Log Analytics queries", () => {
  const section = readFileSync(join(__dirname, "../../docs/destinations.md"), "utf8").split(
    "## Log Analytics and Microsoft Sentinel",
  )[1]!;
  const blocks = [...section.matchAll(/```kusto\n([\s\S]*?)\n```/g)].map(([, query]) => query!);

  it.each(blocks.map((query, i) => [i + 1, query]))("query %i binds", (_index, query) => {
    expect(errorsOf(query, workspace)).toEqual([]);
  });

  it("show the de-duplication the hunting queries use", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(blocks.some((query) => query.includes("| summarize arg_max(TimeGenerated, *) by EventOriginalUid"))).toBe(
      true,
    );
  });
});
