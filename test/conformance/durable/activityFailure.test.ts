/**
 * A failed activity as its orchestration sees it. TaskActivityShim.cs (Azure/azure-functions-durable-extension
 * src/WebJobs.Extensions.DurableTask/Listener/) throws TaskFailureException("Activity function '<name>' failed:
 * <message>", serialized cause); DurableTask records a TaskFailed event with them as Reason and Details and no
 * FailureDetails (SerializeExceptions), and durable-functions throws `Error("<Reason> \n <Details>")`
 * (lib/src/orchestrations/TaskOrchestrationExecutor.js, setTaskValue).
 */
import { describe, expect, it } from "vitest";
import { names } from "./conformanceApp";
import { startConformanceHost } from "./localHost";

describe("activity failure (TaskActivityShim)", () => {
  it("reaches the orchestration as Reason and Details, thrown as a plain Error", async () => {
    const host = await startConformanceHost();

    const status = await host.waitForInstance(await host.startOrchestration(names.catchActivityFailure));

    const failed = host.getHistory(status.instanceId).find((event) => event.EventType === 6)!;
    expect(failed.Reason).toBe(`Activity function '${names.alwaysFails}' failed: never works`);
    expect(JSON.parse(failed.Details!)).toMatchObject({ ClassName: "System.Exception", Message: "never works" });
    expect(failed.FailureDetails).toBeUndefined();
    const error = status.output as { name: string; message: string };
    expect(error.name).toBe("Error");
    expect(error.message.startsWith(`Activity function '${names.alwaysFails}' failed: never works \n {`)).toBe(true);
  });
});
