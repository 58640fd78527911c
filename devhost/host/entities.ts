/**
 * Entities of the local host: one operation at a time per entity, each run through the library's
 * entity handler; a failed operation leaves the state as it was.
 *
 * The real extension runs an entity's operations as an episode of a DurableTask orchestration
 * (Azure/azure-functions-durable-extension src/WebJobs.Extensions.DurableTask/Listener/TaskEntityShim.cs):
 * the new state, the responses and the signals are committed together when the episode completes. A crash
 * after the operation ran and before that commit runs the operation again on the old state; what the
 * operation did outside the entity (a durable client call) has happened twice. The fault
 * `crashAfterEntityOperation` reproduces exactly that for one work item (a crash of its session, or a failed
 * commit; the rest of the host goes on): the request stays queued, the state unsaved, and the message comes back
 * once its lease expires: Azure/durabletask src/DurableTask.AzureStorage/
 * AzureStorageOrchestrationServiceSettings.cs, ControlQueueVisibilityTimeout (5 minutes).
 */
import { randomUUID } from "node:crypto";
import { logger } from "../../src/logger";
import type { EngineBookkeeping } from "./bookkeeping";
import { KeyedSerialQueue } from "./keyedQueue";
import type { FunctionRegistration } from "./registry";
import type { EntityRecord, EntityRequest } from "./store";
import type { DurableTimers } from "./timers";
import type { EntityBatchResult, EntityOperationResult, FunctionInvoker } from "./workers/invocations";

/** ControlQueueVisibilityTimeout: a leased message whose work was lost comes back after this. */
const MESSAGE_LEASE_MS = 5 * 60 * 1000;

/** Hooks the host's fault injection plugs into (see faults.ts). */
export interface EntityFaultHooks {
  /** Called after an operation ran; a callback means "the work item dies now, before the checkpoint". */
  crashAfterEntityOperationRan(entityName: string, operation: string): (() => void) | undefined;
}

/** Scheduler id of an entity, as durable-functions builds it. */
export function entitySchedulerId(name: string, key: string): string {
  return `@${name.toLowerCase()}@${key}`;
}

function parseSchedulerId(schedulerId: string): { name: string; key: string } {
  const separator = schedulerId.indexOf("@", 1);
  return { name: schedulerId.substring(1, separator), key: schedulerId.substring(separator + 1) };
}

export class EntityRunner {
  private readonly queue = new KeyedSerialQueue();

  constructor(
    private readonly book: EngineBookkeeping,
    private readonly registrations: ReadonlyMap<string, FunctionRegistration>,
    private readonly faults: EntityFaultHooks,
    private readonly timers: DurableTimers,
    /** Delivers an operation's response to the orchestration that called it (EventRaised named by request id). */
    private readonly respond: (instanceId: string, requestId: string, response: string) => Promise<void>,
    /** Runs the entity functions (in this process or in a worker process). */
    private readonly invoker: FunctionInvoker,
  ) {}

  async enqueue(schedulerId: string, request: EntityRequest): Promise<void> {
    if (this.book.stopped) return;
    let entity = this.book.entities.get(schedulerId);
    if (!entity) {
      const { name, key } = parseSchedulerId(schedulerId);
      const lastModifiedTime = this.book.now().toISOString();
      entity = { entityId: schedulerId, name, key, exists: false, queue: [], lastModifiedTime };
      this.book.entities.set(schedulerId, entity);
    }
    entity.queue.push(request);
    await this.book.saveEntity(entity);
    this.schedule(schedulerId);
  }

  schedule(schedulerId: string): void {
    if (this.book.stopped) return;
    const redeliverAt = this.book.entities.get(schedulerId)?.redeliverAt;
    if (redeliverAt !== undefined && Date.parse(redeliverAt) > this.book.now().getTime()) {
      this.timers.arm(schedulerId, -1, new Date(redeliverAt), () => this.schedule(schedulerId));
      return;
    }
    void this.book.track(() => this.queue.run(schedulerId, () => this.drain(schedulerId)));
  }

  /** Runs queued operations one at a time, each committed (state, response, signals) after it ran. */
  private async drain(schedulerId: string): Promise<void> {
    const entity = this.book.entities.get(schedulerId);
    while (entity && entity.queue.length > 0 && !this.book.stopped) {
      const request = entity.queue[0]!;
      const ran = await this.runOperation(entity, request);
      if (this.book.stopped) return;
      const crashed = this.faults.crashAfterEntityOperationRan(entity.name, request.operation);
      if (crashed) {
        await this.loseCheckpoint(entity);
        crashed();
        return;
      }
      delete entity.redeliverAt;
      await this.commit(entity, request, ran);
    }
  }

  /**
   * The work item died after the operation ran and before its checkpoint: nothing of it is recorded (state, response,
   * signals), and its message, leased, comes back once the lease expires.
   */
  private async loseCheckpoint(entity: EntityRecord): Promise<void> {
    entity.redeliverAt = new Date(this.book.now().getTime() + MESSAGE_LEASE_MS).toISOString();
    await this.book.saveEntity(entity);
    this.schedule(entity.entityId);
  }

  private async runOperation(
    entity: EntityRecord,
    request: EntityRequest,
  ): Promise<{ result: EntityOperationResult; batch?: EntityBatchResult }> {
    const registration = this.registrations.get(entity.name);
    if (!registration) {
      logger.warning(`local host: operation "${request.operation}" for ${entity.entityId} dropped: no such entity`);
      return { result: { isError: true, result: JSON.stringify(`no entity function named "${entity.name}"`) } };
    }
    const batchInput = {
      self: { name: entity.name, key: entity.key },
      exists: entity.exists,
      state: entity.state,
      batch: [{ id: request.id, name: request.operation, signal: request.signal, input: request.input }],
    };
    let batch: EntityBatchResult;
    try {
      batch = await this.invoker.entity(entity.name, batchInput);
    } catch (error) {
      // The batch never returned (its worker process exited): every operation of it fails and the state stays, as
      // TaskEntityShim.ExecuteOutOfProcBatch treats a batch that timed out.
      return { result: { isError: true, result: JSON.stringify(error instanceof Error ? error.message : error) } };
    }
    return { result: batch.results[0] ?? { isError: false }, batch };
  }

  private async commit(
    entity: EntityRecord,
    request: EntityRequest,
    ran: { result: EntityOperationResult; batch?: EntityBatchResult },
  ): Promise<void> {
    const { result, batch } = ran;
    if (!result.isError && batch) {
      entity.exists = batch.entityExists;
      entity.state = batch.entityExists ? batch.entityState : undefined;
    }
    entity.queue.shift();
    const saved = this.book.saveEntity(entity);
    if (request.replyTo) await this.respond(request.replyTo, request.id, responseOf(entity, request, result));
    await saved;
    for (const signal of result.isError ? [] : (batch?.signals ?? [])) {
      await this.enqueue(entitySchedulerId(signal.target.name, signal.target.key), {
        id: randomUUID(),
        operation: signal.name,
        signal: true,
        input: signal.input === "" ? undefined : signal.input,
      });
    }
  }
}

/** The response message a caller receives (durable-functions ResponseMessage: result, exceptionType). */
function responseOf(entity: EntityRecord, request: EntityRequest, result: EntityOperationResult): string {
  if (!result.isError) return JSON.stringify({ result: result.result });
  const message =
    result.result && result.result !== "{}"
      ? result.result
      : JSON.stringify(`entity operation "${request.operation}" on ${entity.entityId} failed`);
  return JSON.stringify({ result: message, exceptionType: "Error" });
}
