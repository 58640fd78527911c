import type { Connection } from "rhea";
import type { Hub } from "./hubs";

/**
 * Makes the next `count` sends (to `hub`, or to any hub) fail the way the service fails them:
 * `server-busy` refuses them with `com.microsoft:server-busy`; `timeout` never settles them, so the
 * client's send times out. `storeEventsOfTimedOutSends` keeps the events of a timed-out send, as
 * when the service stored a batch but its acknowledgement was lost (the client then sends duplicates).
 * `entity-disabled` refuses them with `com.microsoft:entity-disabled` (not retryable: an operator
 * disabled the hub).
 */
export interface InjectFaultsOptions {
  kind: "server-busy" | "timeout" | "entity-disabled";
  count: number;
  hub?: string;
  storeEventsOfTimedOutSends?: boolean;
  /** Sends (to `hub`, or to any hub) that go through untouched before the faults begin; default 0. */
  afterSends?: number;
}

export interface PendingFault extends InjectFaultsOptions {
  remaining: number;
  sendsToLetThrough: number;
}

/** How sends ended, for tests of retry paths. */
export interface SendOutcomeCounts {
  accepted: number;
  /** Sends of an idempotent producer whose sequence numbers were already stored: accepted, not stored again. */
  duplicatesIgnored: number;
  refusedServerBusy: number;
  refusedTooLarge: number;
  timedOut: number;
}

/** What the parts of the endpoint share. */
export interface EndpointState {
  hubs: Map<string, Hub>;
  maxMessageSizeInBytes: number;
  retainEvents: boolean;
  faults: PendingFault[];
  outcomes: SendOutcomeCounts;
  /** Open connections, each with what to undo when it goes (consumer links' append listeners). */
  connections: Map<Connection, Set<() => void>>;
}
