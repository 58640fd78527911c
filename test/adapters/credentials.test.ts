import { DefaultAzureCredential } from "@azure/identity";
import { StorageSharedKeyCredential } from "@azure/storage-blob";
import { describe, expect, it } from "vitest";
import {
  createBlobServiceClient,
  createEventHubProducerClient,
  credentialFor,
  fullyQualifiedNamespaceOf,
} from "../../src/adapters/credentials";

const KEY = "c2VjcmV0LWtleS1ub3QtdG8tbG9nLWFueXdoZXJlLTEyMzQ1Njc4OTA=";
const storageConnectionString =
  `DefaultEndpointsProtocol=https;AccountName=flowlogsacct;` + `AccountKey=${KEY};EndpointSuffix=core.windows.net`;
const eventHubsConnectionString =
  `Endpoint=sb://flowtap-ns.servicebus.windows.net/;SharedAccessKeyName=send;` + `SharedAccessKey=${KEY}`;

describe("clients from connection settings", () => {
  it("builds a blob client from a connection string with the account key", () => {
    const client = createBlobServiceClient({ kind: "connectionString", connectionString: storageConnectionString });

    expect(client.accountName).toBe("flowlogsacct");
    expect(client.credential).toBeInstanceOf(StorageSharedKeyCredential);
  });

  it("builds a blob client for an identity connection with DefaultAzureCredential", () => {
    const client = createBlobServiceClient({
      kind: "identity",
      uri: "https://flowlogsacct.blob.core.windows.net",
      clientId: "11111111-2222-3333-4444-555555555555",
    });

    expect(client.url).toMatch(/^https:\/\/flowlogsacct\.blob\.core\.windows\.net\/?$/);
    expect(client.credential).toBeInstanceOf(DefaultAzureCredential);
  });

  it("shares one credential per managed identity client id", () => {
    const userAssigned = { kind: "identity", uri: "https://a.blob.core.windows.net", clientId: "client-a" } as const;

    const first = credentialFor(userAssigned);
    const again = credentialFor({ ...userAssigned, uri: "https://b.blob.core.windows.net" });
    const systemAssigned = credentialFor({ kind: "identity", uri: "https://a.blob.core.windows.net" });

    expect(again).toBe(first);
    expect(systemAssigned).not.toBe(first);
  });

  it("builds an Event Hubs producer for an identity connection, whatever form the namespace takes", async () => {
    const producer = createEventHubProducerClient(
      { kind: "identity", uri: "sb://flowtap-ns.servicebus.windows.net/" },
      "flows",
    );

    expect(producer.fullyQualifiedNamespace).toBe("flowtap-ns.servicebus.windows.net");
    expect(producer.eventHubName).toBe("flows");
    await producer.close();
  });

  it("builds an Event Hubs producer from a namespace connection string", async () => {
    const producer = createEventHubProducerClient(
      { kind: "connectionString", connectionString: eventHubsConnectionString },
      "alerts",
    );

    expect(producer.eventHubName).toBe("alerts");
    await producer.close();
  });

  it.each([
    [
      "a foreign EntityPath",
      `${eventHubsConnectionString};EntityPath=flows`,
      /names EntityPath 'flows' but the producer is for 'alerts'/,
    ],
    ["a malformed string", `SharedAccessKey=${KEY};nonsense`, /malformed/],
  ])("refuses %s with a Configuration error that holds no key", (_case, connectionString, message) => {
    const create = () => createEventHubProducerClient({ kind: "connectionString", connectionString }, "alerts");

    expect(create).toThrow(expect.objectContaining({ code: "Configuration" }));
    expect(create).toThrow(message);
    expect(create).not.toThrow(KEY);
  });

  it.each([
    "flowtap-ns.servicebus.windows.net",
    "https://flowtap-ns.servicebus.windows.net",
    " sb://flowtap-ns.servicebus.windows.net// ",
  ])("reads the namespace host from '%s'", (uri) => {
    expect(fullyQualifiedNamespaceOf(uri)).toBe("flowtap-ns.servicebus.windows.net");
  });

  it("refuses a namespace that is not a host name", () => {
    expect(() => fullyQualifiedNamespaceOf("sb://ns.servicebus.windows.net/hub")).toThrow(
      expect.objectContaining({ code: "Configuration" }),
    );
  });
});
