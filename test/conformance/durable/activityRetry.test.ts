/**
 * Activity retry options. durable-functions emits one CallActivityWithRetry action with its RetryOptions; the
 * extension reads them (Azure/azure-functions-durable-extension src/WebJobs.Extensions.DurableTask/
 * RetryOptionsConverter.cs) and DurableTask retries (Azure/durabletask src/DurableTask.Core/RetryInterceptor.cs):
 * after attempt k fails, a timer of firstRetryInterval * backoffCoefficient^(k-1), capped at maxRetryInterval;
 * after the last attempt an immediate "dummy" timer, then the failure. Each attempt and timer takes the next id, as
 * durable-functions' RetryableTask expects (lib/src/task/RetryableTask.js).
 */
import { describe, expect, it } from "vitest";
import { names, RETRY, RETRY_CAP_MS } from "./conformanceApp";
import { START, startConformanceHost } from "./localHost";

describe("activity retry options (RetryInterceptor)", () => {
  it("retries after 1 s, then 1.5 s (2 s capped), fails after the third attempt and an immediate timer", async () => {
    const host = await startConformanceHost();

    const status = await host.waitForInstance(await host.startOrchestration(names.retrying));

    expect(status.runtimeStatus).toBe("Failed");
    expect(host.faults.activityInvocations(names.alwaysFails)).toBe(RETRY.maxNumberOfAttempts);
    const history = host.getHistory(status.instanceId);
    const scheduled = history
      .filter((e) => e.EventType === 4 || e.EventType === 10)
      .map((e) => [e.EventType, e.EventId]);
    expect(scheduled).toEqual([
      [4, 0],
      [10, 1],
      [4, 2],
      [10, 3],
      [4, 4],
      [10, 5],
    ]);
    const timers = history.filter((e) => e.EventType === 10);
    const delays = timers.map((timer) => Date.parse(timer.FireAt!) - Date.parse(timer.Timestamp));
    expect(delays).toEqual([RETRY.firstRetryIntervalInMilliseconds, RETRY_CAP_MS, 0]);
    expect(Date.parse(timers[0]!.Timestamp)).toBe(START.getTime());
  });
});
