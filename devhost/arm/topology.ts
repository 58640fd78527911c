import { ArmHttpError, resourceNotFound } from "./armHttpError";
import { ok, page, type ArmResponse, type RequestContext } from "./http";
import {
  resourceIdOf,
  scopePrefix,
  toNicResource,
  toVirtualMachineResource,
  toWatcherResource,
  type Watcher,
} from "./resources";
import { parseResourceId, resourceKey, type ArmSeed, type NetworkInterfaceSeed, type VirtualMachineSeed } from "./seed";

/** The seeded, read-only resources: subscriptions, resource groups, VMs with their NICs, network watchers. */
export class ArmTopology {
  /** Resource group names by subscription key, each keyed by lower-cased name. */
  private readonly resourceGroups = new Map<string, Map<string, string>>();
  private readonly watchers = new Map<string, Watcher>();
  private readonly virtualMachines = new Map<string, VirtualMachineSeed>();
  private readonly nics = new Map<string, { nic: NetworkInterfaceSeed; vm: VirtualMachineSeed }>();

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
