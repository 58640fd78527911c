/**
 * An entity operation that ran, then lost its checkpoint. The extension runs entity operations as an episode
 * whose state, responses and signals commit together at its end (Azure/azure-functions-durable-extension
 * src/WebJobs.Extensions.DurableTask/Listener/TaskEntityShim.cs); after a crash before that commit the message
 * comes back when its lease expires (Azure/durabletask src/DurableTask.AzureStorage/
 * AzureStorageOrchestrationServiceSettings.cs, ControlQueueVisibilityTimeout = 5 minutes) and the operation runs
 * again on the state it had before.
 */
import { describe, expect, it } from "vitest";
import { counterRuns, names } from "./conformanceApp";
import { START, startConformanceHost } from "./localHost";

describe("entity operation re-executed after a crash between its run and its checkpoint (TaskEntityShim)", () => {
  it("runs twice, the second time on the old state, five minutes later; the state changes once", async () => {
    const host = await startConformanceHost();
    counterRuns.add = 0;
    const crashed = host.faults.crashAfterEntityOperation(names.counter, "add");

    await host.signalEntity(names.counter, "k", "add", 5);
    await crashed;
    const stateAfterCrash = host.getEntityState<number>(names.counter, "k");
    await host.waitForIdle();

    expect(stateAfterCrash).toBeUndefined();
    expect(counterRuns.add).toBe(2);
    expect(host.faults.entityOperationRuns(names.counter, "add")).toBe(2);
    expect(host.getEntityState<number>(names.counter, "k")).toBe(5);
    expect(host.clock.now().getTime() - START.getTime()).toBeGreaterThanOrEqual(5 * 60 * 1000);
  });
});
