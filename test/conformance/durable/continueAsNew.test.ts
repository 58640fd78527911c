/**
 * continueAsNew with state. durable-functions emits a ContinueAsNew action whose input it JSON-encodes when it is a
 * string (Azure/azure-functions-durable-js src/actions/ContinueAsNewAction.ts, Utils.processInput); the shim calls
 * context.ContinueAsNew(action.Input) (Azure/azure-functions-durable-extension
 * src/WebJobs.Extensions.DurableTask/Listener/OutOfProcOrchestrationShim.cs, InvokeAPIFromAction): the next
 * generation starts with that input and a fresh history.
 */
import { describe, expect, it } from "vitest";
import { names } from "./conformanceApp";
import { startConformanceHost } from "./localHost";

describe("continueAsNew with state (OutOfProcOrchestrationShim, ContinueAsNewAction)", () => {
  it("carries the state into each generation, whose history starts afresh", async () => {
    const host = await startConformanceHost();

    const id = await host.startOrchestration(names.countTo, { input: { n: 0, limit: 3, trail: "" } });
    const status = await host.waitForInstance(id);

    expect(status.output).toEqual({ n: 3, limit: 3, trail: "012" });
    const history = host.getHistory(id);
    expect(history.filter((event) => event.EventType === 0)).toHaveLength(1);
    expect(JSON.parse(history.find((event) => event.EventType === 0)!.Input!)).toEqual({
      n: 3,
      limit: 3,
      trail: "012",
    });
  });
});
