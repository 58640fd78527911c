/**
 * local.settings.json.example (for `func start`) holds settings the app accepts once its
 * placeholders are filled in: what docs/operations.md tells a user to copy.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSettings } from "../../src/config";

describe("local.settings.json.example", () => {
  it("is valid JSON whose Values, placeholders filled in, pass the app's validation", () => {
    // Prepare
    const text = readFileSync(join(__dirname, "../../local.settings.json.example"), "utf8");
    const filled = text
      .replace("<flow-log storage account>", "flowlogs")
      .replace("<event hubs namespace>", "flowtap-ns")
      .replace("<subscription id>", "00000000-0000-0000-0000-000000000001")
      .replace("<resource group>", "rg-captures")
      .replace("<capture storage account>", "captures");
    const { Values: values } = JSON.parse(filled) as { Values: Record<string, string> };

    // Act
    const settings = readSettings(values);

    // Assess
    expect(values.FUNCTIONS_WORKER_RUNTIME).toBe("node");
    expect(settings.storage).toMatchObject({
      accountName: "flowlogs",
      connection: { kind: "identity", uri: "https://flowlogs.blob.core.windows.net" },
    });
    expect(settings.eventHubs).toMatchObject({
      eventHubName: "flows",
      alertsEventHubName: "alerts",
      connection: { kind: "identity", uri: "flowtap-ns.servicebus.windows.net" },
    });
    expect(settings.capture.policy?.storage.storageAccountId).toBe(
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-captures/providers/Microsoft.Storage/storageAccounts/captures",
    );
  });
});
