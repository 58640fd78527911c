/**
 * Drives one orchestration through durable-functions' own replay engine as the Durable Functions extension
 * does, without a host: each episode hands the SDK the extension's binding input and history, and the shim
 * (devhost/host/shim.ts, OutOfProcOrchestrationShim.cs on DurableTask ids) turns the returned action list
 * into scheduled work recorded in the history. The test plays the rest of the world: it completes the
 * scheduled work with extension-shaped events, in the order it chooses.
 */
import { randomUUID } from "node:crypto";
import * as df from "durable-functions";
import type { OrchestrationHandler } from "durable-functions";
import {
  extensionBindingInput,
  schedulingEventOf,
  stateFromFailure,
  type LibraryOrchestratorState,
} from "../../../devhost/host/episodes";
import { historyEvents, type HistoryEvent } from "../../../devhost/host/history";
import { loadApp } from "../../../devhost/host/registry";
import { replayShim, type Decision, type ShimOutcome } from "../../../devhost/host/shim";

type RecordedHandler = (trigger: unknown, context: unknown) => Promise<unknown>;

/** The SDK's handler of an orchestration function, as the Functions host invokes it. */
export async function orchestrationHandler(name: string, fn: OrchestrationHandler): Promise<RecordedHandler> {
  const app = await loadApp({
    register: () => {
      df.app.orchestration(name, fn);
    },
  });
  const registration = app.registrations.find((r) => r.name === name);
  if (!registration) throw new Error(`orchestration ${name} was not recorded`);
  return registration.handler as RecordedHandler;
}

export interface EpisodeOutcome {
  state: LibraryOrchestratorState;
  shim: ShimOutcome;
}

export class ExtensionModel {
  readonly instance: { instanceId: string; executionId: string; input: string | undefined };
  /** The history after the last episode (past events, then OrchestratorStarted, new events, scheduling events). */
  history: HistoryEvent[] = [];
  /** Every decision of every episode, in the order they were scheduled. */
  readonly decisions: Decision[] = [];
  episodes = 0;
  private inbox: HistoryEvent[];

  constructor(
    private readonly handler: RecordedHandler,
    instanceId: string,
    input: unknown,
    public now: Date,
  ) {
    const inputJson = input === undefined ? undefined : JSON.stringify(input);
    this.instance = { instanceId, executionId: randomUUID(), input: inputJson };
    this.inbox = [historyEvents.executionStarted(now, "model", inputJson)];
  }

  /** Queues events for the next episode. */
  deliver(...events: HistoryEvent[]): void {
    this.inbox.push(...events);
  }

  /** Runs one episode on the queued events; its new decisions are recorded in the history. */
  async episode(): Promise<EpisodeOutcome> {
    const history = [
      ...this.history.map((event) => ({ ...event, IsPlayed: true })),
      historyEvents.orchestratorStarted(this.now),
      ...this.inbox.splice(0),
    ];
    let state: LibraryOrchestratorState;
    try {
      state = (await this.handler(
        extensionBindingInput(this.instance, history),
        new df.DummyOrchestrationContext(),
      )) as LibraryOrchestratorState;
    } catch (error) {
      state = stateFromFailure(error);
    }
    const shim = replayShim(history, state.actions, () => true);
    for (const decision of shim.newDecisions) history.push(schedulingEventOf(this.instance, decision, this.now));
    history.push(historyEvents.orchestratorCompleted(this.now));
    this.history = history;
    this.decisions.push(...shim.newDecisions);
    this.episodes++;
    return { state, shim };
  }

  /** The history's size as the extension would store it (JSON bytes). */
  historyBytes(): number {
    return Buffer.byteLength(JSON.stringify(this.history));
  }
}
