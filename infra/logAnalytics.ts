/**
 * The Log Analytics part of infra/main.json takes four things from files, so each has one source: the columns of
 * the data collection rule's input stream (src/core/asim/networkSessionColumns.ts, what the sink sends), its
 * transformation (infra/loganalytics/transform.kql), the columns of the alerts stream and of the custom table
 * FlowtapAlerts_CL (src/core/alertsTable.ts) and the workbook (infra/loganalytics/workbook.json, embedded as
 * the `serializedData` string a Microsoft.Insights/workbooks resource takes). They live in the template's variables
 * `logAnalyticsColumns`, `logAnalyticsTransformKql`, `logAnalyticsAlertsColumns` (and `logAnalyticsAlertsTableColumns`,
 * the same for the table) and `logAnalyticsWorkbook`.
 *
 * `npm run build --silent && node dist/infra/logAnalytics.js` writes them into infra/main.json after a change;
 * test/infra/logAnalytics.test.ts fails while the template differs from the files.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { format, resolveConfig } from "prettier";
import { ALERTS_COLUMNS } from "../src/core/alertsTable";
import { NETWORK_SESSION_COLUMNS, type LogAnalyticsColumn } from "../src/core/asim/networkSessionColumns";

export interface LogAnalyticsSources {
  columns: readonly LogAnalyticsColumn[];
  /** The transformation as the rule takes it: the file without its comment lines. */
  transformKql: string;
  /** The alerts stream's columns. */
  alertsColumns: readonly LogAnalyticsColumn[];
  /** The same columns as the table takes them (its own spelling of the types). */
  alertsTableColumns: readonly { name: string; type: string }[];
  /** The workbook, compact, as `serializedData`. */
  workbook: string;
}

/** KQL without `//` comment lines and surrounding blank space (the rule's transformKql holds the query only). */
export function kqlWithoutComments(text: string): string {
  return text
    .split("\n")
    .filter((line) => !line.trim().startsWith("//"))
    .join("\n")
    .trim();
}

/**
 * A column type as Microsoft.OperationalInsights/workspaces/tables spells it: its ColumnTypeEnum writes `dateTime`
 * where the DCR's stream declaration writes `datetime` (Azure/azure-rest-api-specs, OperationalInsights Tables.json).
 */
export function tableColumnType(type: LogAnalyticsColumn["type"]): string {
  return type === "datetime" ? "dateTime" : type;
}

export function readLogAnalyticsSources(rootDir: string): LogAnalyticsSources {
  const read = (file: string) => readFileSync(path.join(rootDir, "infra/loganalytics", file), "utf8");
  return {
    columns: NETWORK_SESSION_COLUMNS.map(({ name, type }) => ({ name, type })),
    transformKql: kqlWithoutComments(read("transform.kql")),
    alertsColumns: ALERTS_COLUMNS.map(({ name, type }) => ({ name, type })),
    alertsTableColumns: ALERTS_COLUMNS.map(({ name, type }) => ({ name, type: tableColumnType(type) })),
    workbook: JSON.stringify(JSON.parse(read("workbook.json"))),
  };
}

type Template = { variables: Record<string, unknown> } & Record<string, unknown>;

/** The template with the sources in its variables (a copy; nothing else changes). */
export function withLogAnalyticsSources(template: Template, sources: LogAnalyticsSources): Template {
  return {
    ...template,
    variables: {
      ...template.variables,
      logAnalyticsColumns: sources.columns,
      logAnalyticsTransformKql: sources.transformKql,
      logAnalyticsAlertsColumns: sources.alertsColumns,
      logAnalyticsAlertsTableColumns: sources.alertsTableColumns,
      logAnalyticsWorkbook: sources.workbook,
    },
  };
}

async function main(): Promise<void> {
  const rootDir = path.resolve(__dirname, "../..");
  const file = path.join(rootDir, "infra/main.json");
  const template = JSON.parse(readFileSync(file, "utf8")) as Template;
  const updated = withLogAnalyticsSources(template, readLogAnalyticsSources(rootDir));
  writeFileSync(
    file,
    await format(JSON.stringify(updated, null, 2), { ...(await resolveConfig(file)), filepath: file }),
  );
  process.stdout.write(
    `${path.relative(rootDir, file)}: Log Analytics columns, transformation, alerts columns and workbook written\n`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`infra/logAnalytics: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
