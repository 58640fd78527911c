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
});
