/**
 * The errors the endpoint sends, with the condition names the service uses. The names and what clients make
 * of them follow @azure/core-amqp src/errors.ts (ConditionStatusMapper, ConditionErrorNameMapper) in
 * Azure/azure-sdk-for-js, and the Python client's azure/eventhub/_pyamqp/error.py ErrorCondition; the
 * descriptions follow the service's wording as the SDKs' issue threads quote it.
 */
import type { AmqpError } from "rhea";

export const Conditions = {
  notFound: "amqp:not-found",
  notImplemented: "amqp:not-implemented",
  notAllowed: "amqp:not-allowed",
  invalidField: "amqp:invalid-field",
  linkStolen: "amqp:link:stolen",
  messageSizeExceeded: "amqp:link:message-size-exceeded",
  serverBusy: "com.microsoft:server-busy",
  entityDisabled: "com.microsoft:entity-disabled",
  argumentOutOfRange: "com.microsoft:argument-out-of-range",
  outOfOrderSequence: "com.microsoft:out-of-order-sequence",
} as const;

/** The service's refusal of an unknown hub or consumer group (the JS SDK: MessagingEntityNotFoundError). */
export function entityNotFound(address: string): AmqpError {
  return { condition: Conditions.notFound, description: `The messaging entity '${address}' could not be found.` };
}

/** The service's refusal of a partition id the hub does not have (the JS SDK: ArgumentOutOfRangeError). */
export function partitionOutOfRange(partitionId: string, partitionCount: number): AmqpError {
  return {
    condition: Conditions.argumentOutOfRange,
    description:
      `The specified partition '${partitionId}' is invalid for an EventHub partition sender or receiver. ` +
      `It should be between 0 and ${partitionCount - 1}.`,
  };
}

export function notImplemented(what: string): AmqpError {
  return { condition: Conditions.notImplemented, description: `${what} is not supported` };
}

export function messageSizeExceeded(deliveryId: number, size: number, limit: number): AmqpError {
  return {
    condition: Conditions.messageSizeExceeded,
    description:
      `The received message (delivery-id:${deliveryId}, size:${size} bytes) exceeds the limit ` +
      `(${limit} bytes) currently allowed on the link.`,
  };
}

export function serverBusy(faultsLeft: number): AmqpError {
  return {
    condition: Conditions.serverBusy,
    description:
      "The request was terminated because the entity is being throttled. Please wait 4 seconds and try again. " +
      `(local fault injection, ${faultsLeft} left)`,
  };
}

export function entityDisabled(target: string, faultsLeft: number): AmqpError {
  return {
    condition: Conditions.entityDisabled,
    description: `Messaging entity '${target}' is currently disabled. (local fault injection, ${faultsLeft} left)`,
  };
}
