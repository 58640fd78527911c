/**
 * Typed contracts between orchestrations and the functions they call: a contract is a function's
 * name (from ./names) with the types of its input and result, so a call site cannot pass the wrong
 * input or read the wrong result. The types are phantom: only the name exists at run time.
 */
import type { ActivityName, EntityName, OrchestrationName } from "./names";

/** Phantom carrier of a contract's input and result types (never set at run time). */
interface Typed<TInput, TResult> {
  readonly types?: { readonly input: TInput; readonly result: TResult };
}

export interface ActivityContract<TInput, TResult> extends Typed<TInput, TResult> {
  readonly activity: ActivityName;
}

export interface OrchestrationContract<TInput, TResult> extends Typed<TInput, TResult> {
  readonly orchestration: OrchestrationName;
}

export interface EntityOperationContract<TInput, TResult> extends Typed<TInput, TResult> {
  readonly entity: EntityName;
  readonly operation: string;
}

export function activityContract<TInput, TResult>(activity: ActivityName): ActivityContract<TInput, TResult> {
  return { activity };
}

export function orchestrationContract<TInput, TResult>(
  orchestration: OrchestrationName,
): OrchestrationContract<TInput, TResult> {
  return { orchestration };
}

export function entityOperation<TInput, TResult>(
  entity: EntityName,
  operation: string,
): EntityOperationContract<TInput, TResult> {
  return { entity, operation };
}

/** The input type of a contract. */
export type InputOf<C> = C extends Typed<infer TInput, unknown> ? TInput : never;
/** The result type of a contract. */
export type ResultOf<C> = C extends Typed<unknown, infer TResult> ? TResult : never;
