/**
 * An app module for the worker-process tests: loading it registers activities that say which process ran them,
 * one that kills its own process the first time (a crashed language worker), an entity, and orchestrations over
 * them. Worker processes load it by path, as they load package.json `main`.
 */
import { existsSync, writeFileSync } from "node:fs";
import * as df from "durable-functions";
import type { EntityContext, OrchestrationContext, OrchestrationHandler } from "durable-functions";
import type { InvocationContext } from "@azure/functions";
import { WORKER_APP_SETTING, workerAppNames, type WhereAmI } from "./workerAppNames";

df.app.activity(workerAppNames.whereAmI, {
  handler: (index: number, context: InvocationContext): WhereAmI => {
    context.log(`whereAmI ${index} ran in process ${process.pid}`);
    return { pid: process.pid, setting: process.env[WORKER_APP_SETTING] };
  },
});

/** An orchestrator whose first episode kills its worker process (`marker` as for dieOnce). */
df.app.orchestration(workerAppNames.dieInEpisode, function* (context: OrchestrationContext) {
  const marker = context.df.getInput<string>() ?? "";
  if (!existsSync(marker)) {
    writeFileSync(marker, String(process.pid));
    process.kill(process.pid, "SIGKILL");
  }
  yield context.df.callActivity(workerAppNames.whereAmI, 0);
  return "survived";
});

/** Kills its process unless `marker` exists (it creates it first): the first attempt dies, the next one returns. */
df.app.activity(workerAppNames.dieOnce, {
  handler: (marker: string): number => {
    if (!existsSync(marker)) {
      writeFileSync(marker, String(process.pid));
      process.kill(process.pid, "SIGKILL");
    }
    return process.pid;
  },
});

df.app.entity(workerAppNames.tally, (context: EntityContext<number>) => {
  context.df.setState((context.df.getState(() => 0) ?? 0) + (context.df.getInput<number>() ?? 0));
  context.df.return(process.pid);
});

const fanOut: OrchestrationHandler = function* (context: OrchestrationContext) {
  const count = context.df.getInput<number>() ?? 8;
  const tasks = Array.from({ length: count }, (_, index) => context.df.callActivity(workerAppNames.whereAmI, index));
  const places = (yield context.df.Task.all(tasks)) as WhereAmI[];
  const entityPid = (yield context.df.callEntity(new df.EntityId(workerAppNames.tally, "all"), "add", count)) as number;
  return { places, entityPid };
};
df.app.orchestration(workerAppNames.fanOut, fanOut);

df.app.orchestration(workerAppNames.dieOnceRetried, function* (context: OrchestrationContext) {
  const retry = new df.RetryOptions(10, 2);
  return (yield context.df.callActivityWithRetry(workerAppNames.dieOnce, retry, context.df.getInput())) as number;
});

df.app.orchestration(workerAppNames.dieOnceCaught, function* (context: OrchestrationContext) {
  try {
    return { pid: (yield context.df.callActivity(workerAppNames.dieOnce, context.df.getInput())) as number };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
});
