import { afterEach, describe, expect, it } from "vitest";
import type { LocalSystem } from "../../src/local/system";
import { TriggerNames } from "../../src/names";
import { GrowingBlob, nsgNic, readBack, startTestSystem } from "./helpers";

let system: LocalSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

describe("smoke", () => {
  it("delivers a blob", async () => {
    system = await startTestSystem();
    const blob = new GrowingBlob(system, nsgNic);
    const [commit] = await blob.appendMinutes(1);
    await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commit!.events.eventGrid);
    await system.host.waitForIdle();
    const figures = await readBack(system, [blob]);
    console.log(JSON.stringify({ ...figures, messages: undefined }), JSON.stringify(system.host.listInstances().map((i) => [i.runtimeStatus, i.output, i.failure])));
    expect(figures.lost).toBe(0);
  });
});
