import { ValidationError } from "../../src/errors";

/** What the local ARM endpoint serves: subscriptions, VMs with their NICs, and network watchers. */
export interface ArmSeed {
  /** Subscriptions; resource groups holding seeded resources are added implicitly. */
  subscriptions: SubscriptionSeed[];
  virtualMachines?: VirtualMachineSeed[];
  /** Uniform VM scale sets with their instances. */
  virtualMachineScaleSets?: VirtualMachineScaleSetSeed[];
  networkWatchers?: NetworkWatcherSeed[];
}

/** A Uniform scale set: its instances are scale set VMs, their NICs live under the instance, not in a group. */
export interface VirtualMachineScaleSetSeed {
  /** Full ARM id: /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}. */
  id: string;
  location: string;
  osType?: "Linux" | "Windows";
  /** Whether the scale set model has the Network Watcher agent extension (every instance then has it). */
  networkWatcherExtension: boolean;
  instances: ScaleSetInstanceSeed[];
}

export interface ScaleSetInstanceSeed {
  /** The instance id ("0", "1", ...): the VM's id is `{scale set id}/virtualMachines/{instanceId}`. */
  instanceId: string;
  /** Default `{set}{instanceId as 6 base-36 digits}`, as Uniform scale sets name their computers. */
  computerName?: string;
  /** NICs by name: ids are `{instance VM id}/networkInterfaces/{name}`; the first is primary. */
  nics: ScaleSetNicSeed[];
}

export type ScaleSetNicSeed = Omit<NetworkInterfaceSeed, "id"> & { name: string };

export interface SubscriptionSeed {
  /** Subscription id (a GUID in Azure; any path-safe token here). */
  id: string;
  /** Extra, possibly empty, resource groups. */
  resourceGroups?: string[];
}

export interface VirtualMachineSeed {
  /** Full ARM id: /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}. */
  id: string;
  /** Azure region, e.g. "eastus". */
  location: string;
  /** The guest's host name (`osProfile.computerName`, what log alerts call `Computer`); default the VM name. */
  computerName?: string;
  /** Operating system; picks NetworkWatcherAgentLinux or NetworkWatcherAgentWindows. Default Linux. */
  osType?: "Linux" | "Windows";
  /** Whether the Network Watcher agent VM extension is installed (packet captures need it). */
  networkWatcherExtension: boolean;
  /** Network interfaces; the first is primary. */
  nics: NetworkInterfaceSeed[];
}

export interface NetworkInterfaceSeed {
  /** Full ARM id: /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/networkInterfaces/{name}. */
  id: string;
  /** MAC address as Azure reports it: six hex pairs joined by dashes, e.g. "00-0D-3A-1B-2C-3D". */
  mac: string;
  /** Private IPv4 address of the primary IP configuration. */
  privateIp: string;
  /** The subnet of the primary IP configuration (`.../virtualNetworks/{vnet}/subnets/{subnet}`), if any. */
  subnetId?: string;
}

export interface NetworkWatcherSeed {
  subscriptionId: string;
  location: string;
  /** Default `NetworkWatcher_{location}`. */
  name?: string;
  /** Default `NetworkWatcherRG`. */
  resourceGroup?: string;
}

/** A parsed ARM resource id of the form /subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}. */
export interface ParsedResourceId {
  subscriptionId: string;
  resourceGroup: string;
  provider: string;
  type: string;
  name: string;
}

const resourceIdPattern = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/([^/]+)\/([^/]+)$/i;
const macPattern = /^[0-9A-F]{2}(-[0-9A-F]{2}){5}$/i;
const ipv4Pattern = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a top-level ARM resource id; undefined when it is not one. */
export function parseResourceId(id: string): ParsedResourceId | undefined {
  const match = resourceIdPattern.exec(id);
  if (!match) return undefined;
  const [, subscriptionId, resourceGroup, provider, type, name] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return { subscriptionId, resourceGroup, provider, type, name };
}

/** ARM ids and names compare case-insensitively. */
export function resourceKey(id: string): string {
  return id.toLowerCase();
}

/** Checks a seed; throws a ValidationError naming the first bad field (e.g. `seed.virtualMachines[0].nics[1].mac`). */
export function validateArmSeed(seed: ArmSeed): void {
  const subscriptionIds = new Set<string>();
  seed.subscriptions.forEach((subscription, index) => {
    requireText(subscription.id, `seed.subscriptions[${index}].id`);
    subscriptionIds.add(resourceKey(subscription.id));
  });
  const requireSubscription = (subscriptionId: string, where: string): void => {
    if (!subscriptionIds.has(resourceKey(subscriptionId))) {
      throw new ValidationError(`${where}: subscription '${subscriptionId}' is not in seed.subscriptions`);
    }
  };
  (seed.virtualMachines ?? []).forEach((vm, vmIndex) => {
    const where = `seed.virtualMachines[${vmIndex}]`;
    const parsed = requireResourceId(vm.id, "Microsoft.Compute", "virtualMachines", `${where}.id`);
    requireSubscription(parsed.subscriptionId, `${where}.id`);
    requireText(vm.location, `${where}.location`);
    if (vm.osType !== undefined && vm.osType !== "Linux" && vm.osType !== "Windows") {
      throw new ValidationError(`${where}.osType: expected "Linux" or "Windows", got ${JSON.stringify(vm.osType)}`);
    }
    vm.nics.forEach((nic, nicIndex) => {
      const nicWhere = `${where}.nics[${nicIndex}]`;
      const nicId = requireResourceId(nic.id, "Microsoft.Network", "networkInterfaces", `${nicWhere}.id`);
      requireSubscription(nicId.subscriptionId, `${nicWhere}.id`);
      validateNicAddresses(nic, nicWhere);
    });
  });
  (seed.virtualMachineScaleSets ?? []).forEach((set, setIndex) => {
    const where = `seed.virtualMachineScaleSets[${setIndex}]`;
    const parsed = requireResourceId(set.id, "Microsoft.Compute", "virtualMachineScaleSets", `${where}.id`);
    requireSubscription(parsed.subscriptionId, `${where}.id`);
    requireText(set.location, `${where}.location`);
    set.instances.forEach((instance, instanceIndex) => {
      const instanceWhere = `${where}.instances[${instanceIndex}]`;
      requireText(instance.instanceId, `${instanceWhere}.instanceId`);
      instance.nics.forEach((nic, nicIndex) => {
        requireText(nic.name, `${instanceWhere}.nics[${nicIndex}].name`);
        validateNicAddresses(nic, `${instanceWhere}.nics[${nicIndex}]`);
      });
    });
  });
  (seed.networkWatchers ?? []).forEach((watcher, index) => {
    const where = `seed.networkWatchers[${index}]`;
    requireSubscription(watcher.subscriptionId, `${where}.subscriptionId`);
    requireText(watcher.location, `${where}.location`);
  });
}

function validateNicAddresses(nic: { mac: string; privateIp: string }, where: string): void {
  if (!macPattern.test(nic.mac)) {
    throw new ValidationError(
      `${where}.mac: expected six hex pairs joined by dashes (00-0D-3A-..), got ${JSON.stringify(nic.mac)}`,
    );
  }
  if (!isIpv4(nic.privateIp)) {
    throw new ValidationError(`${where}.privateIp: expected an IPv4 address, got ${JSON.stringify(nic.privateIp)}`);
  }
}

/** The VM seeds of a scale set's instances: ids, names and NIC ids as ARM gives Uniform scale set VMs. */
export function scaleSetInstanceVms(set: VirtualMachineScaleSetSeed): VirtualMachineSeed[] {
  const setName = set.id.split("/").pop()!;
  return set.instances.map((instance) => {
    const id = `${set.id}/virtualMachines/${instance.instanceId}`;
    return {
      id,
      location: set.location,
      computerName: instance.computerName ?? `${setName}${Number(instance.instanceId).toString(36).padStart(6, "0")}`,
      ...(set.osType !== undefined && { osType: set.osType }),
      networkWatcherExtension: set.networkWatcherExtension,
      nics: instance.nics.map(({ name, ...nic }) => ({ ...nic, id: `${id}/networkInterfaces/${name}` })),
    };
  });
}

export function isIpv4(text: string): boolean {
  const match = ipv4Pattern.exec(text);
  return match !== null && match.slice(1).every((octet) => Number(octet) <= 255);
}

function requireText(value: unknown, where: string): void {
  if (typeof value !== "string" || value.length === 0 || value.includes("/")) {
    throw new ValidationError(`${where}: expected a non-empty name without '/', got ${JSON.stringify(value)}`);
  }
}

function requireResourceId(id: string, provider: string, type: string, where: string): ParsedResourceId {
  const parsed = parseResourceId(id);
  if (
    !parsed ||
    parsed.provider.toLowerCase() !== provider.toLowerCase() ||
    parsed.type.toLowerCase() !== type.toLowerCase()
  ) {
    throw new ValidationError(
      `${where}: expected /subscriptions/{s}/resourceGroups/{rg}/providers/${provider}/${type}/{name}, ` +
        `got ${JSON.stringify(id)}`,
    );
  }
  return parsed;
}
