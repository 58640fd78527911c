/**
 * What the `flowtap start` demo writes: a small generated estate (NSG and VNet flow logs, several
 * subscriptions), a few hours of history, then a live hour carrying the scripted attacks (a port
 * scan, an RDP brute force, an egress spike) at the minutes devhost/generate scheduleAttacks picks.
 * Small on purpose: the whole demo runs in seconds on two cores.
 */
import {
  ATTACK_DEFAULTS,
  buildTopology,
  generateRecords,
  hoursFrom,
  planBlobs,
  scheduleAttacks,
  type AttackKind,
  type AttackPlan,
  type FlowLogRecord,
  type MinuteRange,
  type PlannedBlob,
  type Topology,
  type TopologyNic,
} from "../generate";
import type { ArmSeed } from "../arm";

export interface DemoPlanOptions {
  seed: number;
  nics: number;
  subscriptions: number;
  /** Hours of history written before flowtap "starts" (the backfill takes them). */
  historicHours: number;
  /** Benign tuples per NIC-minute (attack tuples come on top). */
  tuplesPerMinute: number;
  /** The live hour (a whole UTC hour); history is the hours before it. */
  liveHourIso: string;
}

export const DEMO_ATTACKS: readonly AttackKind[] = ["scan", "bruteforce", "egress"];
export const DEFAULT_DEMO_OPTIONS: Omit<DemoPlanOptions, "liveHourIso"> = {
  seed: 1,
  nics: 4,
  subscriptions: 2,
  historicHours: 2,
  tuplesPerMinute: 3,
};

export interface DemoPlan extends DemoPlanOptions {
  topology: Topology;
  attacks: AttackPlan[];
  /** First hour of history, ISO-8601. */
  historicFromIso: string;
  /** First minute the demo appends live; the minutes before it are in the blob when flowtap starts. */
  liveFirstMinute: number;
  /** End (exclusive) of the minutes of the live hour the demo appends: past the end of the last attack. */
  liveEndMinute: number;
  /** A VNet flow log that stops writing part-way through the live hour (null: the estate has no VNet NIC). */
  silentFlowLog: { macAddress: string; flowLogName: string; fromMinute: number } | null;
}

/** The demo's FLOWTAP_FLOW_LOG_SILENT_MINUTES: the scripted silence outlasts it by a reconcile period. */
export const DEMO_SILENT_MINUTES = 10;
/** The reconcile timer's period (its default schedule): an alert needs a run after the threshold. */
const RECONCILE_PERIOD_IN_MINUTES = 5;

const MINUTE_IN_MS = 60_000;
const HOUR_IN_MS = 3_600_000;

export function planDemo(options: DemoPlanOptions): DemoPlan {
  const topology = buildTopology({ seed: options.seed, nics: options.nics, subscriptions: options.subscriptions });
  const attacks = scheduleAttacks({ kinds: DEMO_ATTACKS, topology, startHourIso: options.liveHourIso, hours: 1 });
  const liveStartMs = Date.parse(options.liveHourIso);
  const attackStartsMs = attacks.map((attack) => Date.parse(attack.startIso));
  const attackEndMs = Math.max(
    ...attacks.map(
      (attack) =>
        Date.parse(attack.startIso) +
        (attack.durationInMinutes ?? ATTACK_DEFAULTS[attack.kind].durationInMinutes) * MINUTE_IN_MS,
    ),
  );
  const liveFirstMinute = Math.max(0, Math.floor((Math.min(...attackStartsMs) - liveStartMs) / MINUTE_IN_MS) - 2);
  const liveEndMinute = Math.min(60, Math.ceil((attackEndMs - liveStartMs) / MINUTE_IN_MS) + 1);
  const attacked = new Set(attacks.map((attack) => attack.macAddress));
  const vnetNics = topology.nics.filter((nic) => nic.kind === "vnet");
  const silentNic = vnetNics.find((nic) => !attacked.has(nic.macAddress)) ?? vnetNics[0];
  return {
    ...options,
    topology,
    attacks,
    historicFromIso: new Date(liveStartMs - options.historicHours * HOUR_IN_MS).toISOString(),
    // Live from a couple of quiet minutes before the first attack (the earlier ones are already
    // written: the first event catches them up), to one minute after the last attack's end.
    liveFirstMinute,
    liveEndMinute,
    // Silent from the middle of the live minutes: it was writing, then stops (freshness alerts it).
    silentFlowLog: silentNic
      ? {
          macAddress: silentNic.macAddress,
          flowLogName: silentNic.flowLogName,
          fromMinute: Math.max(
            liveFirstMinute + 1,
            Math.min(
              Math.floor((liveFirstMinute + liveEndMinute) / 2),
              liveEndMinute - DEMO_SILENT_MINUTES - RECONCILE_PERIOD_IN_MINUTES - 1,
            ),
          ),
        }
      : null,
  };
}

/** The whole hour before `nowMs`'s hour: the demo's live hour, so its data looks current. */
export function liveHourBefore(nowMs: number): string {
  return new Date(Math.floor(nowMs / HOUR_IN_MS) * HOUR_IN_MS - HOUR_IN_MS).toISOString();
}

/** Every blob of the history, hour by hour, NIC by NIC. */
export function historicBlobs(plan: DemoPlan): PlannedBlob[] {
  return [...planBlobs(plan.topology, plan.historicFromIso, plan.historicHours)];
}

/** Every blob of the live hour (one per NIC). */
export function liveBlobs(plan: DemoPlan): PlannedBlob[] {
  return [...planBlobs(plan.topology, plan.liveHourIso, 1)];
}

/** A blob's records, for the whole hour or for some minutes of it. */
export function recordsOf(plan: DemoPlan, blob: PlannedBlob, minutes?: MinuteRange): FlowLogRecord[] {
  return [
    ...generateRecords({
      topology: plan.topology,
      nic: blob.nic,
      hourIso: blob.hourIso,
      attacks: plan.attacks,
      tuplesPerMinute: plan.tuplesPerMinute,
      ...(minutes !== undefined && { minutes }),
      ...(Date.parse(blob.hourIso) === Date.parse(plan.liveHourIso) &&
        blob.nic.macAddress === plan.silentFlowLog?.macAddress && { silentFromMinute: plan.silentFlowLog.fromMinute }),
    }),
  ];
}

/** The hours of history, ISO-8601, oldest first. */
export function historicHours(plan: DemoPlan): string[] {
  return hoursFrom(plan.historicFromIso, plan.historicHours);
}

export const vmIdOf = (nic: TopologyNic): string =>
  `/subscriptions/${nic.subscriptionId}/resourceGroups/${nic.resourceGroup}/providers/Microsoft.Compute/` +
  `virtualMachines/${nic.vmName}`;
const nicIdOf = (nic: TopologyNic): string =>
  `/subscriptions/${nic.subscriptionId}/resourceGroups/${nic.resourceGroup}/providers/Microsoft.Network/` +
  `networkInterfaces/${nic.nicName}`;

/** Every generated NIC sits in its VNet's `default` subnet. */
const subnetIdOf = (nic: TopologyNic): string => `${nic.targetResourceId}/subnets/default`;

/**
 * The ARM estate matching the topology: a VM per NIC (in its subnet) with the Network Watcher
 * extension, a watcher per region. The local ARM endpoint serves it, so enrichment resolves the
 * generated MACs.
 */
export function armSeedOf(topology: Topology): ArmSeed {
  const watchers = new Map<string, { subscriptionId: string; location: string }>();
  for (const nic of topology.nics)
    watchers.set(`${nic.subscriptionId}|${nic.region}`, { subscriptionId: nic.subscriptionId, location: nic.region });
  return {
    subscriptions: topology.subscriptions.map((subscription) => ({ id: subscription.subscriptionId })),
    virtualMachines: topology.nics.map((nic) => ({
      id: vmIdOf(nic),
      location: nic.region,
      osType: nic.vmName.includes("jump") ? "Windows" : "Linux",
      networkWatcherExtension: true,
      nics: [
        {
          id: nicIdOf(nic),
          mac: (nic.macAddress.match(/../g) as string[]).join("-"),
          privateIp: nic.privateIp,
          subnetId: subnetIdOf(nic),
        },
      ],
    })),
    networkWatchers: [...watchers.values()],
  };
}
