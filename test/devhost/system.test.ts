/** The local system: endpoints wired into the app's settings, hubs read back, the checkpoint admin route. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSettings } from "../../src/config";
import type { LocalSystem } from "../../devhost/system";
import { TriggerNames } from "../../src/contracts/names";
import { GrowingBlob, nsgNic, readBack, startTestSystem } from "../scenarios/ingestion/helpers";

let system: LocalSystem;
beforeAll(async () => {
  system = await startTestSystem();
});
afterAll(() => system.stop());

describe("local system", () => {
  it("wires Azurite and the Event Hubs endpoint into settings the app accepts", () => {
    const settings = readSettings(system.settings);

    expect(settings.storage.accountName).toBe("devstoreaccount1");
    expect(settings.eventHubs).toMatchObject({ eventHubName: "flows", alertsEventHubName: "alerts" });
    expect(system.eventHubsConnectionString).not.toMatch(/EntityPath/);
  });

  it("shows a blob's checkpoint to an operator and resets it, sending the blob again from its start", async () => {
    const blob = new GrowingBlob(system, nsgNic);
    const [commit] = await blob.appendMinutes(2);
    await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commit!.events.eventGrid);
    await system.host.waitForIdle();
    const route = `${system.host.baseUrl}/api/checkpoints/${blob.container}/${blob.path}`;

    const unauthorized = await fetch(`${route}?code=${system.host.keys.host}`);
    const shown = await fetch(`${route}?code=${system.host.keys.master}`);
    const reset = await fetch(`${route}?code=${system.host.keys.master}`, {
      method: "POST",
      body: JSON.stringify({ reason: "consumer lost its store" }),
    });
    await system.host.waitForIdle();

    expect(unauthorized.status).toBe(401);
    expect(await shown.json()).toMatchObject({
      container: blob.container,
      path: blob.path,
      blockCount: 3,
      eventsEmitted: 8,
    });
    expect(reset.status).toBe(202);
    const figures = await readBack(system, [blob], { allowDuplicates: true });
    expect(figures.duplicates).toBe(8);
    const after = (await (await fetch(`${route}?code=${system.host.keys.master}`)).json()) as Record<string, unknown>;
    expect(after).toMatchObject({ blockCount: 3, resets: 1, lastReset: { reason: "consumer lost its store" } });
  });

  it("answers 401 saying which key the route wants and whether none or a wrong one came", async () => {
    const { host } = system;
    const route = `${host.baseUrl}/api/checkpoints/${new GrowingBlob(system, nsgNic).container}/x/PT1H.json`;

    const none = await fetch(route);
    const functionKey = await fetch(`${route}?code=${host.keys.host}`);
    const wrong = await fetch(route, { headers: { "x-functions-key": "not-a-key" } });
    const webhook = await fetch(`${host.baseUrl}/runtime/webhooks/eventgrid?functionName=x&code=${host.keys.host}`, {
      method: "POST",
      body: "[]",
    });

    expect([none.status, functionKey.status, wrong.status, webhook.status]).toEqual([401, 401, 401, 401]);
    expect(((await none.json()) as { message: string }).message).toMatch(/wants the master key .*; none came$/);
    expect(((await functionKey.json()) as { message: string }).message).toMatch(/master key.*; the function key came$/);
    expect(((await wrong.json()) as { message: string }).message).toMatch(/none of this host's keys came$/);
    expect(((await webhook.json()) as { message: string }).message).toMatch(
      /wants the system key.*the function key came/,
    );
  });

  it("refuses bad admin requests naming what is wrong: percent-encoding, unknown blob, body fields", async () => {
    const blob = new GrowingBlob(system, nsgNic);
    const [commit] = await blob.appendMinutes(1);
    await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commit!.events.eventGrid);
    await system.host.waitForIdle();
    const key = `code=${system.host.keys.master}`;
    const route = `${system.host.baseUrl}/api/checkpoints/${blob.container}/${blob.path}?${key}`;
    const post = (url: string, body: string) => fetch(url, { method: "POST", body });
    const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;

    const malformed = await post(`${system.host.baseUrl}/api/checkpoints/${blob.container}/a%ZZb/PT1H.json?${key}`, "");
    const noCheckpoint = await post(route.replace("PT1H.json", "h=99/PT1H.json"), "");
    const unknownField = await post(route, JSON.stringify({ reason: "x", force: true }));
    const wrongType = await post(route, JSON.stringify({ reason: 42 }));

    expect(malformed.status).toBe(400);
    expect(await errorOf(malformed)).toContain("'a%ZZb' is not valid percent-encoding");
    expect(noCheckpoint.status).toBe(404);
    expect(await errorOf(noCheckpoint)).toContain("no checkpoint for");
    expect(unknownField.status).toBe(400);
    expect(await errorOf(unknownField)).toContain('unknown field "force"');
    expect(wrongType.status).toBe(400);
    expect(await errorOf(wrongType)).toContain('field "reason" must be a string, got number');
  });
});
