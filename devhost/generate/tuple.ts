/** One synthetic flow tuple before it is written in the NSG or VNet format. */
export interface TupleCounters {
  /** Source to destination since the flow's previous tuple. */
  packetsSent: number;
  bytesSent: number;
  /** Destination to source since the flow's previous tuple. */
  packetsReceived: number;
  bytesReceived: number;
}

export interface SyntheticTuple {
  timeInMs: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  protocol: "tcp" | "udp";
  direction: "I" | "O";
  allowed: boolean;
  /** B begin, C continuing, E end. Denied tuples are B (NSG) / written as D (VNet). */
  state: "B" | "C" | "E";
  /** null for B and for denies. */
  counters: TupleCounters | null;
  rule: string;
}

export interface TimeWindow {
  /** Inclusive. */
  startMs: number;
  /** Exclusive. */
  endMs: number;
}

/** Average full-size packet, to derive packet counts from byte counts. */
const BYTES_PER_PACKET = 1_200;

export function countersFor(bytesSent: number, bytesReceived: number): TupleCounters {
  return {
    packetsSent: bytesSent === 0 ? 0 : Math.max(1, Math.ceil(bytesSent / BYTES_PER_PACKET)),
    bytesSent,
    packetsReceived: bytesReceived === 0 ? 0 : Math.max(1, Math.ceil(bytesReceived / BYTES_PER_PACKET)),
    bytesReceived,
  };
}

/** What stays the same across a flow's tuples. */
export type FlowKey = Omit<SyntheticTuple, "timeInMs" | "state" | "counters">;

/**
 * Builds a tuple with one fixed property order: every tuple then shares one object shape, which
 * keeps sorting and formatting hundreds of thousands of them per minute fast.
 */
export function tupleOf(
  flow: FlowKey,
  timeInMs: number,
  state: SyntheticTuple["state"],
  counters: TupleCounters | null,
): SyntheticTuple {
  return {
    timeInMs,
    srcIp: flow.srcIp,
    dstIp: flow.dstIp,
    srcPort: flow.srcPort,
    dstPort: flow.dstPort,
    protocol: flow.protocol,
    direction: flow.direction,
    allowed: flow.allowed,
    state,
    counters,
    rule: flow.rule,
  };
}
