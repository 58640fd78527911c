/**
 * A failed sub-orchestration as its parent sees it. The child's shim throws OrchestrationFailureException with
 * message "Orchestrator function '<name>' failed: <error>" and details "Message: <error>, StackTrace: ..."
 * (Azure/azure-functions-durable-extension src/WebJobs.Extensions.DurableTask/Listener/OutOfProcOrchestrationShim.cs,
 * ScheduleDurableTaskEvents); DurableTask sends the parent a SubOrchestrationInstanceFailed with them as Reason and
 * Details and no FailureDetails (Azure/durabletask src/DurableTask.Core/TaskOrchestrationDispatcher.cs,
 * TaskOrchestrationContext.FailOrchestration under SerializeExceptions); durable-functions throws
 * `Error("<Reason> \n <Details>")` in the parent (lib/src/orchestrations/TaskOrchestrationExecutor.js, setTaskValue).
 */
import { describe, expect, it } from "vitest";
import { names } from "./conformanceApp";
import { startConformanceHost } from "./localHost";

describe("sub-orchestration failure (OutOfProcOrchestrationShim, TaskOrchestrationDispatcher)", () => {
  it("reaches the parent as Reason and Details, thrown as a plain Error", async () => {
    const host = await startConformanceHost();

    const status = await host.waitForInstance(await host.startOrchestration(names.parentOfFailing));

    const failed = host.getHistory(status.instanceId).find((event) => event.EventType === 9)!;
    expect(failed.Reason).toBe(`Orchestrator function '${names.failingChild}' failed: child gave up`);
    expect(failed.Details).toMatch(/^Message: child gave up, StackTrace: TypeError: child gave up/);
    expect(failed.FailureDetails).toBeUndefined();
    const error = status.output as { name: string; message: string };
    expect(error.name).toBe("Error");
    expect(error.message).toMatch(
      new RegExp(`^Orchestrator function '${names.failingChild}' failed: child gave up \\n Message: child gave up`),
    );
  });
});
