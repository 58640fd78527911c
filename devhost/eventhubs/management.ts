/**
 * `$cbs` put-token and `$management` READ, answered as the service answers them. Request and reply shapes
 * follow the JS SDK's managementClient.ts (getEventHubRuntimeInformation / getPartitionRuntimeInformation)
 * and the Python client's _client_base.py (`_get_eventhub_properties`, `_get_partition_properties`), which
 * read the body map by these names: hub `name`, `created_at` (timestamp), `partition_count` (int),
 * `partition_ids` (array of string); partition `name`, `partition`, `begin_sequence_number` and
 * `last_enqueued_sequence_number` (long), `last_enqueued_offset` (string), `last_enqueued_time_utc`
 * (timestamp), `is_partition_empty` (boolean). Status goes in `status-code` (int) / `status-description`,
 * errors add `error-condition` (core-amqp requestResponseLink.ts reads all three).
 */
import { types, type AmqpError, type Delivery, type EventContext, type Message, type Sender } from "rhea";
import { logger } from "../../src/logger";
import { entityNotFound, notImplemented } from "./conditions";
import { partitionOf, partitionRefusal, type Hub } from "./hubs";
import type { EndpointState } from "./state";

const EVENTHUB_TYPE = "com.microsoft:eventhub";
const PARTITION_TYPE = "com.microsoft:partition";
/** AMQP str32-utf8: the element constructor of the `partition_ids` array. */
const STRING_TYPECODE = 0xb1;

type Reply = Partial<Message>;

function fail(statusCode: number, error: AmqpError): Reply {
  return {
    application_properties: {
      "status-code": statusCode,
      "status-description": error.description,
      "error-condition": error.condition,
    },
  };
}

function ok(body: Record<string, unknown>): Reply {
  return { application_properties: { "status-code": 200, "status-description": "OK" }, body };
}

function hubProperties(hub: Hub): Reply {
  const { name, partitionCount } = hub.definition;
  const ids = hub.partitions.map((_, index) => String(index));
  return ok({
    name,
    type: EVENTHUB_TYPE,
    created_at: hub.createdOn,
    partition_count: types.wrap_int(partitionCount),
    partition_ids: types.wrap_array(ids, STRING_TYPECODE, undefined),
  });
}

function partitionProperties(hub: Hub, partitionId: string): Reply {
  const log = partitionOf(hub, partitionId);
  // ArgumentOutOfRange is a 400 (core-amqp ConditionStatusMapper).
  if (!log) return fail(400, partitionRefusal(hub, partitionId) ?? entityNotFound(partitionId));
  const info = log.runtimeInfo();
  return ok({
    name: hub.definition.name,
    type: PARTITION_TYPE,
    partition: partitionId,
    begin_sequence_number: types.wrap_long(info.beginningSequenceNumber),
    last_enqueued_sequence_number: types.wrap_long(info.lastEnqueuedSequenceNumber),
    last_enqueued_offset: info.lastEnqueuedOffset,
    last_enqueued_time_utc: info.lastEnqueuedTimeUtc,
    is_partition_empty: info.isEmpty,
  });
}

function managementReply(state: EndpointState, request: Message): Reply {
  const properties = (request.application_properties ?? {}) as Record<string, unknown>;
  if (properties.operation !== "READ") return fail(400, notImplemented(`operation ${String(properties.operation)}`));
  const hub = state.hubs.get(String(properties.name));
  if (!hub) return fail(404, entityNotFound(String(properties.name)));
  if (properties.type === EVENTHUB_TYPE) return hubProperties(hub);
  if (properties.type === PARTITION_TYPE) return partitionProperties(hub, String(properties.partition));
  return fail(400, notImplemented(`type ${String(properties.type)}`));
}

/** Answers one request on the reply link the client named in `reply_to`. */
export function answerRequest(state: EndpointState, kind: "$cbs" | "$management", context: EventContext): void {
  const request = context.message as Message;
  (context.delivery as Delivery).accept();
  const reply =
    kind === "$cbs"
      ? { application_properties: { "status-code": 202, "status-description": "Accepted" } }
      : managementReply(state, request);
  // The JS SDK names its reply link after the request's `reply_to`; the Python client sets no `reply_to`
  // and reads replies on the link it attached from the same node (_pyamqp/management_link.py).
  const replySender =
    context.connection.find_sender(
      (sender: Sender) => sender.name === request.reply_to || sender.target?.address === request.reply_to,
    ) ??
    context.connection.find_sender(
      (sender: Sender) =>
        request.reply_to === undefined && sender.session === context.session && sender.source?.address === kind,
    );
  if (!replySender) {
    logger.warning(`local Event Hubs: no reply link '${String(request.reply_to)}' for a ${kind} request`);
    return;
  }
  replySender.send({ ...reply, correlation_id: request.message_id, to: request.reply_to } as Message);
}
