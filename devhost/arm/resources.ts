import type { NetworkInterfaceSeed, VirtualMachineScaleSetSeed, VirtualMachineSeed } from "./seed";
import { parseResourceId, resourceKey } from "./seed";

/**
 * Resource bodies as the Network and Compute resource providers return them (shapes from
 * azure-rest-api-specs: network networkWatcher.json / networkInterface.json, compute virtualMachine.json).
 */

export interface Watcher {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
}

const ETAG = 'W/"00000000-0000-0000-0000-000000000001"';

/** `typePath` is "{namespace}/{type}", e.g. "Microsoft.Network/networkWatchers". */
export function resourceIdOf(subscriptionId: string, resourceGroup: string, typePath: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${typePath}/${name}`;
}

export function scopePrefix(subscriptionId: string, resourceGroup?: string): string {
  const subscription = `/subscriptions/${subscriptionId}/`;
  return resourceKey(resourceGroup === undefined ? subscription : `${subscription}resourceGroups/${resourceGroup}/`);
}

export function toWatcherResource(watcher: Watcher): Record<string, unknown> {
  return {
    id: watcher.id,
    name: watcher.name,
    type: "Microsoft.Network/networkWatchers",
    location: watcher.location,
    etag: ETAG,
    properties: { provisioningState: "Succeeded" },
  };
}

export function toNicResource(nic: NetworkInterfaceSeed, vm: VirtualMachineSeed): Record<string, unknown> {
  // A scale set NIC's id ends `/virtualMachines/{instanceId}/networkInterfaces/{name}`: the name is the last segment.
  const name = nic.id.split("/").pop()!;
  return {
    id: nic.id,
    name,
    type: "Microsoft.Network/networkInterfaces",
    location: vm.location,
    etag: ETAG,
    properties: {
      provisioningState: "Succeeded",
      macAddress: nic.mac.toUpperCase(),
      primary: vm.nics[0] === nic,
      enableAcceleratedNetworking: false,
      enableIPForwarding: false,
      ipConfigurations: [
        {
          id: `${nic.id}/ipConfigurations/ipconfig1`,
          name: "ipconfig1",
          type: "Microsoft.Network/networkInterfaces/ipConfigurations",
          properties: {
            provisioningState: "Succeeded",
            privateIPAddress: nic.privateIp,
            privateIPAllocationMethod: "Dynamic",
            privateIPAddressVersion: "IPv4",
            primary: true,
            // NetworkInterfaceIPConfigurationPropertiesFormat.subnet (azure-rest-api-specs networkInterface.json).
            ...(nic.subnetId !== undefined && { subnet: { id: nic.subnetId } }),
          },
        },
      ],
      virtualMachine: { id: vm.id },
    },
  };
}

export function agentExtensionType(vm: VirtualMachineSeed): string {
  return vm.osType === "Windows" ? "NetworkWatcherAgentWindows" : "NetworkWatcherAgentLinux";
}

const EXTENSION_NAME = "AzureNetworkWatcherExtension";
const SUCCEEDED_STATUS = {
  code: "ProvisioningState/succeeded",
  level: "Info",
  displayStatus: "Provisioning succeeded",
};

function instanceViewOf(vm: VirtualMachineSeed): Record<string, unknown> {
  return {
    ...(vm.networkWatcherExtension && {
      extensions: [
        {
          name: EXTENSION_NAME,
          type: `Microsoft.Azure.NetworkWatcher.${agentExtensionType(vm)}`,
          typeHandlerVersion: "1.4.3422.1",
          statuses: [SUCCEEDED_STATUS],
        },
      ],
    }),
    statuses: [SUCCEEDED_STATUS, { code: "PowerState/running", level: "Info", displayStatus: "VM running" }],
  };
}

function extensionResourceOf(vm: VirtualMachineSeed): Record<string, unknown> {
  return {
    id: `${vm.id}/extensions/${EXTENSION_NAME}`,
    name: EXTENSION_NAME,
    type: "Microsoft.Compute/virtualMachines/extensions",
    location: vm.location,
    properties: {
      publisher: "Microsoft.Azure.NetworkWatcher",
      type: agentExtensionType(vm),
      typeHandlerVersion: "1.4",
      autoUpgradeMinorVersion: true,
      provisioningState: "Succeeded",
    },
  };
}

/** The Compute RP's VM GET shape (api-version 2024-07-01): extensions appear under `resources`. */
export function toVirtualMachineResource(vm: VirtualMachineSeed, withInstanceView: boolean): Record<string, unknown> {
  const name = parseResourceId(vm.id)?.name ?? vm.id;
  return {
    id: vm.id,
    name,
    type: "Microsoft.Compute/virtualMachines",
    location: vm.location,
    properties: {
      provisioningState: "Succeeded",
      hardwareProfile: { vmSize: "Standard_D2s_v3" },
      osProfile: { computerName: vm.computerName ?? name },
      storageProfile: { osDisk: { osType: vm.osType ?? "Linux", createOption: "FromImage" } },
      networkProfile: {
        networkInterfaces: vm.nics.map((nic, index) => ({ id: nic.id, properties: { primary: index === 0 } })),
      },
      ...(withInstanceView && { instanceView: instanceViewOf(vm) }),
    },
    ...(vm.networkWatcherExtension && { resources: [extensionResourceOf(vm)] }),
  };
}

/**
 * A scale set VM as VirtualMachineScaleSetVMs_Get answers (Compute spec virtualMachineScaleSet.json,
 * VirtualMachineScaleSetVM): a VM's body with `instanceId`, the name `{set}_{instanceId}` and its own type.
 */
export function toScaleSetVmResource(vm: VirtualMachineSeed, withInstanceView: boolean): Record<string, unknown> {
  const [, , , , , , , setName, , instanceId] = vm.id.split("/").slice(1);
  return {
    ...toVirtualMachineResource(vm, withInstanceView),
    name: `${setName}_${instanceId}`,
    type: "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
    instanceId,
  };
}

/** A scale set as VirtualMachineScaleSets_ListAll lists it (Compute spec virtualMachineScaleSet.json). */
export function toScaleSetResource(set: VirtualMachineScaleSetSeed): Record<string, unknown> {
  return {
    id: set.id,
    name: set.id.split("/").pop(),
    type: "Microsoft.Compute/virtualMachineScaleSets",
    location: set.location,
    sku: { name: "Standard_D2s_v3", tier: "Standard", capacity: set.instances.length },
    properties: { provisioningState: "Succeeded", orchestrationMode: "Uniform", upgradePolicy: { mode: "Manual" } },
  };
}
