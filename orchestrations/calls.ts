/**
 * The one typed way an orchestration calls an activity, a sub-orchestration or an entity
 * operation: each helper yields the durable task and returns the contract's result type, so no
 * orchestrator casts a yielded value. Use with `yield*`. For Task.any/Task.all, build the task
 * with the `*Task` variants and read it back with `resultOf`.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, RetryOptions, Task } from "durable-functions";
import type { ActivityContract, EntityOperationContract, OrchestrationContract } from "../src/contracts/contract";

/** A durable task whose result has the contract's type. */
export interface TypedTask<TResult> {
  readonly task: Task;
  readonly types?: { readonly result: TResult };
}

export function activityTask<TInput, TResult>(
  context: OrchestrationContext,
  contract: ActivityContract<TInput, TResult>,
  input: TInput,
  retry?: RetryOptions,
): TypedTask<TResult> {
  const task = retry
    ? context.df.callActivityWithRetry(contract.activity, retry, input)
    : context.df.callActivity(contract.activity, input);
  return { task };
}

export function subOrchestrationTask<TInput, TResult>(
  context: OrchestrationContext,
  contract: OrchestrationContract<TInput, TResult>,
  input: TInput,
  instanceId?: string,
): TypedTask<TResult> {
  return { task: context.df.callSubOrchestrator(contract.orchestration, input, instanceId) };
}

export function entityTask<TInput, TResult>(
  context: OrchestrationContext,
  contract: EntityOperationContract<TInput, TResult>,
  key: string,
  input: TInput,
): TypedTask<TResult> {
  return { task: context.df.callEntity(new df.EntityId(contract.entity, key), contract.operation, input) };
}

/**
 * The result of a task that has completed (after Task.any/Task.all). The one cast of the
 * orchestrations: the durable task's result is the JSON the contract's function returned.
 */
export function resultOf<TResult>(typed: TypedTask<TResult>): TResult {
  return typed.task.result as TResult;
}

/** Yields one task and returns its typed result (a failed task throws, as a plain yield does). */
export function* completed<TResult>(typed: TypedTask<TResult>): Generator<Task, TResult, unknown> {
  return (yield typed.task) as TResult;
}

export function* callActivity<TInput, TResult>(
  context: OrchestrationContext,
  contract: ActivityContract<TInput, TResult>,
  input: TInput,
  retry?: RetryOptions,
): Generator<Task, TResult, unknown> {
  return yield* completed(activityTask(context, contract, input, retry));
}

export function* callSubOrchestration<TInput, TResult>(
  context: OrchestrationContext,
  contract: OrchestrationContract<TInput, TResult>,
  input: TInput,
  instanceId?: string,
): Generator<Task, TResult, unknown> {
  return yield* completed(subOrchestrationTask(context, contract, input, instanceId));
}

export function* callEntity<TInput, TResult>(
  context: OrchestrationContext,
  contract: EntityOperationContract<TInput, TResult>,
  key: string,
  input: TInput,
): Generator<Task, TResult, unknown> {
  const entity = new df.EntityId(contract.entity, key);
  return (yield context.df.callEntity(entity, contract.operation, input)) as TResult;
}

export function signalEntity<TInput, TResult>(
  context: OrchestrationContext,
  contract: EntityOperationContract<TInput, TResult>,
  key: string,
  input: TInput,
): void {
  context.df.signalEntity(new df.EntityId(contract.entity, key), contract.operation, input);
}
