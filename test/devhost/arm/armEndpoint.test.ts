import { get } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NetworkManagementClient, PacketCapture } from "@azure/arm-network";
import { RestError } from "@azure/core-rest-pipeline";
import {
  AGENT_NOT_INSTALLED_CODE,
  ArmErrorCodes,
  createLocalNetworkClient,
  getVirtualMachine,
  hasNetworkWatcherExtension,
  INVALID_REQUEST_CODE,
  LOCAL_LRO_UPDATE_INTERVAL_IN_MS,
  StaticTokenCredential,
  startArmEndpoint,
  type ArmEndpoint,
  type ArmSeed,
} from "../../../devhost/arm";

const subscriptionId = "11111111-2222-3333-4444-555555555555";
const group = `/subscriptions/${subscriptionId}/resourceGroups/app-rg/providers`;
const webVmId = `${group}/Microsoft.Compute/virtualMachines/web-1`;
const bareVmId = `${group}/Microsoft.Compute/virtualMachines/bare-1`;
const seed: ArmSeed = {
  subscriptions: [{ id: subscriptionId }],
  virtualMachines: [
    {
      id: webVmId,
      location: "eastus",
      networkWatcherExtension: true,
      nics: [
        {
          id: `${group}/Microsoft.Network/networkInterfaces/web-1-nic`,
          mac: "00-0D-3A-1B-2C-3D",
          privateIp: "10.0.0.4",
        },
      ],
    },
    {
      id: bareVmId,
      location: "eastus",
      networkWatcherExtension: false,
      nics: [
        {
          id: `${group}/Microsoft.Network/networkInterfaces/bare-1-nic`,
          mac: "00-0D-3A-AA-BB-CC",
          privateIp: "10.0.0.5",
        },
      ],
    },
  ],
  networkWatchers: [
    { subscriptionId, location: "eastus" },
    { subscriptionId, location: "westeurope" },
  ],
};
const watcherGroup = "NetworkWatcherRG";
const watcherName = "NetworkWatcher_eastus";
const lro = { updateIntervalInMs: LOCAL_LRO_UPDATE_INTERVAL_IN_MS };
const storageId = `${group}/Microsoft.Storage/storageAccounts/captures`;

function captureRequest(target: string, overrides: Partial<PacketCapture> = {}): PacketCapture {
  return {
    target,
    timeLimitInSeconds: 60,
    storageLocation: { storageId, storagePath: "https://captures.blob.core.windows.net/pcaps/c.cap" },
    filters: [{ protocol: "TCP", remoteIPAddress: "203.0.113.9" }],
    ...overrides,
  };
}

async function restErrorOf(promise: Promise<unknown>): Promise<RestError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RestError);
  return error as RestError;
}

describe("local ARM endpoint through the real NetworkManagementClient", () => {
  let arm: ArmEndpoint;
  let client: NetworkManagementClient;

  beforeAll(async () => {
    arm = await startArmEndpoint({ seed, port: 0 });
    client = createLocalNetworkClient(arm.endpoint, subscriptionId, { caCertificatePem: arm.caCertificatePem });
  });
  afterAll(async () => {
    await arm.stop();
  });

  const requestsSince = (start: number) => arm.requests.slice(start);

  it("lists network watchers per region by subscription and by resource group", async () => {
    // Act
    const all = [];
    for await (const watcher of client.networkWatchers.listAll()) all.push(watcher);
    const inGroup = [];
    for await (const watcher of client.networkWatchers.list(watcherGroup)) inGroup.push(watcher);
    const one = await client.networkWatchers.get(watcherGroup, watcherName);

    // Assess
    expect(all.map((watcher) => watcher.name).sort()).toEqual(["NetworkWatcher_eastus", "NetworkWatcher_westeurope"]);
    expect(inGroup).toHaveLength(2);
    expect(one.location).toBe("eastus");
    expect(one.id).toBe(
      `/subscriptions/${subscriptionId}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/` +
        "NetworkWatcher_eastus",
    );
  });

  it("lists network interfaces with MAC, private IP and owning VM", async () => {
    // Act
    const nics = [];
    for await (const nic of client.networkInterfaces.listAll()) nics.push(nic);

    // Assess
    const web = nics.find((nic) => nic.macAddress === "00-0D-3A-1B-2C-3D");
    expect(web?.virtualMachine?.id).toBe(webVmId);
    expect(web?.ipConfigurations?.[0]?.privateIPAddress).toBe("10.0.0.4");
    expect(nics).toHaveLength(2);
    const fetched = await client.networkInterfaces.get("app-rg", "bare-1-nic");
    expect(fetched.virtualMachine?.id).toBe(bareVmId);
  });

  it("serves a VM GET with its extensions to the pipeline-based helper", async () => {
    // Act
    const options = {
      credential: new StaticTokenCredential(),
      endpoint: arm.endpoint,
      tlsOptions: { ca: arm.caCertificatePem },
      expandInstanceView: true,
    };
    const web = await getVirtualMachine(webVmId, options);
    const bare = await getVirtualMachine(bareVmId, options);
    const missing = await restErrorOf(getVirtualMachine(`${group}/Microsoft.Compute/virtualMachines/nope`, options));

    // Assess
    expect(web.location).toBe("eastus");
    expect(hasNetworkWatcherExtension(web)).toBe(true);
    expect(web.properties?.instanceView?.extensions?.[0]?.type).toBe(
      "Microsoft.Azure.NetworkWatcher.NetworkWatcherAgentLinux",
    );
    expect(hasNetworkWatcherExtension(bare)).toBe(false);
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe("ResourceNotFound");
    const vmRequest = arm.requests.find((request) => request.path === webVmId);
    expect(vmRequest?.query).toEqual({ "api-version": "2024-07-01", $expand: "instanceView" });
  });

  it("runs a packet capture from creation to TimeExceeded, then stop, list and delete", async () => {
    // Prepare
    const captures = client.packetCaptures;

    // Act: create (PUT → 201 + Azure-AsyncOperation → polled to Succeeded)
    const created = await captures.beginCreateAndWait(
      watcherGroup,
      watcherName,
      "capture-1",
      captureRequest(webVmId),
      lro,
    );
    const running = await captures.beginGetStatusAndWait(watcherGroup, watcherName, "capture-1", lro);
    arm.clock.advanceBy(61_000);
    const expired = await captures.beginGetStatusAndWait(watcherGroup, watcherName, "capture-1", lro);
    await captures.beginStopAndWait(watcherGroup, watcherName, "capture-1", lro);
    const listed = [];
    for await (const capture of captures.list(watcherGroup, watcherName)) listed.push(capture);
    await captures.beginDeleteAndWait(watcherGroup, watcherName, "capture-1", lro);
    const afterDelete = await restErrorOf(captures.get(watcherGroup, watcherName, "capture-1"));

    // Assess
    expect(created.provisioningState).toBe("Succeeded");
    expect(created.totalBytesPerSession).toBe(1073741824);
    expect(running.packetCaptureStatus).toBe("Running");
    expect(running.captureStartTime).toBeInstanceOf(Date);
    expect(expired.packetCaptureStatus).toBe("Stopped");
    expect(expired.stopReason).toBe("TimeExceeded");
    expect(expired.packetCaptureError).toEqual([]);
    expect(listed.map((capture) => capture.name)).toEqual(["capture-1"]);
    expect(afterDelete.statusCode).toBe(404);
    const put = arm.requests.find((request) => request.method === "PUT");
    expect(put?.statusCode).toBe(201);
    expect(put?.body).toMatchObject({ properties: { target: webVmId, timeLimitInSeconds: 60 } });
    expect(arm.requests.some((request) => /\/operations\//.test(request.path))).toBe(true);
  });

  it("stops a running capture on request", async () => {
    // Prepare
    await client.packetCaptures.beginCreateAndWait(
      watcherGroup,
      watcherName,
      "capture-2",
      captureRequest(webVmId, { timeLimitInSeconds: 0 }),
      lro,
    );

    // Act
    await client.packetCaptures.beginStopAndWait(watcherGroup, watcherName, "capture-2", lro);
    const status = await client.packetCaptures.beginGetStatusAndWait(watcherGroup, watcherName, "capture-2", lro);

    // Assess
    expect(status.packetCaptureStatus).toBe("Stopped");
    expect(status.stopReason).toBe("Manual");
  });

  it("reports a failed session as Error with its packetCaptureError list", async () => {
    // Prepare
    await client.packetCaptures.beginCreateAndWait(
      watcherGroup,
      watcherName,
      "capture-3",
      captureRequest(webVmId),
      lro,
    );

    // Act
    arm.failPacketCapture("capture-3", ["StorageFailed"]);
    const status = await client.packetCaptures.beginGetStatusAndWait(watcherGroup, watcherName, "capture-3", lro);

    // Assess
    expect(status.packetCaptureStatus).toBe("Error");
    expect(status.packetCaptureError).toEqual(["StorageFailed"]);
  });

  it("refuses a capture on a VM without the Network Watcher agent", async () => {
    // Act
    const error = await restErrorOf(
      client.packetCaptures.beginCreateAndWait(
        watcherGroup,
        watcherName,
        "capture-bare",
        captureRequest(bareVmId),
        lro,
      ),
    );

    // Assess
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe(AGENT_NOT_INSTALLED_CODE);
    expect(error.message).toContain("Network Watcher Agent not installed");
  });

  it.each([
    ["timeLimitInSeconds above 18000", { timeLimitInSeconds: 18001 }, "timeLimitInSeconds"],
    ["an unknown filter protocol", { filters: [{ protocol: "ICMP" }] }, "filters[0].protocol"],
    ["no storage location", { storageLocation: {} }, "storageLocation"],
  ])("answers 400 for %s", async (_, overrides, property) => {
    // Act
    const error = await restErrorOf(
      client.packetCaptures.beginCreateAndWait(
        watcherGroup,
        watcherName,
        "capture-bad",
        captureRequest(webVmId, overrides),
        lro,
      ),
    );

    // Assess
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe(INVALID_REQUEST_CODE);
    expect(error.message).toContain(property);
  });

  it("throttles with 429 and Retry-After; the client retries by itself", async () => {
    // Prepare
    arm.injectFaults({
      method: "GET",
      path: "/networkWatchers/NetworkWatcher_eastus",
      statusCode: 429,
      count: 1,
      retryAfterInSeconds: 1,
    });
    const start = arm.requests.length;

    // Act
    const watcher = await client.networkWatchers.get(watcherGroup, watcherName);

    // Assess
    expect(watcher.name).toBe(watcherName);
    expect(requestsSince(start).map((request) => request.statusCode)).toEqual([429, 200]);
  });

  it("surfaces an injected 409 Conflict with its code", async () => {
    // Prepare
    arm.injectFaults({ method: "PUT", path: /packetCaptures\/capture-409$/, statusCode: 409, count: 1 });

    // Act
    const error = await restErrorOf(
      client.packetCaptures.beginCreateAndWait(watcherGroup, watcherName, "capture-409", captureRequest(webVmId), lro),
    );

    // Assess
    expect(error.statusCode).toBe(409);
    expect(error.code).toBe("AnotherOperationInProgress");
  });

  it("refuses a request without a bearer token with 401 AuthenticationFailed", async () => {
    // Act
    const answer = await new Promise<{ statusCode?: number; body: string }>((resolve, reject) => {
      get(
        `${arm.endpoint}/subscriptions/${subscriptionId}/providers/Microsoft.Network/networkWatchers` +
          "?api-version=2024-05-01",
        { ca: arm.caCertificatePem },
        (response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => (body += chunk.toString()));
          response.on("end", () => resolve({ statusCode: response.statusCode, body }));
        },
      ).on("error", reject);
    });

    // Assess
    expect(answer.statusCode).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "AuthenticationFailed" } });
  });

  it("retries a transient 500 and surfaces a persistent one", async () => {
    // Prepare
    arm.injectFaults({ path: "/networkInterfaces", statusCode: 500, count: 1 });
    const start = arm.requests.length;

    // Act
    const recovered = await client.networkInterfaces.get("app-rg", "web-1-nic");
    arm.injectFaults({ path: "/networkInterfaces", statusCode: 500, count: 10 });
    const error = await restErrorOf(client.networkInterfaces.get("app-rg", "web-1-nic"));

    // Assess
    expect(recovered.macAddress).toBe("00-0D-3A-1B-2C-3D");
    expect(
      requestsSince(start)
        .slice(0, 2)
        .map((request) => request.statusCode),
    ).toEqual([500, 200]);
    expect(error.statusCode).toBe(500);
    expect(error.code).toBe("InternalServerError");
  });
});

describe("startArmEndpoint options", () => {
  it("pages list answers with nextLink when listPageSize is set; the client follows it", async () => {
    // Prepare
    const paged = await startArmEndpoint({ seed, listPageSize: 1 });
    const pagedClient = createLocalNetworkClient(paged.endpoint, subscriptionId, {
      caCertificatePem: paged.caCertificatePem,
    });

    try {
      // Act
      const macs = [];
      for await (const nic of pagedClient.networkInterfaces.listAll()) macs.push(nic.macAddress);

      // Assess
      expect(macs.sort()).toEqual(["00-0D-3A-1B-2C-3D", "00-0D-3A-AA-BB-CC"]);
      expect(paged.requests.map((request) => request.query["$skiptoken"])).toEqual([undefined, "1"]);
    } finally {
      await paged.stop();
    }
  });

  it("refuses a seed and names the bad field", async () => {
    // Prepare
    const bad: ArmSeed = {
      subscriptions: [{ id: subscriptionId }],
      virtualMachines: [
        {
          id: webVmId,
          location: "eastus",
          networkWatcherExtension: true,
          nics: [
            { id: `${group}/Microsoft.Network/networkInterfaces/n`, mac: "00:0d:3a:00:00:01", privateIp: "10.0.0.4" },
          ],
        },
      ],
    };

    // Act / Assess
    await expect(startArmEndpoint({ seed: bad })).rejects.toThrow("seed.virtualMachines[0].nics[0].mac");
  });
});

describe("packet capture failures and polling, as networkWatcher.json and the ARM async guidelines describe", () => {
  let arm: ArmEndpoint;
  let client: NetworkManagementClient;

  beforeAll(async () => {
    // Only the documented polling header per operation, and two 202s before an operation ends.
    arm = await startArmEndpoint({
      seed,
      pollingHeaders: "asDocumented",
      pollsBeforeOperationSucceeds: 2,
      maxSessionsPerRegion: 2,
    });
    client = createLocalNetworkClient(arm.endpoint, subscriptionId, { caCertificatePem: arm.caCertificatePem });
  });
  afterAll(async () => {
    await arm.stop();
  });

  const create = (name: string) =>
    client.packetCaptures.beginCreateAndWait(watcherGroup, watcherName, name, captureRequest(webVmId), lro);
  const statusesOf = (pathPart: string, since: number) =>
    arm.requests
      .slice(since)
      .filter((request) => request.path.includes(pathPart))
      .map((request) => request.statusCode);

  it("answers a second PUT of a capture name with 409 and keeps the first capture", async () => {
    // Prepare
    await create("again");

    // Act
    const error = await restErrorOf(create("again"));

    // Assess
    expect(error.statusCode).toBe(409);
    expect(error.code).toBe(ArmErrorCodes.captureAlreadyExists);
    const kept = await client.packetCaptures.get(watcherGroup, watcherName, "again");
    expect(kept.provisioningState).toBe("Succeeded");
    await client.packetCaptures.beginDeleteAndWait(watcherGroup, watcherName, "again", lro);
  });

  it("completes stop, queryStatus and delete by Location alone: 202 until done, then 200 or 204", async () => {
    // Prepare
    await create("by-location");
    const start = arm.requests.length;

    // Act
    await client.packetCaptures.beginStopAndWait(watcherGroup, watcherName, "by-location", lro);
    const status = await client.packetCaptures.beginGetStatusAndWait(watcherGroup, watcherName, "by-location", lro);
    await client.packetCaptures.beginDeleteAndWait(watcherGroup, watcherName, "by-location", lro);

    // Assess
    expect(status).toMatchObject({ packetCaptureStatus: "Stopped", stopReason: "Manual" });
    expect(statusesOf("/operationResults/", start)).toEqual([202, 202, 200, 202, 202, 200, 202, 202, 204]);
    expect(statusesOf("/operations/", start)).toEqual([]);
    const deleted = await restErrorOf(client.packetCaptures.get(watcherGroup, watcherName, "by-location"));
    expect(deleted.statusCode).toBe(404);
  });

  it("ends an operation Failed with its error code; the capture is left provisioningState Failed", async () => {
    // Prepare
    arm.injectFailure("storageFailed", { method: "PUT", path: "/packetCaptures/lost-storage" });
    const start = arm.requests.length;

    // Act
    const error = await create("lost-storage").then(
      () => undefined,
      (reason: unknown) => reason as Error,
    );

    // Assess: core-lro's own Error for a Failed operation names the code from the operation's error body.
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toContain(`${ArmErrorCodes.storageFailed}.`);
    expect(statusesOf("/operations/", start)).toEqual([200, 200, 200]);
    const failed = await client.packetCaptures.get(watcherGroup, watcherName, "lost-storage");
    expect(failed.provisioningState).toBe("Failed");
  });

  it("answers the Location poll of a failed operation with the error and its status code", async () => {
    // Prepare
    await create("stop-fails");
    arm.injectFailure("anotherOperationInProgress", { method: "POST", path: "/stop-fails/stop" });
    arm.injectFaults({ method: "POST", path: "/stop-fails/stop", phase: "operation", statusCode: 409, count: 1 });

    // Act
    const refused = await restErrorOf(
      client.packetCaptures.beginStopAndWait(watcherGroup, watcherName, "stop-fails", lro),
    );
    const failed = await restErrorOf(
      client.packetCaptures.beginStopAndWait(watcherGroup, watcherName, "stop-fails", lro),
    );

    // Assess
    expect([refused.statusCode, refused.code]).toEqual([409, ArmErrorCodes.anotherOperationInProgress]);
    expect([failed.statusCode, failed.code]).toEqual([409, ArmErrorCodes.anotherOperationInProgress]);
    expect(arm.requests.filter((request) => request.path.includes("/operationResults/")).at(-1)?.statusCode).toBe(409);
  });

  it("refuses a session over the per-region limit with 400 and its code", async () => {
    // Prepare: "stop-fails" runs; one more fills the limit of 2.
    await create("fills-limit");

    // Act
    const error = await restErrorOf(create("over-limit"));

    // Assess
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe(ArmErrorCodes.sessionLimitReached);
  });

  it("drops the connection for a reset; the client retries by itself", async () => {
    // Prepare
    arm.injectFailure("connectionReset", { method: "GET", path: "/networkWatchers/NetworkWatcher_eastus" });
    const start = arm.requests.length;

    // Act
    const watcher = await client.networkWatchers.get(watcherGroup, watcherName);

    // Assess
    expect(watcher.name).toBe(watcherName);
    expect(arm.requests.slice(start).map((request) => request.statusCode)).toEqual([0, 200]);
  });
});
