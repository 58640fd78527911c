/**
 * The template's optional Log Analytics part, evaluated as Resource Manager would: off by default (nothing of it is
 * deployed, no setting of it is set), and when on, a data collection rule of kind Direct (its own logs ingestion
 * endpoint: no data collection endpoint) whose input stream declares exactly the columns the sink sends, flowing into
 * ASimNetworkSessionLogs through infra/loganalytics/transform.kql, and a second stream of the alerts hub's events into
 * the custom table FlowtapAlerts_CL, created in the workspace with the same columns; the app's identity holds
 * Monitoring Metrics Publisher on that rule; the app settings point the sinks at the rule's endpoint, immutable id
 * and streams; the workbook is infra/loganalytics/workbook.json.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readLogAnalyticsSources, withLogAnalyticsSources } from "../../infra/logAnalytics";
import {
  ASIM_NETWORK_SESSION_OUTPUT_STREAM,
  DEFAULT_DCR_STREAM,
  NETWORK_SESSION_COLUMNS,
} from "../../src/core/asim/networkSessionColumns";
import { readSettings } from "../../src/config";
import {
  ALERTS_COLUMNS,
  ALERTS_OUTPUT_STREAM,
  ALERTS_TABLE,
  DEFAULT_DCR_ALERTS_STREAM,
} from "../../src/core/alertsTable";
import { NOT_FOR_AZURE, ONLY_WITH_LOG_ANALYTICS, settingsTheCodeReads } from "./appSettings";
import { deployedResources, ofType, propertiesOf, type Deployed, type Json } from "./armTemplate";
import { ROOT, SCOPE, deployment, readJson, template, type Resource } from "./mainTemplate";

const GROUP_ID = `/subscriptions/${SCOPE.subscriptionId}/resourceGroups/${SCOPE.resourceGroup}`;
const EXISTING_WORKSPACE =
  "/subscriptions/00000000-0000-0000-0000-000000000003/resourceGroups/rg-soc" +
  "/providers/Microsoft.OperationalInsights/workspaces/soc-sentinel";
const MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb";

const newWorkspace = () => deployedResources(deployment({ logAnalytics: "newWorkspace" }));
const appSettingsOf = (deployed: Deployed[]) =>
  propertiesOf(ofType(deployed, "Microsoft.Web/sites/config")[0]!) as Record<string, string>;
const ruleOf = (deployed: Deployed[]) => ofType(deployed, "Microsoft.Insights/dataCollectionRules")[0]!;

describe("infra/main.json: the Log Analytics part", () => {
  it("is off by default: no workspace of its own, rule, workbook or role, and flow events go to Event Hubs", () => {
    const declared = template.parameters as Record<string, { defaultValue?: Json }>;

    const deployed = deployedResources(deployment());
    const settings = appSettingsOf(deployed);

    expect(declared.logAnalytics!.defaultValue).toBe("none");
    expect(ofType(deployed, "Microsoft.OperationalInsights/workspaces").map((r) => r.name)).toEqual([
      "flowtap-contoso",
    ]);
    const types = deployed.map((r) => r.type);
    for (const type of ["Microsoft.Insights/dataCollectionRules", "Microsoft.Insights/workbooks"]) {
      expect(types).not.toContain(type);
    }
    expect(types).not.toContain("Microsoft.SecurityInsights/onboardingStates");
    expect(deployed.map((r) => r.name)).not.toContain("flowtap-log-analytics");
    expect(settings.FLOWTAP_SINKS).toBe("eventhubs");
    expect(ONLY_WITH_LOG_ANALYTICS.filter((name) => name in settings)).toEqual([]);
  });

  it("off, its resources and settings read no resource: ARM evaluates reference() where a condition is false", () => {
    const context = deployment();
    const partResources = (template.resources as Resource[]).filter((r) =>
      /logAnalytics/.test(String(r.condition ?? "")),
    );
    const withoutNestedTemplate = (r: Resource) => ({
      ...r,
      properties: { ...(r.properties as Record<string, Json>), template: null },
    });

    const evaluated = partResources.map((r) => context.evaluate(withoutNestedTemplate(r)));

    expect(partResources.map((r) => r.type)).toEqual([
      "Microsoft.OperationalInsights/workspaces",
      "Microsoft.SecurityInsights/onboardingStates",
      "Microsoft.Resources/deployments",
      "Microsoft.Resources/deployments",
    ]);
    const read = (value: unknown) => [...JSON.stringify(value).matchAll(/<reference ([^>]+)>/g)].map((m) => m[1]!);
    // Only the app, which every deployment creates, is read (for its identity).
    const app = `${GROUP_ID}/providers/Microsoft.Web/sites/flowtap-contoso`;
    expect(new Set(read(evaluated))).toEqual(new Set([app]));
    expect(
      read(appSettingsOf(deployedResources(context))).filter((id) => !id.includes("Microsoft.Insights/components/")),
    ).toEqual([]);
  });

  it("a new workspace: Sentinel on, 90 days' retention, and the rule, workbook and role in flowtap's group", () => {
    const deployed = newWorkspace();
    const workspaces = ofType(deployed, "Microsoft.OperationalInsights/workspaces");
    const workspaceId = `${GROUP_ID}/providers/Microsoft.OperationalInsights/workspaces/flowtap-contoso-sentinel`;
    const onboarding = ofType(deployed, "Microsoft.SecurityInsights/onboardingStates");

    expect(workspaces.map((r) => [r.name, propertiesOf(r).retentionInDays])).toEqual([
      ["flowtap-contoso", 30],
      ["flowtap-contoso-sentinel", 90],
    ]);
    expect(onboarding.map((r) => [r.scope, r.name])).toEqual([
      ["Microsoft.OperationalInsights/workspaces/flowtap-contoso-sentinel", "default"],
    ]);
    const rule = ruleOf(deployed);
    expect(rule.landsIn.group).toBe(SCOPE.resourceGroup);
    expect(rule.location).toBe(SCOPE.location);
    expect(propertiesOf(rule).destinations).toEqual({
      logAnalytics: [{ name: "workspace", workspaceResourceId: workspaceId }],
    });
    const nested = deployed.find((r) => r.name === "flowtap-log-analytics")!;
    expect(nested.dependsOn).toContainEqual(expect.stringContaining("Microsoft.SecurityInsights/onboardingStates"));
    expect(deployment({ logAnalytics: "newWorkspace" }).evaluate(template.outputs!)).toMatchObject({
      logAnalyticsWorkspaceId: { value: workspaceId },
      dataCollectionRuleId: { value: `${GROUP_ID}/providers/Microsoft.Insights/dataCollectionRules/${rule.name}` },
    });
  });

  it("an existing workspace: the rule sends there, in the workspace's region; no workspace or Sentinel created", () => {
    const deployed = deployedResources(
      deployment({ logAnalytics: "existingWorkspace", logAnalyticsWorkspaceId: EXISTING_WORKSPACE }),
    );
    const rule = ruleOf(deployed);

    expect(ofType(deployed, "Microsoft.OperationalInsights/workspaces").map((r) => r.name)).toEqual([
      "flowtap-contoso",
    ]);
    expect(ofType(deployed, "Microsoft.SecurityInsights/onboardingStates")).toEqual([]);
    expect(propertiesOf(rule).destinations).toEqual({
      logAnalytics: [{ name: "workspace", workspaceResourceId: EXISTING_WORKSPACE }],
    });
    // The rule must be in the workspace's region: the template reads it from the workspace.
    expect(rule.location).toBe(`<reference ${EXISTING_WORKSPACE}>.location`);
    const workbook = ofType(deployed, "Microsoft.Insights/workbooks")[0]!;
    expect(propertiesOf(workbook).sourceId).toBe(EXISTING_WORKSPACE.toLowerCase());
  });

  it("the rule is of kind Direct: the app posts to the rule's own endpoint, no data collection endpoint", () => {
    const deployed = newWorkspace();
    const rule = ruleOf(deployed);

    expect(rule.kind).toBe("Direct");
    expect(rule.apiVersion).toBe("2024-03-11");
    expect(propertiesOf(rule).dataCollectionEndpointId).toBeUndefined();
    expect(deployed.map((r) => r.type)).not.toContain("Microsoft.Insights/dataCollectionEndpoints");
  });

  it("declares the sinks' two streams with exactly the columns they send: flows to ASIM, alerts to their table", () => {
    const rule = propertiesOf(ruleOf(newWorkspace())) as {
      streamDeclarations: Record<string, { columns: { name: string; type: string }[] }>;
      dataFlows: { streams: string[]; destinations: string[]; transformKql: string; outputStream: string }[];
    };

    expect(Object.keys(rule.streamDeclarations)).toEqual([DEFAULT_DCR_STREAM, DEFAULT_DCR_ALERTS_STREAM]);
    expect(rule.streamDeclarations[DEFAULT_DCR_STREAM]!.columns).toEqual(
      NETWORK_SESSION_COLUMNS.map(({ name, type }) => ({ name, type })),
    );
    expect(rule.streamDeclarations[DEFAULT_DCR_ALERTS_STREAM]!.columns).toEqual(
      ALERTS_COLUMNS.map(({ name, type }) => ({ name, type })),
    );
    expect(rule.dataFlows).toEqual([
      {
        streams: [DEFAULT_DCR_STREAM],
        destinations: ["workspace"],
        transformKql: readLogAnalyticsSources(ROOT).transformKql,
        outputStream: ASIM_NETWORK_SESSION_OUTPUT_STREAM,
      },
      {
        streams: [DEFAULT_DCR_ALERTS_STREAM],
        destinations: ["workspace"],
        transformKql: "source",
        outputStream: ALERTS_OUTPUT_STREAM,
      },
    ]);
  });

  it.each([
    [
      "a new workspace",
      { logAnalytics: "newWorkspace" },
      `${GROUP_ID}/providers/Microsoft.OperationalInsights/workspaces/flowtap-contoso-sentinel`,
    ],
    [
      "an existing workspace",
      { logAnalytics: "existingWorkspace", logAnalyticsWorkspaceId: EXISTING_WORKSPACE },
      EXISTING_WORKSPACE,
    ],
  ])(
    "%s: the alerts table with the alerts stream's columns, in the workspace's group, before the rule",
    (_case, parameters, workspaceId) => {
      const deployed = deployedResources(deployment(parameters));
      const [table] = ofType(deployed, "Microsoft.OperationalInsights/workspaces/tables");
      const [, , subscriptionId, , group, , , , workspace] = workspaceId.split("/");

      expect(table!.name).toBe(`${workspace}/${ALERTS_TABLE}`);
      expect(table!.landsIn).toEqual({ subscriptionId, group });
      expect(propertiesOf(table!)).toMatchObject({
        plan: "Analytics",
        schema: {
          name: ALERTS_TABLE,
          columns: ALERTS_COLUMNS.map(({ name, type }) => ({ name, type: type === "datetime" ? "dateTime" : type })),
        },
      });
      const rule = deployed.find((r) => r.name === "flowtap-log-analytics")!;
      expect(rule.dependsOn).toContain("flowtap-log-analytics-table");
      expect(ALERTS_OUTPUT_STREAM).toBe(`Custom-${ALERTS_TABLE}`);
    },
  );

  it("holds the columns, transformation and workbook of their files (dist/infra/logAnalytics.js writes them)", () => {
    const fromFiles = withLogAnalyticsSources(template as never, readLogAnalyticsSources(ROOT));
    const workbook = ofType(newWorkspace(), "Microsoft.Insights/workbooks")[0]!;

    expect(
      template,
      "infra/main.json differs from infra/loganalytics: run npm run build && node dist/infra/logAnalytics.js",
    ).toEqual(fromFiles);
    expect(JSON.parse(String(propertiesOf(workbook).serializedData))).toEqual(
      readJson("infra/loganalytics/workbook.json"),
    );
    expect(propertiesOf(workbook)).toMatchObject({ version: "Notebook/1.0", category: "sentinel" });
  });

  it("gives the app's identity Monitoring Metrics Publisher on the rule, after the rule exists", () => {
    const deployed = newWorkspace();
    const rule = ruleOf(deployed);
    const publishers = ofType(deployed, "Microsoft.Authorization/roleAssignments").filter((r) =>
      String(propertiesOf(r).scope ?? r.scope).startsWith("Microsoft.Insights/dataCollectionRules/"),
    );

    expect(publishers).toHaveLength(1);
    const [publisher] = publishers;
    expect(publisher!.scope).toBe(`Microsoft.Insights/dataCollectionRules/${rule.name}`);
    expect(publisher!.landsIn).toEqual(rule.landsIn);
    expect(propertiesOf(publisher!).roleDefinitionId).toBe(
      `/subscriptions/${SCOPE.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/` +
        MONITORING_METRICS_PUBLISHER,
    );
    expect(propertiesOf(publisher!).principalId).toMatch(
      /^<reference \/subscriptions\/.*\/Microsoft.Web\/sites\/flowtap-contoso>.identity.principalId$/,
    );
    expect(publisher!.dependsOn).toContainEqual(expect.stringContaining(`dataCollectionRules/${rule.name}`));
  });
});

describe("infra/main.json: the settings of the Log Analytics part", () => {
  it("point the sink at the rule's own endpoint, its immutable id and the declared stream; both sinks", () => {
    const deployed = newWorkspace();
    const rule = ruleOf(deployed);
    const ruleId = `${GROUP_ID}/providers/Microsoft.Insights/dataCollectionRules/${rule.name}`;
    const settings = appSettingsOf(deployed);
    const config = ofType(deployed, "Microsoft.Web/sites/config")[0]!;

    expect(settings).toMatchObject({
      FLOWTAP_SINKS: "both",
      FLOWTAP_LOGS_INGESTION_ENDPOINT: `<reference ${ruleId}>.endpoints.logsIngestion`,
      FLOWTAP_DCR_IMMUTABLE_ID: `<reference ${ruleId}>.immutableId`,
      FLOWTAP_DCR_STREAM: DEFAULT_DCR_STREAM,
      FLOWTAP_DCR_ALERTS_STREAM: DEFAULT_DCR_ALERTS_STREAM,
    });
    expect(config.dependsOn).toContainEqual(expect.stringMatching(/deployments\/flowtap-log-analytics$/));
  });

  it("logAnalyticsOnly: flow events go to Log Analytics only", () => {
    const deployed = deployedResources(deployment({ logAnalytics: "newWorkspace", logAnalyticsOnly: true }));

    expect(appSettingsOf(deployed).FLOWTAP_SINKS).toBe("loganalytics");
  });

  it("appSettingsOverrides still win over the part's settings", () => {
    const deployed = deployedResources(
      deployment({ logAnalytics: "newWorkspace", appSettingsOverrides: { FLOWTAP_SINKS: "loganalytics" } }),
    );

    expect(appSettingsOf(deployed).FLOWTAP_SINKS).toBe("loganalytics");
  });

  it("sets every setting the code reads (not those not for Azure); the app takes them: a Log Analytics sink", () => {
    const settings = appSettingsOf(newWorkspace());
    // What Resource Manager reads from the rule once it exists (its response: the REST spec's example
    // DataCollectionRulesCreateEmbeddedDCE.json, Azure/azure-rest-api-specs).
    const resolved = Object.fromEntries(
      Object.entries(settings).map(([name, value]) => [
        name,
        String(value)
          .replace(
            /^<reference .*>\.endpoints\.logsIngestion$/,
            "https://flows-8ykm-westeurope.logs.z1.ingest.monitor.azure.com",
          )
          .replace(/^<reference .*>\.immutableId$/, "dcr-d2a09c11a66243009af059a655750000"),
      ]),
    );

    const missing = [...settingsTheCodeReads()].filter((name) => !(name in settings) && !(name in NOT_FOR_AZURE));
    const app = readSettings(resolved);
    const { FLOWTAP_LOGS_INGESTION_RETRY_DELAY_MS: _tuning, ...untuned } = resolved;

    expect(missing).toEqual([]);
    expect(app.sinks).toMatchObject({
      choice: "both",
      eventHubs: true,
      logsIngestion: {
        endpoint: "https://flows-8ykm-westeurope.logs.z1.ingest.monitor.azure.com",
        ruleId: "dcr-d2a09c11a66243009af059a655750000",
        streamName: DEFAULT_DCR_STREAM,
        credential: { kind: "identity" },
      },
    });
    // The template's tuning knob is the code's default.
    expect(app.sinks).toEqual(readSettings(untuned).sinks);
  });
});

describe("the docs of the Log Analytics part", () => {
  const doc = (file: string) => readFileSync(join(ROOT, "docs", file), "utf8");

  it("operations.md lists every Log Analytics parameter with the template's default", () => {
    const declared = Object.entries(template.parameters as Record<string, { defaultValue: Json }>).filter(([name]) =>
      name.startsWith("logAnalytics"),
    );
    const shown = (value: Json) => (value === "" ? "empty" : `\`${String(value)}\``);
    const rowOf = (name: string) =>
      doc("operations.md")
        .split("\n")
        .find((l) => l.startsWith(`| \`${name}\` |`));

    expect(declared.map(([name]) => name)).toEqual(["logAnalytics", "logAnalyticsWorkspaceId", "logAnalyticsOnly"]);
    for (const [name, { defaultValue }] of declared) {
      expect(rowOf(name)?.split(" | ")[1], name).toBe(shown(defaultValue));
    }
  });

  it("destinations.md names the rule's stream, output stream and settings as the template deploys them", () => {
    const section = doc("destinations.md").split("## Log Analytics and Microsoft Sentinel")[1]!;
    const deployed = newWorkspace();
    const rule = propertiesOf(ruleOf(deployed)) as { dataFlows: { streams: string[]; outputStream: string }[] };

    expect(section).toContain(`input stream \`${rule.dataFlows[0]!.streams[0]!}\``);
    expect(section).toContain(`to \`${rule.dataFlows[0]!.outputStream}\``);
    expect(section).toContain(`data collection rule \`<app>-flows\`, kind \`${String(ruleOf(deployed).kind)}\``);
    for (const setting of ["FLOWTAP_SINKS", ...ONLY_WITH_LOG_ANALYTICS]) expect(section).toContain(`\`${setting}\``);
  });
});
