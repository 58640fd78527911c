/**
 * BlobCreated triggers through the local host: only BlobCreated events for PT1H.json blobs of the
 * configured account and containers start ingestion; the webhook answers both validation
 * handshakes and refuses malformed payloads with 400 and the reason.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LocalSystem } from "../../devhost/system";
import { TriggerNames } from "../../src/contracts/names";
import type { FlowLogCommitResult } from "../../devhost/flowLogWriter";
import { GrowingBlob, nsgNic, startTestSystem } from "../scenarios/ingestion/helpers";

let system: LocalSystem;
let commit: FlowLogCommitResult;
beforeAll(async () => {
  system = await startTestSystem();
  [commit] = await new GrowingBlob(system, nsgNic).appendMinutes(1);
});
afterAll(() => system.stop());

let webhook: string;
beforeEach(() => {
  webhook = `${system.host.baseUrl}/api/blobCreated?code=${system.host.keys.host}`;
});

type Mutable = Record<string, unknown> & { data: Record<string, unknown> };
function eventGridWith(change: (event: Mutable) => void): Mutable {
  const event = structuredClone(commit.events.eventGrid) as unknown as Mutable;
  change(event);
  return event;
}

const url = () => commit.events.eventGrid.data.url;
const refusals: [string, (event: Mutable) => void, RegExp][] = [
  [
    "a foreign storage account",
    (e) => (e.data.url = url().replace("devstoreaccount1", "attackeracct")),
    /account 'attackeracct' is not the configured account/,
  ],
  [
    "another container",
    (e) => (e.data.url = url().replace("insights-logs-networksecuritygroupflowevent", "secrets")),
    /container 'secrets' is not one of the configured containers/,
  ],
  ["a blob that is not PT1H.json", (e) => (e.data.url = url().replace("PT1H.json", "other.json")), /is not a flow log/],
  [
    "a subject naming another blob than the url",
    (e) => (e.subject = String(e.subject).replace("PT1H.json", "x/PT1H.json")),
    /subject names .* but its url names/,
  ],
  ["a path traversal", (e) => (e.data.url = url().replace("/PT1H.json", "/%2e%2e/PT1H.json")), /path traversal/],
];

function ingestionCount(): number {
  return system.host.listInstances().filter((instance) => instance.name === "ingestBlob").length;
}

describe("BlobCreated Event Grid trigger", () => {
  it.each(refusals)("refuses %s and reads nothing", async (_, change) => {
    await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, eventGridWith(change));

    expect(ingestionCount()).toBe(0);
  });

  it("drops a BlobCreated event without data.url and ignores other event types", async () => {
    await system.host.invokeEventGrid(
      TriggerNames.blobCreatedEventGrid,
      eventGridWith((e) => delete e.data.url),
    );
    await system.host.invokeEventGrid(
      TriggerNames.blobCreatedEventGrid,
      eventGridWith((e) => (e.eventType = "Microsoft.Storage.BlobDeleted")),
    );

    expect(ingestionCount()).toBe(0);
  });
});

describe("BlobCreated webhook", () => {
  it.each(refusals)("answers 200 but refuses %s, naming the reason", async (_, change, reason) => {
    const response = await fetch(webhook, { method: "POST", body: JSON.stringify([eventGridWith(change)]) });

    expect(response.status).toBe(200);
    const body = (await response.json()) as { accepted: number; refused: { reason: string }[] };
    expect(body.accepted).toBe(0);
    expect(body.refused[0]?.reason).toMatch(reason);
    expect(ingestionCount()).toBe(0);
  });

  it.each([
    ["not JSON", "{oops", /not JSON/],
    ["an empty array", "[]", /no event/],
    [
      "an event without an id",
      JSON.stringify([{ eventType: "Microsoft.Storage.BlobCreated", data: {} }]),
      /event #0 has no id/,
    ],
    ["a CloudEvent without type", JSON.stringify({ id: "1", source: "x", data: {} }), /neither eventType .* nor type/],
    [
      "a BlobCreated event without data.url",
      JSON.stringify([{ id: "2", eventType: "Microsoft.Storage.BlobCreated", data: {} }]),
      /without data.url/,
    ],
    ["a number", "42", /event #0 is not a JSON object/],
  ])("answers 400 with the reason to %s", async (_, body, reason) => {
    const response = await fetch(webhook, { method: "POST", body });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(reason);
    expect(ingestionCount()).toBe(0);
  });

  it("answers the Event Grid subscription validation handshake", async () => {
    const response = await fetch(webhook, {
      method: "POST",
      headers: { "aeg-event-type": "SubscriptionValidation" },
      body: JSON.stringify([
        {
          id: "v",
          eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
          data: { validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" },
        },
      ]),
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" });
  });

  it("answers the CloudEvents OPTIONS handshake", async () => {
    const response = await fetch(webhook, {
      method: "OPTIONS",
      headers: { "WebHook-Request-Origin": "eventgrid.azure.net" },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
  });

  it("takes a single CloudEvent and starts the blob's ingestion", async () => {
    const response = await fetch(webhook, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify(commit.events.cloudEvent),
    });
    await system.host.waitForIdle();

    expect(await response.json()).toMatchObject({ blobs: 1, accepted: 1 });
    expect(
      system.host
        .listInstances()
        .filter((i) => i.name === "ingestBlob")
        .map((i) => i.runtimeStatus),
    ).toEqual(["Completed"]);
  });
});
