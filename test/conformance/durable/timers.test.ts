/**
 * Durable timers. A timer further away than the provider's MaximumDelayTime (Azure Storage: 6 days) becomes a chain
 * of timers of at most LongRunningTimerIntervalLength (3 days) (Azure/azure-functions-durable-extension
 * src/WebJobs.Extensions.DurableTask/ContextImplementations/DurableOrchestrationContext.cs, CreateTimer;
 * AzureStorageDurabilityProvider.cs); the same two durations reach durable-functions in the binding input
 * (Bindings/OrchestrationTriggerAttributeBindingProvider.cs), whose LongTimerTask follows the chain.
 */
import { describe, expect, it } from "vitest";
import { names } from "./conformanceApp";
import { START, startConformanceHost } from "./localHost";

const DAY = 24 * 3600 * 1000;
const at = (days: number): string => new Date(START.getTime() + days * DAY).toISOString();

describe("timers (DurableOrchestrationContext.CreateTimer)", () => {
  it("fires a short timer at its time", async () => {
    const host = await startConformanceHost();

    const status = await host.waitForInstance(await host.startOrchestration(names.sleep, { input: 2 }));

    expect(status.output).toBe(at(2));
    expect(
      host
        .getHistory(status.instanceId)
        .filter((e) => e.EventType === 10)
        .map((e) => e.FireAt),
    ).toEqual([at(2)]);
  });

  it("splits a 10-day timer into 3-day timers and a last one at its time", async () => {
    const host = await startConformanceHost();

    const status = await host.waitForInstance(await host.startOrchestration(names.sleep, { input: 10 }));

    expect(status.output).toBe(at(10));
    const fireTimes = host
      .getHistory(status.instanceId)
      .filter((event) => event.EventType === 10)
      .map((event) => event.FireAt);
    expect(fireTimes).toEqual([at(3), at(6), at(9), at(10)]);
  });
});
