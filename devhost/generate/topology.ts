/**
 * A synthetic Azure estate for the flow-log generator: subscriptions, resource groups,
 * NSGs (NSG flow logs v2) and VNet flow logs, and the NICs they log. Built deterministically
 * from (seed, nics): the same inputs always give the same names, MACs and addresses.
 */
import { SeededRandom } from "./random";

export type FlowLogKind = "nsg" | "vnet";

export interface TopologyNic {
  /** Position in `Topology.nics`. */
  index: number;
  /** NSG flow logs v2 or VNet flow logs (v4). */
  kind: FlowLogKind;
  /** 12 upper-case hex digits, as in flow-log records. */
  macAddress: string;
  privateIp: string;
  vmName: string;
  nicName: string;
  subscriptionId: string;
  resourceGroup: string;
  region: string;
  /** The NSG on the NIC's subnet (both kinds: for VNet flow logs it is the `aclID`). */
  nsgName: string;
  /** Upper-case NSG id as in NSG records' `resourceId`. */
  nsgResourceId: string;
  /** Mixed-case NSG id as in VNet records' `aclID`. */
  aclId: string;
  /** The NSG's `systemId` (NSG records). */
  systemId: string;
  /** VNet flow logs: the flow log's name, id (upper case, as in records) and GUID. */
  flowLogName: string;
  flowLogResourceId: string;
  flowLogGuid: string;
  /** VNet flow logs: the logged VNet (mixed case). */
  targetResourceId: string;
  /** First two octets of the VNet (a /16), e.g. `10.1`: in-VNet peers are drawn from it. */
  vnetPrefix: string;
}

export interface TopologyResourceGroup {
  name: string;
  nsgName: string;
  vnetName: string;
  flowLogName: string;
}

export interface TopologySubscription {
  subscriptionId: string;
  region: string;
  resourceGroups: TopologyResourceGroup[];
}

export interface Topology {
  seed: number;
  subscriptions: TopologySubscription[];
  nics: TopologyNic[];
}

export interface BuildTopologyOptions {
  seed: number;
  nics: number;
  /** Default: 1 for up to 4 NICs, else 2. */
  subscriptions?: number;
  /** Per subscription; default 2. */
  resourceGroupsPerSubscription?: number;
}

const REGIONS = ["westeurope", "eastus", "westus2", "northeurope", "canadaeast", "uksouth"];
const ROLES = ["web", "api", "db", "jump", "worker", "cache"];
const RESOURCE_GROUP_PURPOSES = ["app", "data", "shared", "edge"];
/** OUIs Azure uses for NIC MAC addresses. */
const AZURE_OUIS = ["000D3A", "6045BD", "7C1E52", "002248"];
const MAX_NICS = 100_000;

export function buildTopology(options: BuildTopologyOptions): Topology {
  const { seed, nics } = options;
  const { subscriptionCount, groupCount } = topologyCounts(options);
  const random = SeededRandom.derive(seed, "topology");
  const subscriptions = buildSubscriptions(random, subscriptionCount, groupCount);
  const systemIds = subscriptions.map((sub) => sub.resourceGroups.map(() => random.guid().toLowerCase()));
  const flowLogGuids = subscriptions.map((sub) => sub.resourceGroups.map(() => random.guid().toLowerCase()));
  const oui = random.pick(AZURE_OUIS);
  // An odd multiplier is a bijection mod 2^24, so MACs are distinct for every index.
  const macBase = random.int(0, 0xffffff);
  const macStep = random.int(0, 0x7fffff) * 2 + 1;

  const nicList: TopologyNic[] = [];
  const perGroupCount = new Map<string, number>();
  for (let index = 0; index < nics; index++) {
    // NICs come in pairs (one per kind) so every resource group has both flow-log kinds.
    const pair = Math.floor(index / 2);
    const s = pair % subscriptionCount;
    const g = Math.floor(pair / subscriptionCount) % groupCount;
    const key = `${s}/${g}`;
    const inGroup = perGroupCount.get(key) ?? 0;
    perGroupCount.set(key, inGroup + 1);
    const macSuffix = ((macBase + Math.imul(index, macStep)) & 0xffffff).toString(16).toUpperCase().padStart(6, "0");
    nicList.push(
      nicOf({
        index,
        subscription: subscriptions[s] as TopologySubscription,
        group: subscriptions[s]?.resourceGroups[g] as TopologyResourceGroup,
        vnetPrefix: `10.${(s * groupCount + g) % 256}`,
        inGroup,
        macAddress: `${oui}${macSuffix}`,
        systemId: systemIds[s]?.[g] as string,
        flowLogGuid: flowLogGuids[s]?.[g] as string,
      }),
    );
  }
  return { seed, subscriptions, nics: nicList };
}

function topologyCounts(options: BuildTopologyOptions): { subscriptionCount: number; groupCount: number } {
  const { nics } = options;
  if (!Number.isInteger(nics) || nics < 1 || nics > MAX_NICS) {
    throw new RangeError(`buildTopology: nics must be an integer in [1, ${MAX_NICS}], got ${nics}`);
  }
  const subscriptionCount = options.subscriptions ?? (nics <= 4 ? 1 : 2);
  const groupCount = options.resourceGroupsPerSubscription ?? 2;
  for (const [name, value] of [
    ["subscriptions", subscriptionCount],
    ["resourceGroupsPerSubscription", groupCount],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 100) {
      throw new RangeError(`buildTopology: ${name} must be an integer in [1, 100], got ${value}`);
    }
  }
  return { subscriptionCount, groupCount };
}

function buildSubscriptions(
  random: SeededRandom,
  subscriptionCount: number,
  groupCount: number,
): TopologySubscription[] {
  const subscriptions: TopologySubscription[] = [];
  for (let s = 0; s < subscriptionCount; s++) {
    const resourceGroups: TopologyResourceGroup[] = [];
    for (let g = 0; g < groupCount; g++) {
      const purpose = RESOURCE_GROUP_PURPOSES[g % RESOURCE_GROUP_PURPOSES.length];
      const repeat = g >= RESOURCE_GROUP_PURPOSES.length ? `-${g}` : "";
      const suffix = `${purpose}-${String(s + 1).padStart(2, "0")}${repeat}`;
      resourceGroups.push({
        name: `rg-${suffix}`,
        nsgName: `nsg-${suffix}`,
        vnetName: `vnet-${suffix}`,
        flowLogName: `fl-vnet-${suffix}`,
      });
    }
    subscriptions.push({
      subscriptionId: random.guid().toLowerCase(),
      region: REGIONS[s % REGIONS.length] as string,
      resourceGroups,
    });
  }
  return subscriptions;
}

/** Where a NIC sits and the identifiers drawn for it. */
interface NicPlace {
  index: number;
  subscription: TopologySubscription;
  group: TopologyResourceGroup;
  vnetPrefix: string;
  /** How many NICs of its resource group come before it. */
  inGroup: number;
  macAddress: string;
  systemId: string;
  flowLogGuid: string;
}

function nicOf(place: NicPlace): TopologyNic {
  const { index, subscription, group, vnetPrefix, inGroup } = place;
  const role = ROLES[index % ROLES.length] as string;
  const vmName = `vm-${role}-${String(index + 1).padStart(3, "0")}`;
  const sub = subscription.subscriptionId;
  const region = subscription.region;
  const armGroup = `/SUBSCRIPTIONS/${sub.toUpperCase()}/RESOURCEGROUPS`;
  const network = "PROVIDERS/MICROSOFT.NETWORK";
  const watcher = `NETWORKWATCHERS/NETWORKWATCHER_${region.toUpperCase()}`;
  const nsgSegment = `NETWORKSECURITYGROUPS/${group.nsgName.toUpperCase()}`;
  const groupId = `/subscriptions/${sub}/resourceGroups/${group.name}/providers/Microsoft.Network`;
  return {
    index,
    kind: index % 2 === 0 ? "nsg" : "vnet",
    macAddress: place.macAddress,
    privateIp: `${vnetPrefix}.${Math.floor(inGroup / 250) % 256}.${4 + (inGroup % 250)}`,
    vmName,
    nicName: `${vmName}${100 + (index % 900)}`,
    subscriptionId: sub,
    resourceGroup: group.name,
    region,
    nsgName: group.nsgName,
    nsgResourceId: `${armGroup}/${group.name.toUpperCase()}/${network}/${nsgSegment}`,
    aclId: `${groupId}/networkSecurityGroups/${group.nsgName}`,
    systemId: place.systemId,
    flowLogName: group.flowLogName,
    flowLogResourceId: `${armGroup}/NETWORKWATCHERRG/${network}/${watcher}/FLOWLOGS/${group.flowLogName.toUpperCase()}`,
    flowLogGuid: place.flowLogGuid,
    targetResourceId: `${groupId}/virtualNetworks/${group.vnetName}`,
    vnetPrefix,
  };
}
