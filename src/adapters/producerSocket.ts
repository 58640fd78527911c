/**
 * Nagle's algorithm off on an Event Hubs producer's socket. rhea, under `@azure/core-amqp`, turns it off only when a
 * receiver attaches (rhea lib/connection.js: `tcp_no_delay` is read with default false in `init`, true in
 * `attach_receiver`), and core-amqp's ConnectionContextBase passes no such option, so a producer keeps it on: the
 * last, short segment of a batch then waits for the service to acknowledge the ones before it, which a receiver that
 * delays its ACKs does for up to 40 ms (Linux). Measured against the local endpoint: one 1 MB batch in flight, a send
 * took 1-5 ms, or about 45 ms whenever it stalled (every third send or so); with the option, none stalled. A producer
 * that writes whole batches gains nothing from Nagle (librdkafka and RabbitMQ clients default to TCP_NODELAY too).
 *
 * The SDK has no socket option, so this reaches the connection through its private fields (`_context.connection`,
 * rhea-promise's `_connection`, rhea's `socket`); it is called before each send, so a reconnected socket gets it too.
 * When a later SDK moves them, it does nothing and says so once (test/adapters/producerSocket.test.ts fails then).
 */
import type { EventHubProducerClient } from "@azure/event-hubs";
import type { Socket } from "node:net";
import { logger } from "../logger";

/** The private path from a producer to its socket, as @azure/event-hubs 6 and rhea-promise 3 lay it out. */
interface ProducerInternals {
  _context?: { connection?: { _connection?: { socket?: Partial<Pick<Socket, "setNoDelay">> } } };
}

const socketsWithoutDelay = new WeakSet<object>();
let warnedUnreachable = false;

/**
 * Turns Nagle off on the producer's current socket (once per socket); true when the socket has it off, false when
 * there is no socket yet (not connected) or it cannot be reached.
 */
export function disableNagle(producer: EventHubProducerClient): boolean {
  const internals = producer as unknown as ProducerInternals;
  const connection = internals._context?.connection;
  const socket = connection?._connection?.socket;
  if (socket === undefined) {
    if (connection === undefined || connection._connection === undefined) warnUnreachable();
    return false;
  }
  if (socketsWithoutDelay.has(socket)) return true;
  if (typeof socket.setNoDelay !== "function") {
    warnUnreachable();
    return false;
  }
  socket.setNoDelay(true);
  socketsWithoutDelay.add(socket);
  return true;
}

function warnUnreachable(): void {
  if (warnedUnreachable) return;
  warnedUnreachable = true;
  logger.warning(
    "Event Hubs: this SDK version hides its AMQP socket, so Nagle's algorithm stays on for producers " +
      "(sends may wait up to the service's delayed acknowledgement)",
  );
}
