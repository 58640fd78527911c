/**
 * The local Functions host: a development and test runtime for the flowtap app (NOT production:
 * Azure runs the Functions host). See host.ts for the API and devhost/README.md for usage.
 */
export { startLocalHost, LocalHost } from "./host";
export type { ClockOptions, HostKeys, InstanceStatus, LocalHostOptions, WaitForInstanceOptions } from "./host";
export { RealClock, VirtualClock } from "./clock";
export type { HostClock } from "./clock";
export { JsonFileStore, MemoryStore } from "./store";
export type { EntityRecord, HostStore, InstanceRecord, RuntimeStatus, StoreSnapshot } from "./store";
export type { AppSource, FunctionRegistration, RegistrationSummary } from "./registry";
export type { CrashAfterActivityOptions, FailActivityOptions, FaultInjector } from "./faults";
export type { HistoryEvent } from "./history";
export { parseSchedule } from "./ncrontab";
export { TableStore } from "./tableStore";
