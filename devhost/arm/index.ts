/** Local Azure Resource Manager endpoint (https) for the real `@azure/arm-network` client. */
export { startArmEndpoint, AGENT_NOT_INSTALLED_CODE, MAX_SESSIONS_PER_REGION } from "./armEndpoint";
export type { ArmEndpoint, ArmFailureTarget, RecordedArmRequest, StartArmEndpointOptions } from "./armEndpoint";
export { ARM_FAILURE_MODES, ArmErrorCodes } from "./faults";
export type { ArmFailureMode, ArmFault, ArmFaultKind, ArmFaultPhase } from "./faults";
export type { PollingHeaders } from "./asyncOperations";
export { ArmClock } from "./clock";
export { INVALID_REQUEST_CODE, MAX_TIME_LIMIT_IN_SECONDS, PACKET_CAPTURE_ERROR_CODES } from "./packetCaptures";
export type { PacketCaptureErrorCode } from "./packetCaptures";
export type {
  ArmSeed,
  SubscriptionSeed,
  VirtualMachineSeed,
  NetworkInterfaceSeed,
  NetworkWatcherSeed,
  VirtualMachineScaleSetSeed,
  ScaleSetInstanceSeed,
  ScaleSetNicSeed,
} from "./seed";
export { createLocalNetworkClient, StaticTokenCredential, LOCAL_LRO_UPDATE_INTERVAL_IN_MS } from "./clients";
export type { CreateLocalNetworkClientOptions } from "./clients";
// The production VM lookup, re-exported for tests that read VMs from the local endpoint.
export {
  getVirtualMachine,
  hasNetworkWatcherExtension,
  VIRTUAL_MACHINE_API_VERSION,
} from "../../src/adapters/virtualMachines";
export type {
  GetVirtualMachineOptions,
  VirtualMachine,
  VirtualMachineExtension,
} from "../../src/adapters/virtualMachines";
