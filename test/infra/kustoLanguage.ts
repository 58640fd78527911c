/**
 * Kusto's own parser and binder (`@kusto/language-service-next`, Kusto.Language compiled to JavaScript by Bridge.NET)
 * with a database schema: the one infra/adx/setup.kql creates (its tables, functions and materialized view), or the
 * Log Analytics table flowtap writes to.
 * The package is a global bundle: bridge.js exports the Bridge runtime, and Kusto.Language.Bridge.js registers the
 * `Kusto` namespace on the global object through a global `Bridge`. The few members used here are typed below from
 * the package's Kusto.Language.Bridge.d.ts (its global declarations are not a module TypeScript can import).
 */
import { createRequire } from "node:module";

interface BridgeList<T> {
  Count: number;
  getItem(index: number): T;
}
export interface KustoDiagnostic {
  Severity: string;
  Message: string;
  Start: number;
}
interface KustoCode {
  Kind: string;
  ResultType: { Columns?: BridgeList<{ Name: string; Type: { Name: string } }> } | null;
  GetDiagnostics(): BridgeList<KustoDiagnostic>;
}
/** Opaque: symbols only travel from their constructors into DatabaseSymbol and GlobalState. */
type KustoSymbol = object;
export interface GlobalState {
  WithDatabase(database: KustoSymbol): GlobalState;
  /** Ambient parameters: names every query may use, as a dashboard's parameters are. */
  WithParameters(parameters: KustoSymbol[]): GlobalState;
}
interface KustoLanguage {
  GlobalState: { Default: GlobalState };
  KustoCode: { ParseAndAnalyze(text: string, globals: GlobalState): KustoCode };
  Symbols: {
    TableSymbol: { $ctor7: new (name: string, schema: string, description: string | null) => KustoSymbol };
    FunctionSymbol: {
      $ctor14: new (name: string, body: string, parameters: KustoSymbol[]) => KustoSymbol;
    };
    MaterializedViewSymbol: {
      $ctor3: new (name: string, schema: string, query: string, description: string | null) => KustoSymbol;
    };
    DatabaseSymbol: { $ctor2: new (name: string, alternateName: null, members: KustoSymbol[]) => KustoSymbol };
    ParameterSymbol: new (name: string, type: KustoSymbol, description: string | null) => KustoSymbol;
    ScalarTypes: Record<ScalarTypeName, KustoSymbol>;
  };
}

/** The ScalarTypes members (Kusto.Language.Symbols.ScalarTypes) a parameter here may have. */
export type ScalarTypeName = "DateTime" | "TimeSpan" | "String" | "Long" | "Real" | "Bool";

function loadKustoLanguage(): KustoLanguage {
  const load = createRequire(__filename);
  const global = globalThis as { Bridge?: unknown; Kusto?: { Language: KustoLanguage } };
  global.Bridge ??= load("@kusto/language-service-next/bridge.js");
  load("@kusto/language-service-next/Kusto.Language.Bridge.js");
  if (!global.Kusto) throw new Error("@kusto/language-service-next did not register the global Kusto namespace");
  return global.Kusto.Language;
}

export const Kusto = loadKustoLanguage();

export interface Column {
  name: string;
  type: string;
}
export interface DatabaseSchema {
  tables: Map<string, Column[]>;
  functions: Map<string, string>;
  views: Map<string, { source: string; query: string }>;
}

/** A column name as a schema string or a query may write it: bracketed, so keywords such as `time` are names too. */
const bracketed = (name: string): string => `['${name}']`;
const schemaOf = (columns: Column[]): string => `(${columns.map((c) => `${bracketed(c.name)}:${c.type}`).join(", ")})`;
const unbracket = (name: string): string => name.replace(/^\['(.*)'\]$/, "$1");

/** The tables, parameterless functions and materialized views a setup script creates (its own layout). */
export function schemaOfScript(script: string): DatabaseSchema {
  const tables = new Map<string, Column[]>();
  for (const [, name, body] of script.matchAll(/^\.create-merge table (\w+) \(\n([\s\S]*?)\n\)/gm)) {
    const columns = body!.split(",\n").map((line) => {
      const [column, type] = line.trim().split(/:\s*/);
      return { name: unbracket(column!), type: type! };
    });
    tables.set(name!, columns);
  }
  const functions = new Map<string, string>();
  for (const [, name, body] of script.matchAll(/^(\w+)\(\) \{\n([\s\S]*?)\n\}/gm)) functions.set(name!, body!);
  const views = new Map<string, { source: string; query: string }>();
  for (const [, name, source, query] of script.matchAll(
    /materialized-view .*?(\w+) on table (\w+)\n\{\n([\s\S]*?)\n\}/g,
  )) {
    views.set(name!, { source: source!, query: query! });
  }
  return { tables, functions, views };
}

/** Errors only: warnings and suggestions (style hints) do not make a query wrong. */
export function errorsOf(text: string, globals: GlobalState): string[] {
  const diagnostics = Kusto.KustoCode.ParseAndAnalyze(text, globals).GetDiagnostics();
  const errors: string[] = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    if (d.Severity === "Error") errors.push(`${d.Message} (at ${lineAndColumn(text, d.Start)})`);
  }
  return errors;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

/** The columns a query returns, as the binder types them. */
export function resultColumnsOf(query: string, globals: GlobalState): Column[] {
  const columns = Kusto.KustoCode.ParseAndAnalyze(query, globals).ResultType?.Columns;
  if (!columns) throw new Error(`not a tabular query: ${query}`);
  return Array.from({ length: columns.Count }, (_, i) => columns.getItem(i)).map((c) => ({
    name: c.Name,
    type: c.Type.Name,
  }));
}

/** A database named `flowtap` holding the schema, as a GlobalState queries bind against. */
export function globalStateOf(schema: DatabaseSchema): GlobalState {
  const { TableSymbol, FunctionSymbol, MaterializedViewSymbol, DatabaseSymbol } = Kusto.Symbols;
  const tables = [...schema.tables].map(([name, columns]) => new TableSymbol.$ctor7(name, schemaOf(columns), null));
  const withTables = Kusto.GlobalState.Default.WithDatabase(new DatabaseSymbol.$ctor2("flowtap", null, tables));
  const functions = [...schema.functions].map(([name, body]) => new FunctionSymbol.$ctor14(name, `{ ${body} }`, []));
  // A view's columns are its query's result, bound against the tables.
  const views = [...schema.views].map(
    ([name, { query }]) =>
      new MaterializedViewSymbol.$ctor3(name, schemaOf(resultColumnsOf(query, withTables)), query, null),
  );
  return Kusto.GlobalState.Default.WithDatabase(
    new DatabaseSymbol.$ctor2("flowtap", null, [...tables, ...functions, ...views]),
  );
}

/** The globals with scalar parameters declared, as a dashboard declares its parameters to every tile's query. */
export function withScalarParameters(globals: GlobalState, parameters: Record<string, ScalarTypeName>): GlobalState {
  const { ParameterSymbol, ScalarTypes } = Kusto.Symbols;
  return globals.WithParameters(
    Object.entries(parameters).map(([name, type]) => new ParameterSymbol(name, ScalarTypes[type], null)),
  );
}
