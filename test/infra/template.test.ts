/**
 * infra/main.json read together with the code: the template, evaluated with its example parameters, sets every
 * setting the code reads (with the code's own defaults for the tuning knobs); grants every ARM action the capture
 * activities send (observed on the local ARM endpoint) at the scope where it acts, plus Network Watcher's linked
 * checks; subscribes Event Grid with the code's filters; runs Node 22 within `engines.node`; holds no secret.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvocationContext } from "@azure/functions";
import * as armActivities from "../../activities/packetCaptureArm";
import { createArmClients } from "../../src/adapters/arm";
import { readSettings, type Env } from "../../src/config";
import { FLOW_LOG_BLOB_NAME, parseAcceptedBlobSubject } from "../../src/core/blobUrl";
import { TriggerNames } from "../../src/contracts/names";
import { BLOB_CREATED_EVENT_TYPE } from "../../src/triggers/blobCreated";
import { startArmEndpoint, type ArmEndpoint, type RecordedArmRequest } from "../../devhost/arm";
import { buildTopology } from "../../devhost/generate";
import { loadApp } from "../../devhost/host/registry";
import { nicIdOf, scaleSetNear, seedOf, vmIdOf } from "../scenarios/capture/captureSystem";
import { NOT_FOR_AZURE, ONLY_WITH_LOG_ANALYTICS, settingsTheCodeReads } from "./appSettings";
import { TemplateContext, nestedContext, type Json } from "./armTemplate";
import { ArmStep, ResolvedCaptureTarget } from "../../src/contracts/captureContracts";

const ROOT = join(__dirname, "../..");
const readJson = (file: string) => JSON.parse(readFileSync(join(ROOT, file), "utf8")) as Record<string, Json>;
const template = readJson("infra/main.json");
const example = readJson("infra/main.parameters.example.json");

const topology = buildTopology({ seed: 18, nics: 3 });
const nic = topology.nics[0]!;
const targetNics = topology.nics.filter((n) => n.subscriptionId === nic.subscriptionId);

/** The example parameters, aimed at the local topology (its subscription and resource groups). */
function deployment(): TemplateContext {
  const parameters = Object.fromEntries(
    Object.entries(example.parameters as Record<string, { value: Json }>).map(([k, v]) => [k, v.value]),
  );
  parameters.captureTargetResourceGroups = [...new Set(targetNics.map((n) => n.resourceGroup))];
  return new TemplateContext(template as never, parameters, {
    subscriptionId: nic.subscriptionId,
    resourceGroup: "rg-flowtap",
    location: nic.region,
  });
}

type Resource = Record<string, Json> & { type: string; name: string };
const resources = template.resources as Resource[];
const resourceOfType = (type: string) => resources.filter((r) => r.type === type);
const nestedDeployment = (name: string) => resources.find((r) => r.name === name)!;

/** The app settings the template deploys, as the app's process.env. */
function templateEnv(context = deployment()): Env {
  const config = resourceOfType("Microsoft.Web/sites/config")[0]!;
  return Object.fromEntries(
    Object.entries(context.evaluate(config.properties) as object).map(([k, v]) => [k, String(v)]),
  );
}

/**
 * What the template sets on purpose where the code's default differs: new deployments send compact messages, 100
 * events a message (docs/destinations.md); the app's own defaults stay plain JSON for existing consumers.
 */
const NEW_DEPLOYMENT_CHOICES = { FLOWTAP_MESSAGE_FORMAT: "compact", FLOWTAP_EVENTS_PER_MESSAGE: "100" };

/** Settings that name resources or connections rather than tune behaviour. */
const WIRING = new RegExp(
  [
    "^(AzureWebJobs|APPLICATIONINSIGHTS_|FlowLogsStorage|EventHubsConnection|",
    "FLOWTAP_(CONTAINERS|QUARANTINE_CONTAINER|EVENTHUB_NAME|ALERTS_EVENTHUB_NAME|CAPTURE_POLICY|ARM_ENDPOINT)$)",
  ].join(""),
);

describe("infra/main.json expressions", () => {
  it("all evaluate with the example parameters: no unknown parameter, variable or function anywhere", () => {
    const evaluateAll = (context: TemplateContext, items: Resource[]): number =>
      items
        .map((resource) => {
          const loop = resource.copy as { count: string } | undefined;
          const indexes = loop
            ? Array.from({ length: context.evaluate(loop.count) as number }, (_, i) => i)
            : [undefined];
          return indexes
            .map((index) => {
              const names = index === undefined ? {} : { [(resource.copy as { name: string }).name]: index };
              if (resource.type !== "Microsoft.Resources/deployments") {
                context.evaluate(resource, names);
                return 1;
              }
              const inner = nestedContext(context, resource, index);
              return 1 + evaluateAll(inner, (inner.template.resources ?? []) as Resource[]);
            })
            .reduce((a, b) => a + b, 0);
        })
        .reduce((a, b) => a + b, 0);
    const context = deployment();

    const evaluated = evaluateAll(context, resources);
    context.evaluate(template.outputs!);

    expect(evaluated).toBeGreaterThan(resources.length);
  });

  it("no variable reads a resource: ARM refuses reference() and list*() in variables, nested templates' too", () => {
    const variablesOf = (value: Json): Json[] =>
      Array.isArray(value)
        ? value.flatMap(variablesOf)
        : value && typeof value === "object"
          ? [...("variables" in value ? [value.variables!] : []), ...Object.values(value).flatMap(variablesOf)]
          : [];

    const readers = variablesOf(template).flatMap((variables) =>
      Object.entries(variables as Record<string, Json>)
        .filter(([, v]) => /\b(reference|list\w*)\(/i.test(JSON.stringify(v)))
        .map(([name]) => name),
    );

    expect(readers).toEqual([]);
  });
});

describe("infra/main.json app settings", () => {
  it("sets every setting the code reads, except those of local runs, other identities or the parts off", () => {
    const env = templateEnv();

    const missing = [...settingsTheCodeReads()].filter(
      (name) => !(name in env) && !(name in NOT_FOR_AZURE) && !ONLY_WITH_LOG_ANALYTICS.includes(name),
    );
    const setAnyway = Object.keys(NOT_FOR_AZURE).filter((name) => name in env);

    expect(missing).toEqual([]);
    expect(setAnyway).toEqual([]);
  });

  it("passes the app's validation; its tuning values are the code's defaults but the new-deployment choices", () => {
    const env = templateEnv();
    const wiringOnly = Object.fromEntries(Object.entries(env).filter(([name]) => WIRING.test(name)));

    const settings = readSettings(env);

    expect(settings).toEqual(readSettings({ ...wiringOnly, ...NEW_DEPLOYMENT_CHOICES }));
    expect(readSettings(wiringOnly).eventHubs).toMatchObject({ messageFormat: "json", eventsPerMessage: 1 });
    expect(settings.eventHubs).toMatchObject({ messageFormat: "compact", eventsPerMessage: 100 });
    expect(settings.storage).toMatchObject({
      accountName: "contosoflowlogs",
      connection: { kind: "identity", uri: "https://contosoflowlogs.blob.core.windows.net" },
    });
    expect(settings.capture.arm).toMatchObject({
      endpoint: "https://management.azure.com",
      credential: { kind: "identity" },
    });
    expect(settings.capture.policy?.allowedResourceGroups).toEqual(
      deployment().parameter("captureTargetResourceGroups"),
    );
  });

  it("gives the Functions host and Durable Functions storage by identity, the bindings their connections", async () => {
    const env = templateEnv();
    const host = readJson("host.json") as { extensions: { durableTask: { storageProvider: Record<string, string> } } };
    const durableConnection = host.extensions.durableTask.storageProvider.connectionName ?? "AzureWebJobsStorage";
    const { registrations } = await loadApp({ modulePath: join(ROOT, "src/app.ts") });
    const bindingConnections = registrations
      .flatMap((r) => [r.trigger, ...r.extraInputs, ...r.extraOutputs])
      .map((binding) => (binding as { connection?: string }).connection)
      .filter((name): name is string => typeof name === "string");

    for (const connection of new Set(["AzureWebJobsStorage", durableConnection, ...bindingConnections])) {
      expect(Object.keys(env).some((name) => name === connection || name.startsWith(`${connection}__`))).toBe(true);
      expect(env[connection], `${connection} must not be a connection string`).toBeUndefined();
    }
    expect(env.AzureWebJobsStorage__accountName).toMatch(/^fthost[0-9a-f]+$/);
  });

  it("creates the hubs, containers and capture storage the settings name", () => {
    const context = deployment();
    const env = templateEnv(context);
    const settings = readSettings(env);
    const names = (type: string) => resourceOfType(type).map((r) => context.evaluate(r.name) as string);
    const captureAccount = settings.capture.policy!.storage.storageAccountId.split("/").at(-1);

    expect(names("Microsoft.EventHub/namespaces/eventhubs")).toEqual([
      `flowtap-contoso-events/${settings.eventHubs.eventHubName}`,
      `flowtap-contoso-events/${settings.eventHubs.alertsEventHubName}`,
    ]);
    expect(names("Microsoft.Storage/storageAccounts/blobServices/containers")).toContain(
      `${captureAccount}/default/${settings.capture.policy!.storage.containerPath}`,
    );
    const flowLogs = nestedContext(context, nestedDeployment("flowtap-flow-log-access"));
    const inner = (flowLogs.template.resources as Resource[]).map((r) => flowLogs.evaluate(r.name));
    expect(inner).toContain(`contosoflowlogs/default/${settings.storage.quarantineContainer}`);
  });
});

describe("infra/main.json Event Grid subscription", () => {
  const context = deployment();
  const flowLogs = nestedContext(context, nestedDeployment("flowtap-flow-log-access"));
  const subscription = (flowLogs.template.resources as Resource[]).find(
    (r) => r.type === "Microsoft.EventGrid/systemTopics/eventSubscriptions",
  )!;
  const properties = flowLogs.evaluate(subscription.properties) as {
    destination: { endpointType: string; properties: { resourceId: string } };
    filter: {
      includedEventTypes: string[];
      subjectEndsWith: string;
      isSubjectCaseSensitive: boolean;
      advancedFilters: { operatorType: string; key: string; values: string[] }[];
    };
  };
  const { filter } = properties;
  const passes = (subject: string) =>
    (filter.isSubjectCaseSensitive ? subject : subject.toLowerCase()).endsWith(filter.subjectEndsWith) &&
    filter.advancedFilters.every((f) => f.key === "subject" && f.values.some((prefix) => subject.startsWith(prefix)));

  it("delivers BlobCreated events to the blobCreatedEventGrid function", async () => {
    const { registrations } = await loadApp({ modulePath: join(ROOT, "src/app.ts") });
    const trigger = registrations.find((r) => r.name === TriggerNames.blobCreatedEventGrid);

    expect(trigger?.triggerType).toBe("eventGridTrigger");
    expect(properties.destination.endpointType).toBe("AzureFunction");
    expect(properties.destination.properties.resourceId).toMatch(
      new RegExp(`/sites/flowtap-contoso/functions/${TriggerNames.blobCreatedEventGrid}$`),
    );
    expect(filter.includedEventTypes).toEqual([BLOB_CREATED_EVENT_TYPE]);
    expect(filter.subjectEndsWith).toBe(`/${FLOW_LOG_BLOB_NAME}`);
    expect(filter.advancedFilters.map((f) => f.operatorType)).toEqual(["StringBeginsWith"]);
  });

  it.each([
    ["an NSG flow log", "insights-logs-networksecuritygroupflowevent", "resourceId=/SUBSCRIPTIONS/S/y=2026/PT1H.json"],
    ["a VNet flow log", "insights-logs-flowlogflowevent", "flowLogResourceID=/S_RG/NW_FL/y=2026/m=11/PT1H.json"],
    ["another container", "other", "resourceId=/SUBSCRIPTIONS/S/PT1H.json"],
    ["another blob name", "insights-logs-flowlogflowevent", "flowLogResourceID=/S_RG/NW_FL/y=2026/pt1h.json"],
    ["a container whose name extends a flow-log one", "insights-logs-flowlogflowevent2", "x/PT1H.json"],
  ])("lets through exactly what the code accepts: %s", (_what, container, path) => {
    const env = templateEnv(context);
    const accepted = readSettings(env).storage;
    const subject = `/blobServices/default/containers/${container}/blobs/${path}`;
    const topic = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/contosoflowlogs";
    let codeAccepts = true;
    try {
      parseAcceptedBlobSubject(subject, topic, accepted);
    } catch {
      codeAccepts = false;
    }

    expect(passes(subject)).toBe(codeAccepts);
  });
});

/** The RBAC action ARM checks for a request (GET read, PUT/PATCH write, DELETE delete, POST <verb>/action). */
function armActionOf(method: string, path: string): string {
  const segments = path.split("/").filter(Boolean);
  const providers = segments.map((s) => s.toLowerCase()).lastIndexOf("providers");
  const [pathNamespace, ...rest] = segments.slice(providers + 1);
  // Namespaces are case-insensitive (arm-network sends `microsoft.Compute/...`): name it as role definitions do.
  const namespace = pathNamespace?.replace(/^microsoft\./i, "Microsoft.");
  const types = rest.filter((_, i) => i % 2 === 0);
  if (method === "POST") return `${namespace}/${types.slice(0, -1).join("/")}/${types.at(-1)}/action`;
  const verb = { GET: "read", PUT: "write", PATCH: "write", DELETE: "delete" }[method];
  return `${namespace}/${types.join("/")}/${verb}`;
}

/** The resource group a path acts in (undefined: the subscription). */
const resourceGroupOf = (path: string) => /\/resourceGroups\/([^/]+)/i.exec(path)?.[1]?.toLowerCase();

const matches = (granted: string, action: string) =>
  new RegExp(
    `^${granted
      .split("*")
      .map((p) => p.replace(/[.?+^$()|[\]\\/{}]/g, "\\$&"))
      .join(".*")}$`,
    "i",
  ).test(action);

describe("infra/main.json roles for packet captures", () => {
  let arm: ArmEndpoint;
  const context = deployment();
  const roles = context.variable("customRoles") as Record<string, { actions: string[]; name: string }>;
  /** Actions granted per resource group (lower case), from the template's role assignments. */
  const grantedIn = new Map<string, string[]>();
  const grant = (group: string, actions: string[]) =>
    grantedIn.set(group.toLowerCase(), [...(grantedIn.get(group.toLowerCase()) ?? []), ...actions]);
  grant(context.parameter("networkWatcherResourceGroup") as string, roles.networkWatcher!.actions);
  const targets = nestedDeployment("[format('flowtap-capture-target-{0}', copyIndex())]");
  (context.parameter("captureTargetResourceGroups") as string[]).forEach((_, index) => {
    grant(nestedContext(context, targets, index).scope.resourceGroup, roles.captureTarget!.actions);
  });
  const scaleSet = scaleSetNear(nic);
  const allows = (action: string, group: string | undefined) =>
    group === undefined
      ? [...grantedIn.values()].some((actions) => actions.some((granted) => matches(granted, action)))
      : (grantedIn.get(group) ?? []).some((granted) => matches(granted, action));

  beforeAll(async () => {
    arm = await startArmEndpoint({
      seed: { ...seedOf(targetNics), virtualMachineScaleSets: [scaleSet] },
      listPageSize: 1,
    });
  });
  afterAll(async () => {
    await arm.stop();
  });

  async function runEveryArmStep(): Promise<RecordedArmRequest[]> {
    // The template's settings, with Resource Manager redirected to the local endpoint.
    const local = { FLOWTAP_ARM_ENDPOINT: arm.endpoint, FLOWTAP_ARM_CA_CERT: arm.caCertificatePem };
    const env = { ...templateEnv(context), ...local, FLOWTAP_ARM_DEV_TOKEN: "t", FLOWTAP_ARM_LRO_INTERVAL_MS: "5" };
    const clients = createArmClients(readSettings(env).capture.arm);
    const deps = { arm: () => clients };
    const run = async (handler: ReturnType<typeof armActivities.makeResolveCaptureTarget>, input: unknown) =>
      (await handler(input, new InvocationContext())) as ArmStep<unknown>;
    const resolve = armActivities.makeResolveCaptureTarget(deps);
    for (const target of [
      { resourceId: vmIdOf(nic), mac: null },
      { resourceId: nicIdOf(nic), mac: null },
      { resourceId: null, mac: nic.macAddress },
      { resourceId: `${scaleSet.id}/virtualMachines/3`, mac: null },
      { resourceId: null, mac: "00-0D-3A-5C-00-01" },
    ])
      expect((await run(resolve, { target, subscriptionIds: [nic.subscriptionId] })).outcome).toBe("ok");
    const resolved = (await run(resolve, { target: { resourceId: vmIdOf(nic), mac: null }, subscriptionIds: [] })) as {
      value: ResolvedCaptureTarget;
    };
    const policy = readSettings(templateEnv(context)).capture.policy!;
    const ref = { watcher: resolved.value.watcher!, name: "flowtap-rbac" };
    const parameters = {
      target: vmIdOf(nic),
      storageLocation: {
        storageId: policy.storage.storageAccountId,
        storagePath: `${policy.storage.blobEndpoint}/${policy.storage.containerPath}/flowtap-rbac.cap`,
      },
    };
    const create = armActivities.makeCreatePacketCapture(deps);
    expect((await run(create, { ...ref, parameters })).outcome).toBe("ok");
    const scaleSetParameters = {
      ...parameters,
      target: scaleSet.id,
      targetType: "AzureVMSS",
      scope: { include: ["3"] },
    };
    expect((await run(create, { ...ref, name: "flowtap-rbac-vmss", parameters: scaleSetParameters })).outcome).toBe(
      "ok",
    );
    // A lost answer: the retry meets the endpoint's 409 for an existing name and reads the capture to adopt it.
    expect((await run(create, { ...ref, parameters })).outcome).toBe("ok");
    for (const make of [
      armActivities.makeGetPacketCaptureStatus,
      armActivities.makeStopPacketCapture,
      armActivities.makeDeletePacketCapture,
    ])
      expect((await run(make(deps), ref)).outcome).toBe("ok");
    return arm.requests;
  }

  it("allows every ARM request the capture activities send, in the resource group it acts in", async () => {
    const requests = await runEveryArmStep();
    // Status of an operation this identity started (Azure-AsyncOperation): ARM asks no role action for it.
    const calls = requests.filter((r) => !/\/locations\/[^/]+\/(operations|operationResults)\//i.test(r.path));
    const actions = calls.map((r) => ({ action: armActionOf(r.method, r.path), group: resourceGroupOf(r.path) }));

    const refused = actions.filter(({ action, group }) => !allows(action, group));

    expect(new Set(actions.map((a) => a.action))).toEqual(
      new Set([
        "Microsoft.Compute/virtualMachines/read",
        "Microsoft.Compute/virtualMachineScaleSets/read",
        "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read",
        "Microsoft.Compute/virtualMachineScaleSets/networkInterfaces/read",
        "Microsoft.Network/networkInterfaces/read",
        "Microsoft.Network/networkWatchers/read",
        "Microsoft.Network/networkWatchers/packetCaptures/write",
        "Microsoft.Network/networkWatchers/packetCaptures/read",
        "Microsoft.Network/networkWatchers/packetCaptures/queryStatus/action",
        "Microsoft.Network/networkWatchers/packetCaptures/stop/action",
        "Microsoft.Network/networkWatchers/packetCaptures/delete",
      ]),
    );
    expect(refused).toEqual([]);
  });

  it("exercises every Network Watcher, NIC and VM operation the activities and adapters call", () => {
    const sources = [
      "activities/packetCaptureArm.ts",
      ...["arm", "virtualMachines"].map((f) => `src/adapters/${f}.ts`),
    ];
    const text = sources.map((file) => readFileSync(join(ROOT, file), "utf8")).join("\n");
    const called = new Set(
      [...text.matchAll(/\b(networkInterfaces|networkWatchers|packetCaptures|captures)\s*\.\s*(\w+)\(/g)].map(
        ([, group, operation]) => `${group === "captures" ? "packetCaptures" : group}.${operation}`,
      ),
    );
    if (/getVirtualMachine\(/.test(text)) called.add("virtualMachines.get");

    // What runEveryArmStep drives through the activities (each maps to one request kind asserted above).
    expect(called).toEqual(
      new Set([
        "networkInterfaces.get",
        "networkInterfaces.listAll",
        "networkInterfaces.listVirtualMachineScaleSetNetworkInterfaces",
        "networkWatchers.listAll",
        "packetCaptures.beginCreateAndWait",
        "packetCaptures.get",
        "packetCaptures.beginGetStatusAndWait",
        "packetCaptures.beginStopAndWait",
        "packetCaptures.beginDeleteAndWait",
        "virtualMachines.get",
      ]),
    );
  });

  it("grants what Network Watcher checks on the caller to create a capture: the VM, its agent, the storage", () => {
    // learn.microsoft.com/azure/network-watcher/required-rbac-permissions, "Additional actions" (scale sets: their
    // extensions; the template installs no agent, so neither virtualMachines/write nor virtualMachineScaleSets/write).
    const onTarget = [
      "Microsoft.Compute/virtualMachines/read",
      "Microsoft.Compute/virtualMachines/extensions/write",
      "Microsoft.Compute/virtualMachineScaleSets/read",
      "Microsoft.Compute/virtualMachineScaleSets/extensions/read",
      "Microsoft.Compute/virtualMachineScaleSets/extensions/write",
    ];
    const captureStorage = roles.captureStorage!.actions;
    const policy = readSettings(templateEnv(context)).capture.policy!;
    const assignment = resourceOfType("Microsoft.Authorization/roleAssignments").find((r) =>
      String(context.evaluate(r.scope!)).endsWith(policy.storage.storageAccountId.split("/").at(-1)!),
    )!;

    for (const action of onTarget) expect(allows(action, nic.resourceGroup.toLowerCase()), action).toBe(true);
    expect(captureStorage).toEqual(
      expect.arrayContaining([
        "Microsoft.Storage/storageAccounts/listServiceSas/action",
        "Microsoft.Storage/storageAccounts/listAccountSas/action",
      ]),
    );
    expect(captureStorage).not.toContain("Microsoft.Storage/storageAccounts/listKeys/action");
    expect(context.evaluate((assignment.properties as Record<string, Json>).roleDefinitionId!)).toBe(
      `/subscriptions/${nic.subscriptionId}/providers/Microsoft.Authorization` +
        `/roleDefinitions/${roles.captureStorage!.name}`,
    );
  });
});

describe("infra/main.json safety and runtime", () => {
  const strings = (value: Json): string[] =>
    typeof value === "string"
      ? [value]
      : Array.isArray(value)
        ? value.flatMap(strings)
        : value && typeof value === "object"
          ? Object.values(value).flatMap(strings)
          : [];

  it("holds no secret: no keys, connection strings, SAS or listKeys; local auth is off where the app connects", () => {
    const text = [...strings(template), ...strings(example)];
    // Key material, connection strings, SAS tokens, and the template functions that read keys.
    const secretLike =
      /AccountKey=|SharedAccessKey|[?&]sig=|listKeys\(|listSecrets\(|password|^[A-Za-z0-9+/]{40,}={0,2}$/i;

    expect(text.filter((s) => secretLike.test(s))).toEqual([]);
    const accounts = resourceOfType("Microsoft.Storage/storageAccounts").map(
      (r) => r.properties as Record<string, Json>,
    );
    expect(accounts.map((p) => p.allowSharedKeyAccess)).toEqual([false, true]); // host; captures (Network Watcher SAS)
    expect(
      (resourceOfType("Microsoft.EventHub/namespaces")[0]!.properties as Record<string, Json>).disableLocalAuth,
    ).toBe(true);
    expect(
      (resourceOfType("Microsoft.Insights/components")[0]!.properties as Record<string, Json>).DisableLocalAuth,
    ).toBe(true);
  });

  it("names the principal type of every role assignment, nested ones included", () => {
    const assignments = (value: Json): Record<string, Json>[] =>
      Array.isArray(value)
        ? value.flatMap(assignments)
        : value && typeof value === "object"
          ? [
              ...(value.type === "Microsoft.Authorization/roleAssignments" ? [value as Record<string, Json>] : []),
              ...Object.values(value).flatMap(assignments),
            ]
          : [];

    const all = assignments(template);

    expect(all.length).toBeGreaterThanOrEqual(9);
    expect(all.map((a) => (a.properties as Record<string, Json>).principalType)).toEqual(
      all.map(() => "ServicePrincipal"),
    );
  });

  it("runs Node 22, which engines.node admits", () => {
    const site = resourceOfType("Microsoft.Web/sites")[0]!;
    const runtime = (site.properties as { functionAppConfig: { runtime: { name: string; version: string } } })
      .functionAppConfig.runtime;
    const engines = (readJson("package.json").engines as { node: string }).node;
    // One clause `>=N[.m.p]` with N at most the runtime's major admits the runtime's current releases.
    const minimums = engines.split("||").map((clause) => /^>=(\d+)(?:\.\d+){0,2}$/.exec(clause.trim())?.[1]);
    const admitted = minimums.filter((major) => major !== undefined && Number(major) <= Number(runtime.version));

    expect(runtime).toEqual({ name: "node", version: "22" });
    expect(admitted, `engines.node '${engines}' has no clause >=N with N <= ${runtime.version}`).not.toEqual([]);
  });
});

describe("README deploy commands", () => {
  it("pass only parameters the template declares, and every one it requires", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(
      readme.indexOf("## Deploying to Azure"),
      readme.indexOf("\n## ", readme.indexOf("## Deploying to Azure") + 1),
    );
    const commands = section.split("\n").filter((line) => /az deployment group create|^\s*flowLog|^deploy /.test(line));
    const passed = new Set(commands.flatMap((line) => [...line.matchAll(/\b([A-Za-z]+)=[^\s]/g)].map((m) => m[1]!)));
    const declared = template.parameters as Record<string, { defaultValue?: Json }>;
    const required = Object.keys(declared).filter((name) => !("defaultValue" in declared[name]!));

    expect(commands.length).toBeGreaterThanOrEqual(3);
    expect([...passed].filter((name) => !(name in declared))).toEqual([]);
    expect(required.filter((name) => !passed.has(name))).toEqual([]);
    expect(passed.has("subscribeBlobCreated")).toBe(true);
  });
});
