/**
 * Azurite (the real Blob and Table emulator) started in-process: in memory by default, on an
 * ephemeral port, with the API version check skipped (current SDKs send an `x-ms-version` newer
 * than Azurite accepts) and loose mode (unsupported headers ignored). Azurite's own logger stays
 * on its no-op strategy and its telemetry is never initialised (we never call its `main`).
 */
import { join } from "node:path";
import { logger } from "../src/logger";
import { indexAzuriteLookups } from "./azuriteLookups";

/** The emulator's well-known development account (public, documented; not a secret). */
export const DEV_STORE_ACCOUNT_NAME = "devstoreaccount1";
export const DEV_STORE_ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface StartAzuriteOptions {
  /** Folder for on-disk persistence; in memory when absent. */
  location?: string;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
}

export interface AzuriteInstance {
  /** e.g. `http://127.0.0.1:PORT/devstoreaccount1` */
  readonly blobEndpoint: string;
  readonly tableEndpoint: string;
  /** Connection string naming both endpoints; table clients need `allowInsecureConnection: true`. */
  readonly connectionString: string;
  readonly accountName: string;
  readonly accountKey: string;
  /** Closes both servers; in memory, their data goes with them. */
  stop(): Promise<void>;
}

/** The part of Azurite's servers we use (`ServerBase` in azurite/dist/src/common). */
interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
}
type ServerConstructor<C> = new (configuration: C) => AzuriteServer;
type ConfigurationConstructor = new (...args: unknown[]) => object;

/* Azurite ships no type declarations and its entry point starts the CLI, so its server classes
   are loaded from their dist paths, lazily: the import costs ≈ 0.4 s. */
/* eslint-disable @typescript-eslint/no-require-imports */
function loadAzurite() {
  indexAzuriteLookups();
  return {
    BlobServer: (require("azurite/dist/src/blob/BlobServer") as { default: ServerConstructor<object> }).default,
    BlobConfiguration: (require("azurite/dist/src/blob/BlobConfiguration") as { default: ConfigurationConstructor })
      .default,
    TableServer: (require("azurite/dist/src/table/TableServer") as { default: ServerConstructor<object> }).default,
    TableConfiguration: (require("azurite/dist/src/table/TableConfiguration") as { default: ConfigurationConstructor })
      .default,
    MemoryExtentChunkStore: (
      require("azurite/dist/src/common/persistence/MemoryExtentStore") as {
        MemoryExtentChunkStore: new (sizeLimitInBytes?: number) => object;
      }
    ).MemoryExtentChunkStore,
  };
}
/* eslint-enable @typescript-eslint/no-require-imports */

const ANY_PORT = 0;
const KEEP_ALIVE_TIMEOUT_IN_SECONDS = 5;

/** What both servers' configurations share: where they listen and where their data lives. */
interface ServerPlacement {
  host: string;
  inMemory: boolean;
  /** The path of one of its files (the bare name in memory). */
  at(file: string): string;
}

// Positional constructor arguments of BlobConfiguration / TableConfiguration, named.
const noAccessLog = false;
const noDebugLog = false;
const loose = true;
const skipApiVersionCheck = true;
const noOAuth = undefined;
const productStyleUrlDisabled = false;

/** Positional constructor arguments, in the order of BlobConfiguration (azurite/dist/src/blob). */
function blobConfigurationOf(azurite: ReturnType<typeof loadAzurite>, { host, inMemory, at }: ServerPlacement) {
  return new azurite.BlobConfiguration(
    host,
    ANY_PORT,
    KEEP_ALIVE_TIMEOUT_IN_SECONDS,
    at("__azurite_db_blob__.json"),
    at("__azurite_db_blob_extent__.json"),
    [{ locationId: "Default", locationPath: at("__blobstorage__"), maxConcurrency: 10 }],
    noAccessLog,
    undefined,
    noDebugLog,
    undefined,
    loose,
    skipApiVersionCheck,
    "",
    "",
    "",
    noOAuth,
    productStyleUrlDisabled,
    inMemory,
    // Own chunk store per instance (not Azurite's process-wide one), so its data goes with it.
    inMemory ? new azurite.MemoryExtentChunkStore() : undefined,
  );
}

/** Positional constructor arguments, in the order of TableConfiguration (azurite/dist/src/table). */
function tableConfigurationOf(azurite: ReturnType<typeof loadAzurite>, { host, inMemory, at }: ServerPlacement) {
  return new azurite.TableConfiguration(
    host,
    ANY_PORT,
    KEEP_ALIVE_TIMEOUT_IN_SECONDS,
    at("__azurite_db_table__.json"),
    noDebugLog,
    noAccessLog,
    undefined,
    undefined,
    loose,
    skipApiVersionCheck,
    "",
    "",
    "",
    noOAuth,
    productStyleUrlDisabled,
    inMemory,
  );
}

/** Starts Azurite Blob and Table servers in this process. */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteInstance> {
  const azurite = loadAzurite();
  const inMemory = options.location === undefined;
  const placement: ServerPlacement = {
    host: options.host ?? "127.0.0.1",
    inMemory,
    at: (file) => (inMemory ? file : join(options.location as string, file)),
  };
  const blobServer = new azurite.BlobServer(blobConfigurationOf(azurite, placement));
  const tableServer = new azurite.TableServer(tableConfigurationOf(azurite, placement));
  await blobServer.start();
  try {
    await tableServer.start();
  } catch (error) {
    await blobServer.close();
    throw error;
  }

  const blobEndpoint = `${blobServer.getHttpServerAddress()}/${DEV_STORE_ACCOUNT_NAME}`;
  const tableEndpoint = `${tableServer.getHttpServerAddress()}/${DEV_STORE_ACCOUNT_NAME}`;
  const where = inMemory ? "in memory" : `in ${options.location}`;
  logger.info(`Azurite started: blob ${blobEndpoint}, table ${tableEndpoint} (${where})`);
  let stopped = false;
  return {
    blobEndpoint,
    tableEndpoint,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${DEV_STORE_ACCOUNT_NAME};AccountKey=${DEV_STORE_ACCOUNT_KEY};` +
      `BlobEndpoint=${blobEndpoint};TableEndpoint=${tableEndpoint};`,
    accountName: DEV_STORE_ACCOUNT_NAME,
    accountKey: DEV_STORE_ACCOUNT_KEY,
    async stop() {
      if (stopped) return;
      stopped = true;
      // No clean(): in memory the data goes with the instance's own stores (Azurite's clean would
      // delete database files named relative to the working directory); on disk it stays.
      await Promise.all([blobServer.close(), tableServer.close()]);
      logger.info(`Azurite stopped: ${blobEndpoint}`);
    },
  };
}
