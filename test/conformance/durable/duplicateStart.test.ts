/**
 * Starting an instance id that exists. Azure/azure-functions-durable-extension
 * src/WebJobs.Extensions.DurableTask/ContextImplementations/DurableClient.cs (StartNewAsync: dedupe statuses from
 * OverridableExistingInstanceStates, Options/DurableTaskOptions.cs: NonRunningStates by default) refuses a running
 * instance with OrchestrationAlreadyExistsException, which HttpApiHandler.cs (HandleStartOrchestratorRequestAsync)
 * does not catch: the client's POST gets a 500 and durable-functions' startNew rejects
 * (lib/src/durableClient/DurableClient.js). A finished instance is started afresh.
 */
import { describe, expect, it } from "vitest";
import { names } from "./conformanceApp";
import { startConformanceHost } from "./localHost";

describe("duplicate start (DurableClient.StartNewAsync, HttpApiHandler)", () => {
  it("of a running instance: the client throws and an HTTP trigger that does not catch answers 500", async () => {
    const host = await startConformanceHost({ clock: { mode: "virtual", autoAdvance: false } });
    const url = `${host.baseUrl}/api/conformance/start/${names.waitForApproval}/running-1`;

    const first = await fetch(url, { method: "POST" });
    const second = await fetch(url, { method: "POST" });

    expect(first.status).toBe(202);
    expect(second.status).toBe(500);
    expect(await second.text()).toContain("The operation failed with an unexpected status code: 500");
    await expect(host.getClient().startNew(names.waitForApproval, { instanceId: "running-1" })).rejects.toThrow(
      /An Orchestration instance with the status Running already exists/,
    );
  });

  it("of a completed instance: it starts again, afresh", async () => {
    const host = await startConformanceHost();
    const url = `${host.baseUrl}/api/conformance/start/${names.quick}/done-1`;
    expect((await fetch(url, { method: "POST" })).status).toBe(202);
    const first = await host.waitForInstance("done-1");

    const again = await fetch(url, { method: "POST" });
    const second = await host.waitForInstance("done-1");

    expect(first.runtimeStatus).toBe("Completed");
    expect(again.status).toBe(202);
    expect(second.runtimeStatus).toBe("Completed");
    expect(second.createdTime >= first.lastUpdatedTime).toBe(true);
  });
});
