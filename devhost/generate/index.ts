/** Deterministic, realistic flow-log generator (pure: seeded, no I/O, no clock). */
export {
  buildTopology,
  type BuildTopologyOptions,
  type Topology,
  type TopologyNic,
  type TopologySubscription,
  type TopologyResourceGroup,
  type FlowLogKind,
} from "./topology";
export {
  generateRecords,
  countTuples,
  DEFAULT_MAX_TUPLES_PER_RECORD,
  type GenerateRecordsOptions,
  type FlowLogRecord,
  type NsgFlowLogRecord,
  type VnetFlowLogRecord,
  type MinuteRange,
} from "./records";
export {
  ATTACK_KINDS,
  ATTACK_DEFAULTS,
  resolveAttack,
  scheduleAttacks,
  type AttackKind,
  type AttackPlan,
  type ResolvedAttack,
  type ScheduleAttacksOptions,
} from "./attacks";
export { BENIGN_BYTES_SENT_PER_MINUTE_BUDGET, DEFAULT_TUPLES_PER_MINUTE_RANGE } from "./benign";
export {
  blobPathFor,
  planBlobs,
  serializeBlob,
  type GeneratedBlobPath,
  type BlobPathForOptions,
  type PlannedBlob,
} from "./blob";
export { parseHourIso, hoursFrom } from "./time";
export { SeededRandom, hashKey } from "./random";
export { planManyBlobs, HOURS_PER_FLOW_LOG, type ManyBlobsOptions, type ManyBlobsLayout } from "./manyBlobs";
