import { randomUUID } from "node:crypto";
import { ArmHttpError } from "./armHttpError";
import type { ArmClock } from "./clock";
import type { OperationFailure } from "./faults";
import { answerOf, ok, type ArmResponse } from "./http";

/**
 * Asynchronous operations as ARM describes them (Azure/azure-resource-manager-rpc v1.0/async-api-reference.md):
 * the Azure-AsyncOperation URL answers 200 with `{id, name, status, startTime, endTime, error}`, status
 * InProgress until it ends Succeeded or Failed (with `error{code,message}`); the Location URL answers 202 while
 * the operation runs, then "the exact same response that would have been returned had the operation been executed
 * synchronously": 200 with the final body, 204 without one, or the error with its status code. Polls on either
 * URL advance the operation, so a client that follows only Location completes too.
 */

/**
 * Which polling headers 201/202 answers carry: both, as the Network resource provider sends them, or only the one
 * the REST spec documents per operation (networkWatcher.json 2025-03-01: Azure-AsyncOperation for the PUT,
 * Location for stop, queryStatus and delete).
 */
export type PollingHeaders = "asyncOperationAndLocation" | "asDocumented";

/** What an operation does when it ends. */
export interface OperationWork {
  /** Applies the outcome; returns the final Location answer (200 with the body, or 200/204 without one). */
  complete(): ArmResponse;
  /** Applies a failure (e.g. provisioningState Failed). */
  fail?(failure: OperationFailure): void;
}

export interface BeginOperation {
  apiVersion: string;
  subscriptionId: string;
  location: string;
  /** Key of the resource it acts on, so reads of that resource settle it first. */
  resourceKey: string;
  /** The header the REST spec documents for this operation. */
  documentedHeader: "Azure-AsyncOperation" | "Location";
  work: OperationWork;
  /** Set when the operation must end Failed (fault switch). */
  failure?: OperationFailure;
}

interface AsyncOperation extends BeginOperation {
  id: string;
  pollsRemaining: number;
  status: "InProgress" | "Succeeded" | "Failed";
  startTime: string;
  endTime?: string;
  result?: ArmResponse;
}

export class AsyncOperations {
  endpoint = "";
  private readonly operations = new Map<string, AsyncOperation>();

  constructor(
    private readonly clock: ArmClock,
    private readonly pollsBeforeCompletion: number,
    private readonly pollingHeaders: PollingHeaders,
  ) {}

  /** Registers an operation; returns the polling headers of the 201/202 answer. */
  begin(begin: BeginOperation): Record<string, string> {
    const id = randomUUID();
    const startTime = new Date(this.clock.now()).toISOString();
    this.operations.set(id, {
      ...begin,
      id,
      pollsRemaining: this.pollsBeforeCompletion,
      status: "InProgress",
      startTime,
    });
    const base = `${this.endpoint}${locationPath(begin)}`;
    const query = `?api-version=${encodeURIComponent(begin.apiVersion)}`;
    const headers = {
      "Azure-AsyncOperation": `${base}/operations/${id}${query}`,
      Location: `${base}/operationResults/${id}${query}`,
    };
    if (this.pollingHeaders === "asyncOperationAndLocation") return headers;
    return { [begin.documentedHeader]: headers[begin.documentedHeader] };
  }

  /** Ends the resource's running operations: a read after the work is done sees the outcome. */
  settle(resourceKey: string): void {
    for (const operation of this.operations.values()) {
      if (operation.resourceKey === resourceKey && operation.status === "InProgress") this.end(operation);
    }
  }

  /** GET of the Azure-AsyncOperation URL. */
  status(subscriptionId: string, id: string): ArmResponse {
    const operation = this.polled(subscriptionId, id);
    const { status, startTime, endTime, failure } = operation;
    const operationId = `${locationPath(operation)}/operations/${id}`;
    return ok({
      id: operationId,
      name: id,
      status,
      startTime,
      ...(endTime && { endTime }),
      ...(status === "Failed" && failure && { error: { code: failure.code, message: failure.message } }),
    });
  }

  /** GET of the Location URL. */
  result(subscriptionId: string, id: string, href: string): ArmResponse {
    const operation = this.polled(subscriptionId, id);
    if (operation.status === "InProgress") return { statusCode: 202, headers: { Location: href } };
    if (operation.status === "Failed" && operation.failure) {
      const { statusCode, code, message } = operation.failure;
      return answerOf(new ArmHttpError(statusCode, code, message));
    }
    return operation.result ?? { statusCode: 204 };
  }

  private polled(subscriptionId: string, id: string): AsyncOperation {
    const operation = this.operations.get(id);
    if (!operation || operation.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()) {
      throw new ArmHttpError(404, "NotFound", `Operation ${id} not found.`);
    }
    if (operation.status === "InProgress") {
      if (operation.pollsRemaining > 0) operation.pollsRemaining -= 1;
      else this.end(operation);
    }
    return operation;
  }

  private end(operation: AsyncOperation): void {
    operation.endTime = new Date(this.clock.now()).toISOString();
    if (operation.failure) {
      operation.status = "Failed";
      operation.work.fail?.(operation.failure);
      return;
    }
    operation.status = "Succeeded";
    operation.result = operation.work.complete();
  }
}

/** Operations live under the subscription's location of the Network provider (as the Network RP's do). */
function locationPath(scope: { subscriptionId: string; location: string }): string {
  return `/subscriptions/${scope.subscriptionId}/providers/Microsoft.Network/locations/${scope.location}`;
}
