/**
 * `npm run package`: dist/flowtap.zip, what zip deploy uploads to the Function app. It holds host.json, a
 * package.json trimmed to what the Functions host reads, the compiled app (dist/src, dist/orchestrations,
 * dist/activities) and the production dependencies that package-lock.json names, copied from node_modules: npm has
 * already decided there which packages only development needs (`"dev": true`), so no registry is asked and the zip
 * holds exactly the versions the tests ran with. Nothing of devhost/, cli/, bench/ or test/ goes in.
 */
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { ZipFile } from "yazl";

/** The folders whose compiled code is deployed (package.json `main` is dist/src/app.js). */
export const DEPLOYED_FOLDERS = ["src", "orchestrations", "activities"] as const;

/** The package.json fields the Functions host and Node read; scripts, bin and dev dependencies stay behind. */
const DEPLOYED_PACKAGE_FIELDS = ["name", "version", "description", "license", "private", "type", "main", "engines"];

/** Dependency files Node never loads (source maps, typings, TypeScript sources, docs); licence texts stay. */
const NOT_LOADED = /\.(map|[cm]?ts|md)$/i;
const LICENCE = /^(licen[cs]e|notice|copying)/i;

/** Entries get one fixed time: packaging an unchanged tree again gives the same bytes. */
const ENTRY_TIME = new Date(Date.UTC(2000, 0, 1));

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
}

export interface PackageOptions {
  /** The repository: package.json, package-lock.json, host.json and node_modules/. */
  rootDir: string;
  /** Where the compiled app is: `<compiledDir>/src/app.js` and its siblings. */
  compiledDir: string;
  outFile: string;
}

export interface PackageResult {
  outFile: string;
  bytes: number;
  entries: number;
  /** Production packages copied from node_modules. */
  dependencies: number;
}

/** Files under `dir` (relative, `/`-separated, sorted), without nested node_modules folders. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && keep(entry.name))
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .filter((file) => !file.split("/").includes("node_modules"))
    .sort();
}

/** The installed production packages (lock paths such as `node_modules/@azure/functions`), checked against the lock. */
export function productionPackages(rootDir: string): string[] {
  const lock = JSON.parse(readFileSync(path.join(rootDir, "package-lock.json"), "utf8")) as {
    packages?: Record<string, LockEntry>;
  };
  const packages: string[] = [];
  for (const [lockPath, entry] of Object.entries(lock.packages ?? {})) {
    if (lockPath === "" || entry.dev) continue;
    if (entry.link) throw new Error(`package-lock.json: ${lockPath} is a link; the package cannot hold it`);
    const manifest = path.join(rootDir, lockPath, "package.json");
    if (!existsSync(manifest)) {
      if (entry.optional) continue; // an optional dependency for another platform
      throw new Error(`${lockPath}@${entry.version} is a production dependency but is not installed: run npm ci`);
    }
    const installed = (JSON.parse(readFileSync(manifest, "utf8")) as { version?: string }).version;
    if (installed !== entry.version) {
      throw new Error(`${lockPath} is ${installed} but package-lock.json says ${entry.version}: run npm ci`);
    }
    packages.push(lockPath);
  }
  return packages.sort();
}

function deployedPackageJson(rootDir: string): Buffer {
  const full = JSON.parse(readFileSync(path.join(rootDir, "package.json"), "utf8")) as Record<string, unknown>;
  const kept = Object.fromEntries(DEPLOYED_PACKAGE_FIELDS.filter((f) => f in full).map((f) => [f, full[f]]));
  return Buffer.from(`${JSON.stringify({ ...kept, dependencies: full.dependencies }, null, 2)}\n`);
}

/** Builds the zip; throws naming what is missing (an unbuilt app, an uninstalled dependency). */
export async function buildPackage(options: PackageOptions): Promise<PackageResult> {
  const { rootDir, compiledDir, outFile } = options;
  const entryPoint = path.join(compiledDir, "src", "app.js");
  if (!existsSync(entryPoint)) throw new Error(`${entryPoint} does not exist: build the app first (npm run build)`);
  const zip = new ZipFile();
  const add = (file: string, name: string) => zip.addFile(file, name, { mtime: ENTRY_TIME, mode: 0o100644 });
  let entries = 0;
  zip.addBuffer(deployedPackageJson(rootDir), "package.json", { mtime: ENTRY_TIME });
  add(path.join(rootDir, "host.json"), "host.json");
  entries += 2;
  for (const folder of DEPLOYED_FOLDERS) {
    const dir = path.join(compiledDir, folder);
    for (const file of filesUnder(dir, (name) => name.endsWith(".js"))) {
      add(path.join(dir, file), `dist/${folder}/${file}`);
      entries++;
    }
  }
  const packages = productionPackages(rootDir);
  for (const lockPath of packages) {
    const dir = path.join(rootDir, lockPath);
    for (const file of filesUnder(dir, (name) => LICENCE.test(name) || !NOT_LOADED.test(name))) {
      add(path.join(dir, file), `${lockPath}/${file}`);
      entries++;
    }
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(outFile));
  return { outFile, bytes: statSync(outFile).size, entries, dependencies: packages.length };
}

async function main(): Promise<void> {
  const rootDir = path.resolve(__dirname, "../..");
  const result = await buildPackage({
    rootDir,
    compiledDir: path.join(rootDir, "dist"),
    outFile: path.join(rootDir, "dist", "flowtap.zip"),
  });
  const megabytes = (result.bytes / 1024 / 1024).toFixed(1);
  process.stdout.write(
    `${path.relative(rootDir, result.outFile)}: ${megabytes} MiB (${result.bytes} bytes), ` +
      `${result.entries} files, ${result.dependencies} production packages\n`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`npm run package: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
