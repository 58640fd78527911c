/**
 * A task already yielded, put again into a later Task.any / Task.all, is scheduled again by the extension:
 * durable-functions emits the compound action with all its children (Azure/azure-functions-durable-js
 * lib/src/orchestrations/TaskOrchestrationExecutor.js: addToActions(compound.actionObj), children keep their ids),
 * and the shim invokes every child of a WhenAny/WhenAll action as a new call under the next DurableTask id
 * (Azure/azure-functions-durable-extension src/WebJobs.Extensions.DurableTask/Listener/OutOfProcOrchestrationShim.cs,
 * InvokeAPIFromAction). The SDK's ids and the extension's then differ, and a result lands on the wrong task
 * (azure-functions-durable-js issue #574). flowtap's orchestrations never do this; these tests pin the behaviour.
 */
import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { describe, expect, it } from "vitest";
import { historyEvents } from "../../../devhost/host/history";
import { ExtensionModel, orchestrationHandler } from "./extensionModel";

const ECHO = "reyieldEcho";
const START = new Date("2026-12-01T00:00:00.000Z");

function* reyieldInWhenAny(context: OrchestrationContext): Generator<df.Task, string, unknown> {
  const a = context.df.callActivity(ECHO, "a");
  const b = context.df.callActivity(ECHO, "b");
  yield context.df.Task.any([a, b]);
  const c = context.df.callActivity(ECHO, "c");
  const winner = yield context.df.Task.any([b, c]);
  return winner === c ? `c won with ${String(c.result)}` : `b won with ${String(b.result)}`;
}

function* reyieldInWhenAll(context: OrchestrationContext): Generator<df.Task, unknown, unknown> {
  const a = context.df.callActivity(ECHO, "a");
  yield a;
  const b = context.df.callActivity(ECHO, "b");
  return yield context.df.Task.all([a, b]);
}

const activityNames = (model: ExtensionModel) =>
  model.decisions.map((decision) => (decision.kind === "activity" ? `${decision.id}:${decision.input}` : "?"));

describe("a re-yielded task inside a later compound task (OutOfProcOrchestrationShim.InvokeAPIFromAction)", () => {
  it("WhenAny: the re-yielded child is scheduled again; its second result is credited to another task", async () => {
    const model = new ExtensionModel(await orchestrationHandler("reyieldAny", reyieldInWhenAny), "any-1", 0, START);
    await model.episode();
    model.deliver(historyEvents.taskCompleted(START, 0, JSON.stringify("a")));

    await model.episode();
    // The second run of b (id 2) ends first: the SDK knows id 2 as c.
    model.deliver(historyEvents.taskCompleted(START, 2, JSON.stringify("second run of b")));
    const { state } = await model.episode();

    expect(activityNames(model)).toEqual(['0:"a"', '1:"b"', '2:"b"', '3:"c"']);
    expect(state.output).toBe("c won with second run of b");
  });

  it("WhenAll: a child yielded before is scheduled again with the new one", async () => {
    const model = new ExtensionModel(await orchestrationHandler("reyieldAll", reyieldInWhenAll), "all-1", 0, START);
    await model.episode();
    model.deliver(historyEvents.taskCompleted(START, 0, JSON.stringify("a")));

    await model.episode();

    expect(activityNames(model)).toEqual(['0:"a"', '1:"a"', '2:"b"']);
  });
});
