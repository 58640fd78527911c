/**
 * The functions the durable conformance tests run on the local host, each exercising one behaviour
 * of the real extension (the tests name the source each one follows).
 */
import { app, type HttpRequest, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { EntityContext, OrchestrationContext } from "durable-functions";

export const names = {
  echo: "conformanceEcho",
  alwaysFails: "conformanceAlwaysFails",
  waitForApproval: "conformanceWaitForApproval",
  quick: "conformanceQuick",
  startTwice: "conformanceStartTwice",
  counter: "conformanceCounter",
  countTo: "conformanceCountTo",
  sleep: "conformanceSleep",
  failingChild: "conformanceFailingChild",
  parentOfFailing: "conformanceParentOfFailing",
  retrying: "conformanceRetrying",
  catchActivityFailure: "conformanceCatchActivityFailure",
} as const;

/** Retry options of `retrying`: 3 attempts, 1 s then doubling, capped at 1.5 s. */
export const RETRY = { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 3, backoffCoefficient: 2 };
export const RETRY_CAP_MS = 1500;

/** How often the counter entity's `add` ran (a re-run after a lost checkpoint counts twice). */
export const counterRuns = { add: 0 };

export function registerConformanceApp(): void {
  df.app.activity(names.echo, { handler: (input: unknown) => input });
  df.app.activity(names.alwaysFails, {
    handler: () => {
      throw new RangeError("never works");
    },
  });
  df.app.orchestration(names.waitForApproval, function* (context: OrchestrationContext) {
    return (yield context.df.waitForExternalEvent("approval")) as unknown;
  });
  df.app.orchestration(names.quick, function* (context: OrchestrationContext) {
    return (yield context.df.callActivity(names.echo, "done")) as unknown;
  });
  // An HTTP trigger that starts an instance and does not catch what the client throws.
  app.http(names.startTwice, {
    route: "conformance/start/{name}/{id}",
    methods: ["POST"],
    authLevel: "anonymous",
    extraInputs: [df.input.durableClient()],
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const client = df.getClient(context);
      const instanceId = await client.startNew(request.params.name!, { instanceId: request.params.id! });
      return { status: 202, jsonBody: { instanceId } };
    },
  });
  df.app.entity(names.counter, (context: EntityContext<number>) => {
    counterRuns.add++;
    context.df.setState((context.df.getState(() => 0) ?? 0) + (context.df.getInput<number>() ?? 0));
  });
  df.app.orchestration(names.countTo, function* (context: OrchestrationContext) {
    const state = context.df.getInput<{ n: number; limit: number; trail: string }>();
    if (state.n >= state.limit) return state;
    yield context.df.callActivity(names.echo, state.n);
    context.df.continueAsNew({ ...state, n: state.n + 1, trail: `${state.trail}${state.n}` });
    return undefined;
  });
  df.app.orchestration(names.sleep, function* (context: OrchestrationContext) {
    const days = context.df.getInput<number>();
    const fireAt = new Date(context.df.currentUtcDateTime.getTime() + days * 24 * 3600 * 1000);
    yield context.df.createTimer(fireAt);
    return context.df.currentUtcDateTime.toISOString();
  });
  df.app.orchestration(names.failingChild, function* (context: OrchestrationContext) {
    yield context.df.callActivity(names.echo, "before");
    throw new TypeError("child gave up");
  });
  df.app.orchestration(names.parentOfFailing, function* (context: OrchestrationContext) {
    try {
      yield context.df.callSubOrchestrator(names.failingChild, undefined, `${context.df.instanceId}-child`);
      return "no error";
    } catch (error) {
      return { name: (error as Error).name, message: (error as Error).message };
    }
  });
  df.app.orchestration(names.catchActivityFailure, function* (context: OrchestrationContext) {
    try {
      yield context.df.callActivity(names.alwaysFails, "x");
      return "no error";
    } catch (error) {
      return { name: (error as Error).name, message: (error as Error).message };
    }
  });
  df.app.orchestration(names.retrying, function* (context: OrchestrationContext) {
    const retry = new df.RetryOptions(RETRY.firstRetryIntervalInMilliseconds, RETRY.maxNumberOfAttempts);
    retry.backoffCoefficient = RETRY.backoffCoefficient;
    retry.maxRetryIntervalInMilliseconds = RETRY_CAP_MS;
    yield context.df.callActivityWithRetry(names.alwaysFails, retry, "x");
  });
}
