/**
 * The Compute VM calls against the local ARM endpoint: URLs built from validated, encoded segments
 * (an injected id is refused before any request), the VM list paged by nextLink, and computer names
 * resolved to VMs or reported unresolved.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StaticTokenCredential, startArmEndpoint, type ArmEndpoint } from "../../devhost/arm";
import {
  getVirtualMachine,
  listVirtualMachines,
  makeComputerResolver,
  type GetVirtualMachineOptions,
} from "../../src/adapters/virtualMachines";
import { ValidationError } from "../../src/errors";

const SUB = "11111111-2222-3333-4444-555555555555";
const GROUP = `/subscriptions/${SUB}/resourceGroups/rg.app(1)/providers`;
const vmId = (name: string) => `${GROUP}/Microsoft.Compute/virtualMachines/${name}`;
const machine = (name: string, index: number, computerName?: string) => ({
  id: vmId(name),
  location: "eastus",
  networkWatcherExtension: true,
  ...(computerName && { computerName }),
  nics: [
    {
      id: `${GROUP}/Microsoft.Network/networkInterfaces/${name}-nic`,
      mac: `00-0D-3A-00-00-0${index}`,
      privateIp: `10.0.0.${index + 4}`,
    },
  ],
});

let arm: ArmEndpoint;
let options: GetVirtualMachineOptions;
beforeAll(async () => {
  arm = await startArmEndpoint({
    seed: {
      subscriptions: [{ id: SUB }],
      virtualMachines: [machine("web-1", 1, "web-host"), machine("db-1", 2), machine("web-2", 3, "web-host")],
    },
    listPageSize: 1,
  });
  options = {
    credential: new StaticTokenCredential(),
    endpoint: arm.endpoint,
    tlsOptions: { ca: arm.caCertificatePem },
  };
});
afterAll(async () => {
  await arm.stop();
});

describe("virtual machine calls", () => {
  it("GETs a VM whose resource group holds ( ) and . at the path of its segments", async () => {
    const start = arm.requests.length;

    const vm = await getVirtualMachine(vmId("web-1"), options);

    expect(vm.properties?.osProfile?.computerName).toBe("web-host");
    expect(arm.requests.slice(start).map((request) => [request.path, request.query])).toEqual([
      [vmId("web-1"), { "api-version": "2024-07-01" }],
    ]);
  });

  it.each([`${vmId("web-1")}?$expand=userData`, vmId("%2e%2e"), vmId("a/../b"), vmId("web 1")])(
    "refuses %s before any request",
    async (id) => {
      const start = arm.requests.length;

      await expect(getVirtualMachine(id, options)).rejects.toThrow(ValidationError);

      expect(arm.requests.length).toBe(start);
    },
  );

  it("lists every VM of a subscription across pages", async () => {
    const machines = await listVirtualMachines(SUB, options);

    expect(machines.map((vm) => vm.name)).toEqual(["web-1", "db-1", "web-2"]);
  });

  it("resolves a computer name to its VM, once per subscription list, and reports the rest unresolved", async () => {
    const lists: string[] = [];
    const resolve = makeComputerResolver((subscriptionId) => {
      lists.push(subscriptionId);
      return listVirtualMachines(subscriptionId, options);
    });

    const db = await resolve("DB-1.contoso.com", [SUB]);
    const web = await resolve("web-host", [SUB]);
    const none = await resolve("mail-1", [SUB]);
    const broken = await resolve("db-1", ["no-such-subscription"]);

    expect(db).toEqual({ ok: true, vmResourceId: vmId("db-1") });
    expect(web).toEqual({ ok: false, reason: '2 virtual machines have computer name "web-host"' });
    expect(none).toEqual({ ok: false, reason: 'no virtual machine with computer name "mail-1"' });
    expect(broken).toEqual({
      ok: false,
      reason: expect.stringMatching(/no-such-subscription failed: .*could not be found/),
    });
    expect(lists).toEqual([SUB, "no-such-subscription"]);
  });
});
