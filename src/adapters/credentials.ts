/**
 * The one place that turns a ConnectionSetting into SDK clients: a connection string as given,
 * or an identity-based connection with `DefaultAzureCredential` (managed identity in Azure, with
 * `managedIdentityClientId` for a user-assigned identity). Secrets are never logged: log lines
 * name only the kind of connection and its public endpoint.
 */
import type { TokenCredential } from "@azure/core-auth";
import { EventHubProducerClient, parseEventHubConnectionString, type EventHubClientOptions } from "@azure/event-hubs";
import { DefaultAzureCredential } from "@azure/identity";
import { BlobServiceClient, type StoragePipelineOptions } from "@azure/storage-blob";
import type { ConnectionSetting } from "../config";
import { configurationError } from "../errors";
import { logger } from "../logger";

/** One credential per client id (undefined: system-assigned), so clients share its token cache. */
const credentials = new Map<string | undefined, TokenCredential>();

/** The `DefaultAzureCredential` of an identity-based connection, shared per client id. */
export function credentialFor(connection: Extract<ConnectionSetting, { kind: "identity" }>): TokenCredential {
  let credential = credentials.get(connection.clientId);
  if (!credential) {
    credential = connection.clientId
      ? new DefaultAzureCredential({ managedIdentityClientId: connection.clientId })
      : new DefaultAzureCredential();
    credentials.set(connection.clientId, credential);
  }
  return credential;
}

/** A Blob service client for a storage connection (connection string or `blobServiceUri` + identity). */
export function createBlobServiceClient(
  connection: ConnectionSetting,
  options: StoragePipelineOptions = {},
): BlobServiceClient {
  if (connection.kind === "connectionString") {
    logger.verbose("Blob service client from a connection string");
    return BlobServiceClient.fromConnectionString(connection.connectionString, options);
  }
  logger.verbose(`Blob service client for ${connection.uri} with DefaultAzureCredential`);
  return new BlobServiceClient(connection.uri, credentialFor(connection), options);
}

/**
 * The host name Event Hubs wants from a `fullyQualifiedNamespace` setting, which people write as
 * `ns.servicebus.windows.net`, `sb://ns.servicebus.windows.net/` or `https://...`.
 */
export function fullyQualifiedNamespaceOf(uri: string): string {
  const host = uri
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .replace(/\/+$/, "");
  if (host === "" || /[/\s?#@]/.test(host)) {
    throw configurationError(
      `Event Hubs fullyQualifiedNamespace '${uri}' is not a host name (e.g. myns.servicebus.windows.net).`,
    );
  }
  return host;
}

/** An Event Hubs producer for one hub (connection string or `fullyQualifiedNamespace` + identity). */
export function createEventHubProducerClient(
  connection: ConnectionSetting,
  eventHubName: string,
  options: EventHubClientOptions = {},
): EventHubProducerClient {
  if (connection.kind === "connectionString") {
    assertEntityPathMatches(connection.connectionString, eventHubName);
    logger.verbose(`Event Hubs producer for '${eventHubName}' from a connection string`);
    return new EventHubProducerClient(connection.connectionString, eventHubName, options);
  }
  const namespace = fullyQualifiedNamespaceOf(connection.uri);
  logger.verbose(`Event Hubs producer for '${eventHubName}' at ${namespace} with DefaultAzureCredential`);
  return new EventHubProducerClient(namespace, eventHubName, credentialFor(connection), options);
}

/**
 * The SDK's own errors for a malformed connection string or a foreign EntityPath quote the whole
 * string, key included; these checks fail first with messages (and no cause) that hold no secret.
 */
function assertEntityPathMatches(connectionString: string, eventHubName: string): void {
  let entityPath: string | undefined;
  try {
    entityPath = parseEventHubConnectionString(connectionString).eventHubName;
  } catch {
    throw configurationError(
      "The Event Hubs connection string is malformed (expected Endpoint=sb://...;SharedAccessKeyName=...;" +
        "SharedAccessKey=...).",
    );
  }
  if (entityPath !== undefined && entityPath !== eventHubName) {
    throw configurationError(
      `The Event Hubs connection string names EntityPath '${entityPath}' but the producer is for ` +
        `'${eventHubName}': use a namespace-level connection string.`,
    );
  }
}
