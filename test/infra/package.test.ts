/**
 * The deploy package: `buildPackage` (what `npm run package` runs) zips the app compiled from the current sources
 * with its production dependencies. Unpacked into an empty folder and started on a clean Node the way the Functions
 * Node.js worker starts an app, with the zip's own @azure/functions and durable-functions, it registers every
 * function the source app registers, with the same triggers, routes and auth levels, and its start hooks accept the
 * settings the template deploys.
 */
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as yauzl from "yauzl";
import { buildPackage, type PackageResult } from "../../infra/package";
import { loadApp, summarizeRegistrations, type RegistrationSummary } from "../../devhost/host/registry";
import { TemplateContext, type Json } from "./armTemplate";

const ROOT = join(__dirname, "../..");
const readJson = <T>(file: string) => JSON.parse(readFileSync(file, "utf8")) as T;

/** Unpacks every entry of the zip under `dir`. */
async function unzip(zipFile: string, dir: string): Promise<string[]> {
  const zip = await yauzl.openPromise(zipFile);
  const names: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      names.push(entry.fileName);
      const target = join(dir, entry.fileName);
      mkdirSync(dirname(target), { recursive: true });
      await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(target));
    }
  } finally {
    zip.close();
  }
  return names;
}

/**
 * Starts the app in the current folder as the Functions Node.js worker does (azure-functions-nodejs-worker:
 * src/setupCoreModule.ts, src/startApp.ts, src/coreApi/registerFunction.ts): `@azure/functions-core` is served by a
 * require hook, package.json `main` is loaded, then the appStart hooks run. Prints the raw bindings the worker would
 * send to the host.
 */
const WORKER = [
  "const Module = require('node:module');",
  "const path = require('node:path');",
  "const functions = []; const hooks = {}; let model;",
  "class Disposable { constructor(f) { this.f = f; } dispose() { this.f(); } }",
  "const coreApi = { version: '3.10.1', hostVersion: '4.1037.0', Disposable,",
  "  registerHook: (name, callback) => { (hooks[name] ??= []).push(callback); return new Disposable(() => {}); },",
  "  setProgrammingModel: (m) => { model = m; }, getProgrammingModel: () => model,",
  "  registerFunction: (metadata) => {",
  "    functions.push({ name: metadata.name,",
  "      rawBindings: Object.entries(metadata.bindings).map(([name, b]) => ({ ...b, name })) });",
  "    return new Disposable(() => {}); } };",
  "Module.prototype.require = new Proxy(Module.prototype.require, { apply(target, self, args) {",
  "  return args[0] === '@azure/functions-core' ? coreApi : Reflect.apply(target, self, args); } });",
  "const appDir = process.cwd();",
  "require(path.join(appDir, require(path.join(appDir, 'package.json')).main));",
  "(async () => {",
  "  const context = { hookData: {}, appHookData: {}, functionAppDirectory: appDir };",
  "  for (const hook of hooks.appStart ?? []) await hook(context);",
  "  const durable = require.resolve('durable-functions', { paths: [appDir] });",
  "  const modules = { durableFunctions: durable,",
  "    azureFunctions: require.resolve('@azure/functions', { paths: [appDir] }),",
  "    azureFunctionsOfDurable: require.resolve('@azure/functions', { paths: [path.dirname(durable)] }) };",
  "  process.stdout.write(JSON.stringify({ functions, modules, model: model && model.name }));",
  "})().catch((error) => { process.stderr.write(String(error && error.stack)); process.exitCode = 1; });",
].join("\n");

interface WorkerBinding {
  name: string;
  type: string;
  direction: "in" | "out";
  route?: string;
  methods?: string[];
  authLevel?: string;
  schedule?: string;
}
interface WorkerReport {
  functions: { name: string; rawBindings: WorkerBinding[] }[];
  modules: Record<string, string>;
  model: string;
}

/** The worker's bindings in the shape the local host's registrations are summarized in. */
function summarize(report: WorkerReport): RegistrationSummary[] {
  return report.functions
    .map(({ name, rawBindings }) => {
      const trigger = rawBindings.find((b) => b.direction === "in" && b.type.endsWith("Trigger"))!;
      const summary: RegistrationSummary = {
        name,
        triggerType: trigger.type,
        extraInputTypes: rawBindings.filter((b) => b.direction === "in" && b !== trigger).map((b) => b.type),
        extraOutputTypes: rawBindings.filter((b) => b.direction === "out" && b.name !== "$return").map((b) => b.type),
      };
      if (trigger.type === "httpTrigger") {
        summary.route = trigger.route ?? name;
        summary.methods = trigger.methods;
        summary.authLevel = trigger.authLevel;
      }
      if (trigger.schedule !== undefined) summary.schedule = trigger.schedule;
      return summary;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The app settings infra/main.json deploys with its example parameters (what the app starts with in Azure). */
function templateSettings(): Record<string, string> {
  const template = readJson<Record<string, Json>>(join(ROOT, "infra/main.json"));
  const example = readJson<{ parameters: Record<string, { value: Json }> }>(
    join(ROOT, "infra/main.parameters.example.json"),
  );
  const parameters = Object.fromEntries(Object.entries(example.parameters).map(([k, v]) => [k, v.value]));
  const context = new TemplateContext(template as never, parameters, {
    subscriptionId: "00000000-0000-0000-0000-000000000001",
    resourceGroup: "rg-flowtap",
    location: "westeurope",
  });
  const config = (template.resources as { type: string; properties: Json }[]).find(
    (r) => r.type === "Microsoft.Web/sites/config",
  )!;
  return Object.fromEntries(Object.entries(context.evaluate(config.properties) as object).map(([k, v]) => [k, `${v}`]));
}

/** Package folders (`node_modules/a`, `node_modules/@s/b`, nested ones) that hold a package.json in the zip. */
function packagesIn(entries: string[]): Set<string> {
  return new Set(
    entries
      .map((name) => /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\/package\.json$/.exec(name)?.[1])
      .filter((name): name is string => name !== undefined),
  );
}

/**
 * What Node can reach from package.json `dependencies`, walking the installed tree the way require() resolves
 * (node_modules of the requiring package, then of each parent): the production closure, independent of the lock's
 * `dev` flags the package is built from.
 */
function productionClosure(): Set<string> {
  const manifest = (dir: string) =>
    readJson<{ dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>(
      join(ROOT, dir, "package.json"),
    );
  const resolve = (from: string, name: string): string | undefined => {
    for (let dir = from; ; dir = dir.replace(/\/?node_modules\/(?:@[^/]+\/)?[^/]+$/, "")) {
      const candidate = `${dir ? `${dir}/` : ""}node_modules/${name}`;
      try {
        readFileSync(join(ROOT, candidate, "package.json"));
        return candidate;
      } catch {
        if (dir === "") return undefined;
      }
    }
  };
  const reached = new Set<string>();
  const visit = (from: string) => {
    const { dependencies = {}, optionalDependencies = {} } = manifest(from);
    for (const name of Object.keys({ ...dependencies, ...optionalDependencies })) {
      const found = resolve(from, name);
      if (found && !reached.has(found)) {
        reached.add(found);
        visit(found);
      }
    }
  };
  visit("");
  return reached;
}

let workDir: string;
let result: PackageResult;
let entries: string[];
let appDir: string;

beforeAll(async () => {
  // Prepare: compile the deployed folders from the current sources, package them, unpack into an empty folder.
  workDir = mkdtempSync(join(tmpdir(), "flowtap-package-"));
  execFileSync(process.execPath, [
    require.resolve("typescript/bin/tsc"),
    "-p",
    join(ROOT, "infra/tsconfig.app.json"),
    "--outDir",
    join(workDir, "compiled"),
  ]);
  result = await buildPackage({
    rootDir: ROOT,
    compiledDir: join(workDir, "compiled"),
    outFile: join(workDir, "flowtap.zip"),
  });
  appDir = join(workDir, "app");
  mkdirSync(appDir);
  entries = await unzip(result.outFile, appDir);
}, 120_000);

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe("npm run package (dist/flowtap.zip)", () => {
  it("holds host.json, package.json, the compiled deployed folders and node_modules, nothing else", () => {
    const topLevel = new Set(entries.map((name) => name.split("/")[0]));
    const compiled = new Set(entries.filter((n) => n.startsWith("dist/")).map((n) => n.split("/")[1]));

    expect(topLevel).toEqual(new Set(["host.json", "package.json", "dist", "node_modules"]));
    expect(compiled).toEqual(new Set(["src", "orchestrations", "activities"]));
    expect(entries.filter((n) => n.startsWith("dist/") && !n.endsWith(".js"))).toEqual([]);
    expect(readdirSync(appDir).sort()).toEqual(["dist", "host.json", "node_modules", "package.json"]);
    expect(result.bytes).toBeGreaterThan(0);
  });

  it("holds exactly the packages production code can reach: no emulator, test or dev tool", () => {
    const packed = packagesIn(entries);
    const devOnly = Object.keys(readJson<{ devDependencies: object }>(join(ROOT, "package.json")).devDependencies);

    expect(packed).toEqual(productionClosure());
    for (const tool of ["azurite", "selfsigned", "vitest", "typescript", "eslint", "yazl", "@azure/data-tables"]) {
      expect(devOnly).toContain(tool);
      expect(packed.has(`node_modules/${tool}`), tool).toBe(false);
    }
  });

  it("ships a package.json with the entry point and production dependencies only", () => {
    const shipped = readJson<Record<string, unknown>>(join(appDir, "package.json"));
    const source = readJson<Record<string, unknown>>(join(ROOT, "package.json"));

    expect(shipped.main).toBe("dist/src/app.js");
    expect(shipped.dependencies).toEqual(source.dependencies);
    expect(shipped).not.toHaveProperty("devDependencies");
    expect(shipped).not.toHaveProperty("scripts");
  });

  it("starts on a clean Node with its own packages and registers every function as the source app does", async () => {
    const { registrations } = await loadApp({ modulePath: join(ROOT, "src/app.ts") });

    // Act: a clean process in the unpacked folder, with the settings the template deploys.
    const output = execFileSync(process.execPath, ["-e", WORKER], {
      cwd: appDir,
      env: { PATH: process.env.PATH, ...templateSettings() },
      encoding: "utf8",
    });
    const report = JSON.parse(output) as WorkerReport;

    expect(report.model).toBe("@azure/functions");
    for (const path of Object.values(report.modules)) expect(path.startsWith(appDir), path).toBe(true);
    expect(report.modules.azureFunctionsOfDurable).toBe(report.modules.azureFunctions);
    expect(summarize(report)).toEqual(summarizeRegistrations(registrations));
    expect(summarize(report).filter((f) => f.triggerType === "httpTrigger" && !f.authLevel)).toEqual([]);
  });
});
