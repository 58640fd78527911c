import { afterEach, describe, expect, it } from "vitest";
import { startLocalHost, type LocalHost, type LocalHostOptions } from "../../../devhost/host";
import { hookLog, names, registerSampleApp } from "./sampleApp";

let host: LocalHost | undefined;

async function start(options: Partial<LocalHostOptions> = {}): Promise<LocalHost> {
  host = await startLocalHost({ app: { register: registerSampleApp }, port: 0, ...options });
  return host;
}

afterEach(async () => {
  await host?.stop();
  host = undefined;
});

async function pollUntilDone(statusUrl: string): Promise<{ runtimeStatus: string; output: unknown }> {
  for (;;) {
    const response = await fetch(statusUrl);
    const body = (await response.json()) as { runtimeStatus: string; output: unknown };
    if (response.status !== 202) return body;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("local host triggers and durable client", () => {
  it("records every registration with its trigger and bindings", async () => {
    const local = await start();

    const summary = local.describeRegistrations();

    expect(summary.find((r) => r.name === "startOrchestration")).toEqual({
      name: "startOrchestration",
      triggerType: "httpTrigger",
      route: "orchestrators/{name}",
      methods: ["POST"],
      authLevel: "function",
      extraInputTypes: ["durableClient"],
      extraOutputTypes: [],
    });
    expect(summary.find((r) => r.name === "everyFiveMinutes")).toMatchObject({
      triggerType: "timerTrigger",
      schedule: "0 */5 * * * *",
    });
    expect(summary.filter((r) => r.triggerType === "orchestrationTrigger").map((r) => r.name)).toContain(
      names.sequence,
    );
    expect(
      summary
        .filter((r) => r.triggerType === "entityTrigger")
        .map((r) => r.name)
        .sort(),
    ).toEqual([names.audit, names.counter, names.starter].sort());
    expect(summary.find((r) => r.name === "onBlobCreated")?.triggerType).toBe("eventGridTrigger");
  });

  it("starts an orchestration over HTTP and answers the check-status URL until it completes", async () => {
    const local = await start();

    const response = await fetch(`${local.baseUrl}/api/orchestrators/${names.sequence}?code=${local.keys.host}`, {
      method: "POST",
      body: JSON.stringify(["Lima"]),
    });
    const links = (await response.json()) as { id: string; statusQueryGetUri: string };
    const final = await pollUntilDone(links.statusQueryGetUri);

    expect(response.status).toBe(202);
    expect(response.headers.get("location")).toBe(links.statusQueryGetUri);
    expect(final).toMatchObject({ runtimeStatus: "Completed", output: ["Hello Lima"] });
  });

  it("refuses a function-level endpoint without its key, and accepts the key in a header", async () => {
    const local = await start();
    const url = `${local.baseUrl}/api/orchestrators/${names.sequence}`;

    const refused = await fetch(url, { method: "POST" });
    const wrongKey = await fetch(`${url}?code=not-the-key`, { method: "POST" });
    const accepted = await fetch(url, { method: "POST", headers: { "x-functions-key": local.keys.host } });

    expect(refused.status).toBe(401);
    expect(wrongKey.status).toBe(401);
    expect(accepted.status).toBe(202);
  });

  it("accepts only the master key on an admin-level endpoint", async () => {
    const local = await start();
    const url = `${local.baseUrl}/api/admin/ping`;

    const withHostKey = await fetch(`${url}?code=${local.keys.host}`);
    const withMasterKey = await fetch(`${url}?code=${local.keys.master}`);

    expect(withHostKey.status).toBe(401);
    expect(await withMasterKey.text()).toBe("pong");
  });

  it("serves anonymous routes with optional parameters", async () => {
    const local = await start();

    const named = (await (await fetch(`${local.baseUrl}/api/hello/Ada`)).json()) as unknown;
    const unnamed = (await (await fetch(`${local.baseUrl}/api/hello`)).json()) as unknown;
    const missing = await fetch(`${local.baseUrl}/api/nothing-here`);

    expect(named).toEqual({ greeting: "Hello Ada" });
    expect(unnamed).toEqual({ greeting: "Hello world" });
    expect(missing.status).toBe(404);
  });

  it("refuses to start a running instance id through the client", async () => {
    const local = await start({ clock: { mode: "virtual", autoAdvance: false } });
    const url = `${local.baseUrl}/api/orchestrators/${names.approval}?instanceId=dup&code=${local.keys.host}`;

    const first = await fetch(url, { method: "POST" });
    const second = await fetch(url, { method: "POST" });

    expect(first.status).toBe(202);
    expect(second.status).toBe(500);
    expect(await second.text()).toContain("unexpected status code: 500");
  });

  it("raises events, reads status with history, terminates and purges through the client", async () => {
    const local = await start({ clock: { mode: "virtual", autoAdvance: false } });
    const manage = (operation: string, id: string, init?: RequestInit) =>
      fetch(`${local.baseUrl}/api/manage/${operation}/${id}`, { method: "POST", ...init });
    await local.startOrchestration(names.approval, { instanceId: "a1" });
    await local.startOrchestration(names.approval, { instanceId: "a2" });
    await local.waitForIdle();

    await manage("raise", "a1", { body: JSON.stringify("carol") });
    await local.waitForInstance("a1");
    const status = (await (await manage("status", "a1")).json()) as {
      output: unknown;
      history: { EventType: string }[];
    };
    await manage("terminate", "a2");
    const terminated = await local.waitForInstance("a2");
    const purged = (await (await manage("purge", "a1")).json()) as unknown;

    expect(status.output).toEqual({ approvedBy: "carol" });
    expect(status.history.map((e) => e.EventType)).toEqual([
      "ExecutionStarted",
      "TimerCreated",
      "EventRaised",
      "ExecutionCompleted",
    ]);
    expect(terminated).toMatchObject({ runtimeStatus: "Terminated", output: "stopped by test" });
    expect(purged).toEqual({ instancesDeleted: 1 });
    expect(local.getInstance("a1")).toBeUndefined();
  });

  it("hands tests a durable client bound to the host", async () => {
    const local = await start();
    const client = local.getClient();

    const instanceId = await client.startNew(names.sequence, { input: ["direct"] });
    await local.waitForInstance(instanceId);
    const status = await client.getStatus(instanceId);

    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual(["Hello direct"]);
    expect(status.customStatus).toEqual({ done: 1 });
  });

  it("signals an entity and reads its state through the client", async () => {
    const local = await start();
    const manage = (operation: string) => fetch(`${local.baseUrl}/api/manage/${operation}/e1`, { method: "POST" });

    await manage("signal");
    await manage("signal");
    await local.waitForIdle();
    const read = (await (await manage("read")).json()) as unknown;

    expect(read).toEqual({ entityExists: true, entityState: 14 });
  });

  it("invokes an Event Grid function with Event Grid and CloudEvents payloads", async () => {
    const local = await start();
    const eventGridEvent = {
      id: "eg-1",
      eventType: "Microsoft.Storage.BlobCreated",
      subject: "/blobServices/default/containers/c/blobs/a",
      data: {},
      dataVersion: "",
      metadataVersion: "1",
      eventTime: "2026-01-01T00:00:00Z",
      topic: "t",
    };
    const cloudEvent = {
      id: "ce-1",
      type: "Microsoft.Storage.BlobCreated",
      source: "s",
      subject: "/blobServices/default/containers/c/blobs/b",
      specversion: "1.0",
      data: {},
    };

    await local.invokeEventGrid("onBlobCreated", [eventGridEvent, cloudEvent]);
    const fromEventGrid = await local.waitForInstance("blob-eg-1");
    const fromCloudEvent = await local.waitForInstance("blob-ce-1");

    expect(fromEventGrid.output).toEqual(["Hello /blobServices/default/containers/c/blobs/a"]);
    expect(fromCloudEvent.output).toEqual(["Hello /blobServices/default/containers/c/blobs/b"]);
    await expect(local.invokeEventGrid("onBlobCreated", { nope: true })).rejects.toThrow(/neither an Event Grid event/);
  });

  it("answers the Event Grid webhook validation handshakes and delivers events", async () => {
    const local = await start();
    const webhook = `${local.baseUrl}/runtime/webhooks/eventgrid?functionName=onBlobCreated&code=${local.keys.system}`;

    const validation = await fetch(webhook, {
      method: "POST",
      headers: { "aeg-event-type": "SubscriptionValidation" },
      body: JSON.stringify([
        { id: "v", eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", data: { validationCode: "abc" } },
      ]),
    });
    const options = await fetch(webhook, {
      method: "OPTIONS",
      headers: { "WebHook-Request-Origin": "eventgrid.azure.net" },
    });
    const delivery = await fetch(webhook, {
      method: "POST",
      headers: { "aeg-event-type": "Notification" },
      body: JSON.stringify([{ id: "w1", eventType: "x", subject: "s" }]),
    });
    const unknownFunction = await fetch(webhook.replace("onBlobCreated", "noSuchFunction"), {
      method: "POST",
      body: "[]",
    });
    const notJson = await fetch(webhook, { method: "POST", body: "{" });

    expect(await validation.json()).toEqual({ validationResponse: "abc" });
    expect(options.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
    expect(delivery.status).toBe(202);
    expect(unknownFunction.status).toBe(400);
    expect(notJson.status).toBe(400);
    expect((await local.waitForInstance("blob-w1")).runtimeStatus).toBe("Completed");
  });

  it("runs timer functions on demand and on their schedule on the virtual clock", async () => {
    const local = await start({
      clock: { mode: "virtual", startTime: new Date("2026-01-01T00:00:30Z"), autoAdvance: false },
    });

    await local.invokeTimer("everyFiveMinutes");
    local.virtualClock.advance(5 * 60_000);
    await local.waitForIdle();
    const started = local.listInstances().filter((i) => i.name === names.fanOut);
    await Promise.all(started.map((i) => local.waitForInstance(i.instanceId)));

    expect(started).toHaveLength(2);
  });

  it("runs the app's start hooks before serving and its terminate hooks at stop", async () => {
    hookLog.length = 0;
    const local = await start();

    const afterStart = [...hookLog];
    await local.stop();

    expect(afterStart).toEqual(["start"]);
    expect(hookLog).toEqual(["start", "terminate"]);
  });

  it("sets app settings on process.env while running and restores them at stop", async () => {
    delete process.env.FLOWTAP_LOCAL_HOST_TEST;
    const local = await start({ settings: { FLOWTAP_LOCAL_HOST_TEST: "on" } });

    const whileRunning = process.env.FLOWTAP_LOCAL_HOST_TEST;
    await local.stop();

    expect(whileRunning).toBe("on");
    expect(process.env.FLOWTAP_LOCAL_HOST_TEST).toBeUndefined();
  });
});
