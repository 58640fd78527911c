/**
 * Performatives as the service writes them. rhea sends only the fields it was given, so its lists end at
 * their last set field; the service's AMQP stack writes every field, NULL or not, and clients that read
 * performatives by position rely on that: the Python azure-eventhub client reads OPEN frame[4]
 * (_pyamqp/_connection.py `_incoming_open`), BEGIN frame[4] (session.py `_incoming_begin`), ATTACH frame[13]
 * (link.py `_incoming_attach`, which also drops a link whose reply lacks a source or a target) and the
 * TRANSFER payload after its 11 fields (receiver.py `_incoming_transfer` frame[11]). What the service sends,
 * from frame traces its SDKs' users posted:
 * - OPEN `{<id>_G19,NULL,65536,4999,240000,NULL,NULL,NULL,NULL,NULL}` (Azure/azure-sdk-for-python#5316);
 * - BEGIN `{RemoteChannel: 0, NextOutgoingID: 1, IncomingWindow: 5000, OutgoingWindow: 5000, HandleMax: 255,
 *   ...}` (vcabbage/amqp#56, against Event Hubs);
 * - ATTACH replies echoing the source and the target address, with max-message-size; FLOW, TRANSFER and
 *   DISPOSITION with all their fields (Azure/azure-iot-sdk-c#2233, the same gateway stack).
 */
import { types, type Connection, type Receiver, type Sender, type Session } from "rhea";

/** Connection fields of the service's OPEN, given to rhea as listen options. */
export const SERVICE_OPEN_FIELDS = { max_frame_size: 65536, channel_max: 4999, idle_time_out: 240000 } as const;
const SERVICE_HANDLE_MAX = 255;

/** Field counts of the performatives by descriptor code (AMQP 1.0 part 2.7). */
const FIELD_COUNTS: Record<number, number> = {
  0x10: 10, // open
  0x11: 8, // begin
  0x12: 14, // attach
  0x13: 11, // flow
  0x14: 11, // transfer
  0x15: 6, // disposition
  0x16: 3, // detach
  0x17: 1, // end
  0x18: 1, // close
};

/** rhea's performative objects: a list of (wrapped) field values behind named accessors. */
interface Performative {
  value: unknown[];
  constructor: { descriptor?: { numeric: number } };
  [field: string]: unknown;
}

/** rhea internals used here (not in its type declarations). */
interface RheaConnectionInternals {
  _write_frame(channel?: number, frame?: Performative, payload?: Buffer): void;
}

/** The error (condition, description, info) of DETACH, END and CLOSE, at this field index. */
const ERROR_FIELD: Record<number, number> = { 0x16: 2, 0x17: 0, 0x18: 0 };
const ERROR_FIELDS = 3;

function presentEveryField(performative: Performative): void {
  const code = performative.constructor.descriptor?.numeric ?? -1;
  const count = FIELD_COUNTS[code] ?? 0;
  for (let index = 0; index < count; index += 1) performative.value[index] ??= types.wrap(null);
  // The error is already encoded here: rhea's described list, whose `value` holds its wrapped fields.
  const error = ERROR_FIELD[code] === undefined ? undefined : performative.value[ERROR_FIELD[code]];
  const fields = (error as { value?: unknown } | undefined)?.value;
  if (Array.isArray(fields)) for (let index = 0; index < ERROR_FIELDS; index += 1) fields[index] ??= types.wrap(null);
}

/**
 * Call from `connection_open`, before rhea writes its OPEN: from then on every performative of this
 * connection goes out with all its fields. rhea has no option for it, so its frame writer is wrapped.
 */
export function writeEveryField(connection: Connection): void {
  const internals = connection as unknown as RheaConnectionInternals;
  const write = internals._write_frame.bind(connection);
  internals._write_frame = (channel, frame, payload) => {
    // rhea's heartbeat (rhea/lib/connection.js, `setTimeout(this._write_frame.bind(this), ...)`) writes an
    // empty frame: no performative to complete.
    if (frame !== undefined) presentEveryField(frame);
    write(channel, frame, payload);
  };
}

/** Call from `session_open`. */
export function completeBegin(session: Session): void {
  (session as unknown as { local: { begin: Performative } }).local.begin.handle_max = SERVICE_HANDLE_MAX;
}

/**
 * Call from `sender_open` / `receiver_open`: both termini name the address the client attached to, and
 * the properties are a map (maybe empty), never NULL: the Python client merges the reply's properties into
 * its own when it sent some (link.py `self.properties.update(frame[13])`), as its producer always does.
 */
export function completeAttach(link: Sender | Receiver, address: string): void {
  link.set_source({ address: link.source?.address ?? address });
  link.set_target({ address: link.target?.address ?? address });
  (link as unknown as { local: { attach: Performative } }).local.attach.properties = {};
}
