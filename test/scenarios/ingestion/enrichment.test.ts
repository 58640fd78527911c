/**
 * Enrichment end to end on the local system: the local ARM endpoint serves the generator's
 * topology, so the events of a generated blob arrive with their NIC, VM (or scale set instance), subnet and
 * VNet; a NIC ARM does not know leaves the fields null and its events are delivered all the same.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { VirtualMachineSeed } from "../../../devhost/arm";
import { armSeedOf } from "../../../devhost/demo/plan";
import { FLOWS_HUB, readHubEvents, type LocalSystem } from "../../../devhost/system";
import { TriggerNames } from "../../../src/contracts/names";
import type { FlowEvent } from "../../../src/core/event";
import { GrowingBlob, nsgNic, startTestSystem, topology, vnetNic } from "./helpers";

let system: LocalSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

async function eventsOfOneMinute(current: LocalSystem, nic: typeof vnetNic): Promise<FlowEvent[]> {
  const [commit] = await new GrowingBlob(current, nic, 6).appendMinutes(1);
  await current.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commit!.events.eventGrid);
  await current.host.waitForIdle();
  return (await readHubEvents(current.eventHubsConnectionString, FLOWS_HUB, { expectedCount: 6 })).map(
    (message) => JSON.parse(message.bodyText) as FlowEvent,
  );
}

describe("enrichment", () => {
  it("resolves a Uniform scale set instance's MAC to its NIC, the scale set VM, subnet and VNet", async () => {
    // Prepare: the VNet NIC belongs to instance 2 of a scale set, not to a VM.
    const seed = armSeedOf(topology);
    const isVnetNic = (vm: VirtualMachineSeed) => vm.nics[0]!.mac.replaceAll("-", "") === vnetNic.macAddress;
    const { nics, location } = seed.virtualMachines!.find(isVnetNic)!;
    const scaleSetId =
      `/subscriptions/${vnetNic.subscriptionId}/resourceGroups/${vnetNic.resourceGroup}/providers/` +
      "Microsoft.Compute/virtualMachineScaleSets/vmss-app";
    const { mac, privateIp, subnetId } = nics[0]!;
    const virtualMachineScaleSets = [
      {
        id: scaleSetId,
        location,
        networkWatcherExtension: true,
        instances: [{ instanceId: "2", nics: [{ name: "nic0", mac, privateIp, ...(subnetId && { subnetId }) }] }],
      },
    ];
    const virtualMachines = seed.virtualMachines!.filter((vm) => !isVnetNic(vm));
    system = await startTestSystem({ arm: { seed: { ...seed, virtualMachines, virtualMachineScaleSets } } });
    // Act
    const events = await eventsOfOneMinute(system, vnetNic);
    // Assess
    const instanceVmId = `${scaleSetId}/virtualMachines/2`;
    const vnetId = vnetNic.targetResourceId;
    expect(
      new Set(events.map((event) => JSON.stringify([event.nicId, event.vmId, event.subnetId, event.vnetId]))),
    ).toEqual(
      new Set([
        JSON.stringify([`${instanceVmId}/networkInterfaces/nic0`, instanceVmId, `${vnetId}/subnets/default`, vnetId]),
      ]),
    );
  });

  it("resolves each MAC to its NIC, VM, subnet and VNet through ARM; an unknown NIC's fields stay null", async () => {
    // Prepare: ARM knows every generated NIC but the NSG one.
    const seed = armSeedOf(topology);
    const known = seed.virtualMachines!.filter((vm) => vm.nics[0]!.mac.replaceAll("-", "") !== nsgNic.macAddress);
    system = await startTestSystem({ arm: { seed: { ...seed, virtualMachines: known } } });
    const blobs = [new GrowingBlob(system, vnetNic, 6), new GrowingBlob(system, nsgNic, 6)];
    // Act
    for (const blob of blobs) {
      const [commit] = await blob.appendMinutes(1);
      await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commit!.events.eventGrid);
    }
    await system.host.waitForIdle();
    const events = (await readHubEvents(system.eventHubsConnectionString, FLOWS_HUB, { expectedCount: 12 })).map(
      (message) => JSON.parse(message.bodyText) as FlowEvent,
    );
    // Assess
    const vm = known.find((candidate) => candidate.nics[0]!.mac.replaceAll("-", "") === vnetNic.macAddress)!;
    const vnetId = vnetNic.targetResourceId;
    const enrichmentOf = (mac: string) =>
      new Set(
        events
          .filter((event) => event.mac === mac)
          .map((event) => JSON.stringify([event.nicId, event.vmId, event.subnetId, event.vnetId])),
      );
    expect(events).toHaveLength(12);
    expect(enrichmentOf(vnetNic.macAddress)).toEqual(
      new Set([JSON.stringify([vm.nics[0]!.id, vm.id, `${vnetId}/subnets/default`, vnetId])]),
    );
    expect(enrichmentOf(nsgNic.macAddress)).toEqual(new Set([JSON.stringify([null, null, null, null])]));
  });
});
