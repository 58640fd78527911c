import { ArmHttpError, resourceNotFound } from "./armHttpError";
import { ok, page, type ArmResponse, type RequestContext } from "./http";
import {
  resourceIdOf,
  scopePrefix,
  toNicResource,
  toScaleSetResource,
  toScaleSetVmResource,
  toVirtualMachineResource,
  toWatcherResource,
  type Watcher,
} from "./resources";
import {
  parseResourceId,
  resourceKey,
  scaleSetInstanceVms,
  type ArmSeed,
  type NetworkInterfaceSeed,
  type VirtualMachineScaleSetSeed,
  type VirtualMachineSeed,
} from "./seed";

/** A scale set with its instances' VM seeds (keyed by lower-cased instance id). */
interface ScaleSet {
  seed: VirtualMachineScaleSetSeed;
  instances: Map<string, VirtualMachineSeed>;
}

/** The seeded, read-only resources: subscriptions, resource groups, VMs with their NICs, network watchers. */
export class ArmTopology {
  /** Resource group names by subscription key, each keyed by lower-cased name. */
  private readonly resourceGroups = new Map<string, Map<string, string>>();
  private readonly watchers = new Map<string, Watcher>();
  private readonly virtualMachines = new Map<string, VirtualMachineSeed>();
  private readonly nics = new Map<string, { nic: NetworkInterfaceSeed; vm: VirtualMachineSeed }>();
  private readonly scaleSets = new Map<string, ScaleSet>();

  constructor(
    seed: ArmSeed,
    private readonly listPageSize: number | undefined,
  ) {
    for (const subscription of seed.subscriptions) {
      const groups = new Map<string, string>();
      for (const group of subscription.resourceGroups ?? []) groups.set(resourceKey(group), group);
      this.resourceGroups.set(resourceKey(subscription.id), groups);
    }
    for (const vm of seed.virtualMachines ?? []) {
      this.addResourceGroupOf(vm.id);
      this.virtualMachines.set(resourceKey(vm.id), vm);
      for (const nic of vm.nics) {
        this.addResourceGroupOf(nic.id);
        this.nics.set(resourceKey(nic.id), { nic, vm });
      }
    }
    for (const set of seed.virtualMachineScaleSets ?? []) {
      this.addResourceGroupOf(set.id);
      const instances = new Map(scaleSetInstanceVms(set).map((vm) => [resourceKey(vm.id.split("/").pop()!), vm]));
      this.scaleSets.set(resourceKey(set.id), { seed: set, instances });
    }
    for (const seedWatcher of seed.networkWatchers ?? []) {
      const name = seedWatcher.name ?? `NetworkWatcher_${seedWatcher.location}`;
      const resourceGroup = seedWatcher.resourceGroup ?? "NetworkWatcherRG";
      const id = resourceIdOf(seedWatcher.subscriptionId, resourceGroup, "Microsoft.Network/networkWatchers", name);
      this.addResourceGroupOf(id);
      const { subscriptionId, location } = seedWatcher;
      this.watchers.set(resourceKey(id), { id, name, resourceGroup, subscriptionId, location });
    }
  }

  virtualMachine(id: string): VirtualMachineSeed | undefined {
    return this.virtualMachines.get(resourceKey(id));
  }

  /** A scale set and its instances, or undefined. */
  scaleSet(id: string): ScaleSet | undefined {
    return this.scaleSets.get(resourceKey(id));
  }

  /** VirtualMachineScaleSets_ListAll (Compute spec virtualMachineScaleSet.json). */
  listScaleSets(context: RequestContext, subscriptionId: string): ArmResponse {
    this.requireScope(subscriptionId);
    const prefix = scopePrefix(subscriptionId);
    const sets = [...this.scaleSets.values()].filter((set) => resourceKey(set.seed.id).startsWith(prefix));
    return this.page(
      context,
      sets.map((set) => toScaleSetResource(set.seed)),
    );
  }

  /** VirtualMachineScaleSetVMs_Get (Compute spec virtualMachineScaleSet.json), `$expand=instanceView` honoured. */
  getScaleSetVm(context: RequestContext, path: [string, string, string, string]): ArmResponse {
    const vm = this.scaleSetOrThrow(path).instances.get(resourceKey(path[3]));
    if (!vm) throw resourceNotFound("Microsoft.Compute/virtualMachineScaleSets/virtualMachines", path[3], path[1]);
    const expand = (context.url.searchParams.get("$expand") ?? "").toLowerCase();
    return ok(toScaleSetVmResource(vm, expand === "instanceview"));
  }

  /**
   * NetworkInterfaces_ListVirtualMachineScaleSetNetworkInterfaces (azure-rest-api-specs network
   * vmssNetworkInterface.json, api-version 2018-10-01 as @azure/arm-network sends it): every instance's NICs.
   * Uniform scale set NICs are in no resource group listing (networkInterfaces.listAll leaves them out).
   */
  listScaleSetNics(context: RequestContext, path: [string, string, string]): ArmResponse {
    const set = this.scaleSetOrThrow(path);
    const bodies = [...set.instances.values()].flatMap((vm) => vm.nics.map((nic) => toNicResource(nic, vm)));
    return this.page(context, bodies);
  }

  private scaleSetOrThrow([subscriptionId, resourceGroup, name]: readonly string[]): ScaleSet {
    this.requireScope(subscriptionId!, resourceGroup);
    const id = resourceIdOf(subscriptionId!, resourceGroup!, "Microsoft.Compute/virtualMachineScaleSets", name!);
    const set = this.scaleSet(id);
    if (!set) throw resourceNotFound("Microsoft.Compute/virtualMachineScaleSets", name!, resourceGroup!);
    return set;
  }

  watcher(subscriptionId: string, resourceGroup: string, name: string): Watcher {
    this.requireScope(subscriptionId, resourceGroup);
    const watcher = this.watchers.get(
      resourceKey(resourceIdOf(subscriptionId, resourceGroup, "Microsoft.Network/networkWatchers", name)),
    );
    if (!watcher) throw resourceNotFound("Microsoft.Network/networkWatchers", name, resourceGroup);
    return watcher;
  }

  listWatchers(context: RequestContext, subscriptionId: string, resourceGroup?: string): ArmResponse {
    this.requireScope(subscriptionId, resourceGroup);
    const prefix = scopePrefix(subscriptionId, resourceGroup);
    const inScope = [...this.watchers.values()].filter((watcher) => resourceKey(watcher.id).startsWith(prefix));
    return this.page(context, inScope.map(toWatcherResource));
  }

  listNics(context: RequestContext, subscriptionId: string, resourceGroup?: string): ArmResponse {
    this.requireScope(subscriptionId, resourceGroup);
    const prefix = scopePrefix(subscriptionId, resourceGroup);
    const entries = [...this.nics.values()].filter(({ nic }) => resourceKey(nic.id).startsWith(prefix));
    return this.page(
      context,
      entries.map(({ nic, vm }) => toNicResource(nic, vm)),
    );
  }

  getNic(subscriptionId: string, resourceGroup: string, name: string): ArmResponse {
    this.requireScope(subscriptionId, resourceGroup);
    const entry = this.nics.get(
      resourceKey(resourceIdOf(subscriptionId, resourceGroup, "Microsoft.Network/networkInterfaces", name)),
    );
    if (!entry) throw resourceNotFound("Microsoft.Network/networkInterfaces", name, resourceGroup);
    return ok(toNicResource(entry.nic, entry.vm));
  }

  listVirtualMachines(context: RequestContext, subscriptionId: string): ArmResponse {
    this.requireScope(subscriptionId);
    const prefix = scopePrefix(subscriptionId);
    const machines = [...this.virtualMachines.values()].filter((vm) => resourceKey(vm.id).startsWith(prefix));
    return this.page(
      context,
      machines.map((vm) => toVirtualMachineResource(vm, false)),
    );
  }

  getVirtualMachine(context: RequestContext, subscriptionId: string, resourceGroup: string, name: string): ArmResponse {
    this.requireScope(subscriptionId, resourceGroup);
    const vm = this.virtualMachine(
      resourceIdOf(subscriptionId, resourceGroup, "Microsoft.Compute/virtualMachines", name),
    );
    if (!vm) throw resourceNotFound("Microsoft.Compute/virtualMachines", name, resourceGroup);
    const expand = (context.url.searchParams.get("$expand") ?? "").toLowerCase();
    return ok(toVirtualMachineResource(vm, expand === "instanceview"));
  }

  page(context: RequestContext, values: unknown[]): ArmResponse {
    return page(context, values, this.listPageSize);
  }

  private addResourceGroupOf(id: string): void {
    const parsed = parseResourceId(id);
    const groups = parsed && this.resourceGroups.get(resourceKey(parsed.subscriptionId));
    if (parsed && groups && !groups.has(resourceKey(parsed.resourceGroup)))
      groups.set(resourceKey(parsed.resourceGroup), parsed.resourceGroup);
  }

  private requireScope(subscriptionId: string, resourceGroup?: string): void {
    const groups = this.resourceGroups.get(resourceKey(subscriptionId));
    if (!groups)
      throw new ArmHttpError(404, "SubscriptionNotFound", `The subscription '${subscriptionId}' could not be found.`);
    if (resourceGroup !== undefined && !groups.has(resourceKey(resourceGroup))) {
      throw new ArmHttpError(404, "ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`);
    }
  }
}
