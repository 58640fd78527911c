/**
 * The local ARM endpoint against a client nobody here wrote: Microsoft's Python azure-mgmt-network (Debian
 * python3-azure), with its own ARM long-running-operation poller (azure-mgmt-core ARMPolling), once with both
 * polling headers and once with only the header the REST spec documents per operation (Location for stop,
 * queryStatus and delete); and Python azure-mgmt-compute with azure-mgmt-network reading scale sets, a scale set
 * VM and the scale set NIC list, and creating an AzureVMSS capture scoped to one instance.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { startArmEndpoint, type PollingHeaders } from "../../../devhost/arm";
import { scaleSetNear, seedOf, vmIdOf } from "../../scenarios/capture/captureSystem";
import { buildTopology } from "../../../devhost/generate";

const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(__dirname, "pythonArmClient.py");
const SCALE_SET_SCRIPT = path.join(__dirname, "pythonScaleSetClient.py");
const run = promisify(execFile);

function pythonClientAvailable(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import azure.mgmt.network, azure.mgmt.compute"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const available = pythonClientAvailable();
if (!available) {
  console.warn(
    `skipped: ${PYTHON} with azure.mgmt.network and azure.mgmt.compute (Debian package python3-azure) is not installed`,
  );
}

const nic = { ...buildTopology({ seed: 3, nics: 1 }).nics[0]!, region: "eastus" };

describe.skipIf(!available)("Python azure-mgmt-network against the local ARM endpoint", () => {
  it.each<[PollingHeaders]>([["asyncOperationAndLocation"], ["asDocumented"]])(
    "creates, refuses a second create, queries, stops and deletes a capture, and sees a failed operation (%s)",
    async (pollingHeaders) => {
      // Prepare
      const arm = await startArmEndpoint({ seed: seedOf([nic]), pollingHeaders, pollsBeforeOperationSucceeds: 1 });
      try {
        const caFile = path.join(mkdtempSync(path.join(tmpdir(), "flowtap-arm-")), "ca.pem");
        writeFileSync(caFile, arm.caCertificatePem);
        arm.injectFailure("storageFailed", { method: "PUT", path: "/packetCaptures/py-failed" });

        // Act
        const { stdout } = await run(PYTHON, [SCRIPT, arm.endpoint, caFile, nic.subscriptionId, vmIdOf(nic)]);

        // Assess
        expect(JSON.parse(stdout)).toEqual({
          create: { ok: "Succeeded" },
          createAgain: { statusCode: 409, code: "PacketCaptureAlreadyExists" },
          status: { ok: "Running" },
          stop: { ok: null },
          stoppedStatus: { ok: "Manual" },
          delete: { ok: null },
          failedCreate: { statusCode: 200, code: "StorageFailed" },
        });
      } finally {
        await arm.stop();
      }
    },
  );

  it("serves scale sets, a scale set VM and the scale set NIC list, and takes an AzureVMSS capture", async () => {
    // Prepare
    const scaleSet = scaleSetNear(nic);
    const arm = await startArmEndpoint({ seed: { ...seedOf([nic]), virtualMachineScaleSets: [scaleSet] } });
    try {
      const caFile = path.join(mkdtempSync(path.join(tmpdir(), "flowtap-arm-")), "ca.pem");
      writeFileSync(caFile, arm.caCertificatePem);
      const args = [arm.endpoint, caFile, nic.subscriptionId, scaleSet.id, "3", "NetworkWatcher_eastus"];

      // Act
      const { stdout } = await run(PYTHON, [SCALE_SET_SCRIPT, ...args]);

      // Assess
      const instanceVmId = `${scaleSet.id}/virtualMachines/3`;
      expect(JSON.parse(stdout)).toEqual({
        scaleSets: [scaleSet.id],
        vm: {
          id: instanceVmId,
          name: "vmss-web_3",
          instanceId: "3",
          location: "eastus",
          extensions: ["NetworkWatcherAgentLinux"],
        },
        nics: [
          [
            `${scaleSet.id}/virtualMachines/0/networkInterfaces/vmss-web-nic`,
            "00-0D-3A-5C-00-00",
            `${scaleSet.id}/virtualMachines/0`,
          ],
          [`${instanceVmId}/networkInterfaces/vmss-web-nic`, "00-0D-3A-5C-00-01", instanceVmId],
        ],
        capture: { targetType: "AzureVMSS", scope: ["3"], state: "Succeeded" },
      });
    } finally {
      await arm.stop();
    }
  });
});
