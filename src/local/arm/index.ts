/** Local Azure Resource Manager endpoint (https) for the real `@azure/arm-network` client. */
export { startArmEndpoint, AGENT_NOT_INSTALLED_CODE } from "./armEndpoint";
export type { ArmEndpoint, ArmFault, RecordedArmRequest, StartArmEndpointOptions } from "./armEndpoint";
export { ArmClock } from "./clock";
export { INVALID_REQUEST_CODE, MAX_TIME_LIMIT_IN_SECONDS, PACKET_CAPTURE_ERROR_CODES } from "./packetCaptures";
export type { PacketCaptureErrorCode } from "./packetCaptures";
export type { ArmSeed, SubscriptionSeed, VirtualMachineSeed, NetworkInterfaceSeed, NetworkWatcherSeed } from "./seed";
export {
  createLocalNetworkClient,
  getVirtualMachine,
  hasNetworkWatcherExtension,
  StaticTokenCredential,
  LOCAL_LRO_UPDATE_INTERVAL_IN_MS,
  VIRTUAL_MACHINE_API_VERSION,
} from "./clients";
export type { CreateLocalNetworkClientOptions, GetVirtualMachineOptions, VirtualMachine, VirtualMachineExtension } from "./clients";
