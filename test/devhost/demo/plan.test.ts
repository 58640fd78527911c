/** The demo's plan: attacks inside the live window, an ARM estate matching the generated NICs. */
import { describe, expect, it } from "vitest";
import { validateArmSeed } from "../../../devhost/arm/seed";
import {
  DEFAULT_DEMO_OPTIONS,
  armSeedOf,
  historicBlobs,
  liveBlobs,
  liveHourBefore,
  planDemo,
} from "../../../devhost/demo/plan";

const LIVE_HOUR = "2026-11-22T12:00:00.000Z";

describe("planDemo", () => {
  it("puts the three attacks in the live window and history in the hours before it", () => {
    // Act
    const plan = planDemo({ ...DEFAULT_DEMO_OPTIONS, liveHourIso: LIVE_HOUR });

    // Assess
    const liveStart = Date.parse(LIVE_HOUR);
    expect(plan.attacks.map((attack) => attack.kind)).toEqual(["scan", "bruteforce", "egress"]);
    for (const attack of plan.attacks) {
      const minute = (Date.parse(attack.startIso) - liveStart) / 60_000;
      expect(minute).toBeGreaterThanOrEqual(plan.liveFirstMinute);
      expect(minute + 5).toBeLessThan(plan.liveEndMinute);
    }
    expect(new Set(plan.attacks.map((attack) => attack.macAddress)).size).toBe(3);
    expect(plan.topology.subscriptions).toHaveLength(2);
    expect(new Set(plan.topology.nics.map((nic) => nic.kind))).toEqual(new Set(["nsg", "vnet"]));
    expect(historicBlobs(plan).map((blob) => blob.hourIso)).toEqual([
      ...Array(4).fill("2026-11-22T10:00:00.000Z"),
      ...Array(4).fill("2026-11-22T11:00:00.000Z"),
    ]);
    expect(liveBlobs(plan).every((blob) => blob.hourIso === LIVE_HOUR)).toBe(true);
    expect(liveHourBefore(Date.parse("2026-11-22T13:34:56Z"))).toBe(LIVE_HOUR);
  });

  it("seeds ARM with a VM per NIC (Network Watcher extension installed) and a watcher per region", () => {
    // Prepare
    const { topology } = planDemo({ ...DEFAULT_DEMO_OPTIONS, liveHourIso: LIVE_HOUR });

    // Act
    const seed = armSeedOf(topology);

    // Assess
    expect(() => validateArmSeed(seed)).not.toThrow();
    expect(seed.virtualMachines?.map((vm) => vm.nics[0]?.mac.replaceAll("-", ""))).toEqual(
      topology.nics.map((nic) => nic.macAddress),
    );
    expect(seed.virtualMachines?.every((vm) => vm.networkWatcherExtension)).toBe(true);
    const regions = new Set(topology.nics.map((nic) => `${nic.subscriptionId}/${nic.region}`));
    expect(seed.networkWatchers?.map((watcher) => `${watcher.subscriptionId}/${watcher.location}`).sort()).toEqual(
      [...regions].sort(),
    );
  });
});
