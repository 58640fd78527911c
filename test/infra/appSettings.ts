/**
 * The settings the deployed code reads, found in its source (src/config.ts's `read*(env, "NAME")` and connections,
 * `process.env.NAME` anywhere deployed), and those the template must leave unset or sets only with an optional part.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "../..");

/** Every TypeScript file that ships to Azure. */
export function deployedSourceFiles(): string[] {
  return ["src", "orchestrations", "activities"].flatMap((folder) =>
    readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".ts"))
      .map((name) => join(ROOT, folder, name)),
  );
}

/** Every setting name the code reads: `read*(env, "NAME")` and connections (src/config.ts), process.env (anywhere). */
export function settingsTheCodeReads(): Set<string> {
  const config = readFileSync(join(ROOT, "src/config.ts"), "utf8");
  const names = new Set([...config.matchAll(/\(env, "([A-Za-z_]+)"/g)].map((m) => m[1]!));
  for (const [, prefix, suffix] of config.matchAll(/readConnection\(env, "([A-Za-z]+)", "([A-Za-z]+)"\)/g)) {
    names.add(`${prefix}__${suffix}`);
    names.add(`${prefix}__clientId`);
  }
  for (const file of deployedSourceFiles()) {
    const text = readFileSync(file, "utf8");
    for (const [, name] of text.matchAll(/process\.env\.([A-Za-z_]+)/g)) names.add(name!);
  }
  return names;
}

/** Settings the code reads that Azure must not set, and why. */
export const NOT_FOR_AZURE: Record<string, string> = {
  FlowLogsStorage: "a connection string holds a key: the identity-based FlowLogsStorage__blobServiceUri is used",
  EventHubsConnection: "a connection string holds a key: EventHubsConnection__fullyQualifiedNamespace is used",
  FlowLogsStorage__clientId: "only for a user-assigned identity; the app uses its system-assigned one",
  EventHubsConnection__clientId: "only for a user-assigned identity; the app uses its system-assigned one",
  FLOWTAP_ARM_CLIENT_ID: "only for a user-assigned identity; the app uses its system-assigned one",
  FLOWTAP_ARM_DEV_TOKEN: "the local ARM endpoint's token, refused for any non-loopback endpoint",
  FLOWTAP_ARM_CA_CERT: "trust for the local ARM endpoint's self-signed certificate",
  FLOWTAP_ARM_CA_CERT_FILE: "trust for the local ARM endpoint's self-signed certificate",
  FLOWTAP_LOGS_INGESTION_CLIENT_ID: "only for a user-assigned identity; the app uses its system-assigned one",
  FLOWTAP_LOGS_INGESTION_DEV_TOKEN: "the local Logs Ingestion endpoint's token, refused for any non-loopback endpoint",
  FLOWTAP_LOGS_INGESTION_CA_CERT: "trust for the local Logs Ingestion endpoint's self-signed certificate",
  FLOWTAP_RULES_FILE: "a path on the local disk; FLOWTAP_RULES carries rules in Azure (both set is an error)",
};

/** Settings of the Log Analytics sink's destination: the template sets them only with its Log Analytics part. */
export const ONLY_WITH_LOG_ANALYTICS = [
  "FLOWTAP_LOGS_INGESTION_ENDPOINT",
  "FLOWTAP_DCR_IMMUTABLE_ID",
  "FLOWTAP_DCR_STREAM",
  "FLOWTAP_DCR_ALERTS_STREAM",
];
