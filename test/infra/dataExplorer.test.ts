/**
 * The template's optional Data Explorer part, evaluated as Resource Manager would: off by default (nothing of it is
 * deployed), and when on, data connections that read the hubs the app writes, into the tables with the mappings
 * infra/adx/setup.kql creates, in the format the app's FLOWTAP_MESSAGE_FORMAT and FLOWTAP_EVENTS_PER_MESSAGE send (the
 * sink's; test/adapters/flowMessages.test.ts shows what it sends), with the cluster's identity
 * holding Azure Event Hubs Data Receiver on the namespace.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSettings, type EventHubSettings } from "../../src/config";
import { mappingsOfScript } from "./adxMapping";
import { deployedResources, ofType, propertiesOf, type Deployed, type Json } from "./armTemplate";
import { ROOT, SCOPE, deployment, template, type Resource } from "./mainTemplate";

const SETUP_MAPPINGS = mappingsOfScript(readFileSync(join(ROOT, "infra/adx/setup.kql"), "utf8"));
const EXISTING_CLUSTER =
  "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-adx" +
  "/providers/Microsoft.Kusto/clusters/adxshared";
const EVENT_HUBS_DATA_RECEIVER = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde";

/** The table and mapping a data connection names, as mappingsOfScript describes a mapping. */
const mappingOf = (connection: Record<string, Json>) => ({
  table: connection.tableName,
  name: connection.mappingRuleName,
});

/**
 * What the flows connection must say to read what the sink sends with these settings: compact messages are gzip
 * (content-encoding gzip) JSON arrays of compact records, into the staging table; JSON arrays or single objects
 * otherwise (MULTIJSON reads both, JSON only single objects).
 */
function flowsConnectionFor(eventHubs: EventHubSettings) {
  if (eventHubs.messageFormat === "compact") {
    return { table: "FlowEventsCompact", dataFormat: "MULTIJSON", compression: "GZip" };
  }
  return {
    table: "FlowEvents",
    dataFormat: eventHubs.eventsPerMessage > 1 ? "MULTIJSON" : "JSON",
    compression: "None",
  };
}

/** The app settings the template deploys, as the app reads them. */
function appSettingsOf(deployed: Deployed[]) {
  const config = ofType(deployed, "Microsoft.Web/sites/config")[0]!;
  return readSettings(Object.fromEntries(Object.entries(propertiesOf(config)).map(([k, v]) => [k, String(v)])));
}

describe("infra/main.json: the Data Explorer part", () => {
  it("is off by default: no Kusto resource, no consumer group or role for it, the same resources as before", () => {
    const declared = template.parameters as Record<string, { defaultValue?: Json }>;

    const deployed = deployedResources(deployment());

    expect(declared.dataExplorer!.defaultValue).toBe("none");
    expect(deployed.filter((r) => r.type.startsWith("Microsoft.Kusto/"))).toEqual([]);
    expect(deployed.map((r) => r.name)).not.toContainEqual(expect.stringMatching(/\/adx$|data-explorer/));
    expect(JSON.stringify(deployed)).not.toContain(EVENT_HUBS_DATA_RECEIVER);
  });

  it("off, its resources read no cluster: ARM evaluates reference() even where a condition is false", () => {
    const context = deployment();
    const dataExplorerResources = (template.resources as Resource[]).filter((r) =>
      String(r.condition ?? "").includes("dataExplorer"),
    );
    const withoutNestedTemplate = (r: Resource) => ({
      ...r,
      properties: { ...(r.properties as Record<string, Json>), template: null },
    });

    const evaluated = dataExplorerResources.map((r) => context.evaluate(withoutNestedTemplate(r)));

    expect(dataExplorerResources.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(evaluated)).toContain("Microsoft.Kusto/clusters");
    expect(JSON.stringify(evaluated)).not.toContain("<reference");
  });

  it("a new cluster: its database, and connections from the app's hubs into setup.kql's tables and mappings", () => {
    const deployed = deployedResources(deployment({ dataExplorer: "newCluster", dataExplorerConnections: true }));
    const cluster = ofType(deployed, "Microsoft.Kusto/clusters")[0]!;
    const clusterId =
      `/subscriptions/${SCOPE.subscriptionId}/resourceGroups/${SCOPE.resourceGroup}/providers/` +
      `Microsoft.Kusto/clusters/${cluster.name}`;
    const { eventHubs } = appSettingsOf(deployed);
    const namespace = ofType(deployed, "Microsoft.EventHub/namespaces")[0]!.name;
    const connections = ofType(deployed, "Microsoft.Kusto/clusters/databases/dataConnections").map(propertiesOf);

    expect(cluster.identity).toEqual({ type: "SystemAssigned" });
    expect(ofType(deployed, "Microsoft.Kusto/clusters/databases").map((r) => r.name)).toEqual([
      `${cluster.name}/flowtap`,
    ]);
    expect(eventHubs).toMatchObject({ messageFormat: "compact", eventsPerMessage: 100 });
    expect(connections.map((c) => [c.tableName, c.mappingRuleName, c.dataFormat, c.compression])).toEqual([
      ["FlowEventsCompact", "FlowEventsCompactJson", "MULTIJSON", "GZip"],
      ["Alerts", "AlertsJson", "MULTIJSON", "None"],
    ]);
    for (const c of connections) expect(SETUP_MAPPINGS).toContainEqual(expect.objectContaining(mappingOf(c)));
    const hubOf = (c: Record<string, Json>) => String(c.eventHubResourceId).split("/eventhubs/")[1];
    expect(connections.map(hubOf)).toEqual([eventHubs.eventHubName, eventHubs.alertsEventHubName]);
    const groups = ofType(deployed, "Microsoft.EventHub/namespaces/eventhubs/consumergroups").map((r) => r.name);
    for (const c of connections) {
      expect(groups).toContain(`${namespace}/${hubOf(c)}/${String(c.consumerGroup)}`);
      expect(c.managedIdentityResourceId).toBe(clusterId);
      expect(c.eventHubResourceId).toMatch(new RegExp(`/providers/Microsoft.EventHub/namespaces/${namespace}/`));
    }
    expect(new Set(connections.map((c) => c.consumerGroup)).size).toBe(1);
    // Its own group: sharing the downstream readers' would make both miss events.
    expect(connections[0]!.consumerGroup).not.toBe(deployment().parameter("consumerGroupName"));
  });

  it.each([
    [{}],
    [{ FLOWTAP_MESSAGE_FORMAT: "json", FLOWTAP_EVENTS_PER_MESSAGE: "1" }],
    [{ FLOWTAP_MESSAGE_FORMAT: "json" }],
    [{ FLOWTAP_MESSAGE_FORMAT: "", FLOWTAP_EVENTS_PER_MESSAGE: "1" }],
    [{ FLOWTAP_MESSAGE_FORMAT: "Compact", FLOWTAP_EVENTS_PER_MESSAGE: "1" }],
  ])("the flows connection reads what the app's settings send (overrides %j)", (overrides) => {
    const deployed = deployedResources(
      deployment({ dataExplorer: "newCluster", dataExplorerConnections: true, appSettingsOverrides: overrides }),
    );
    const [flows, alerts] = ofType(deployed, "Microsoft.Kusto/clusters/databases/dataConnections").map(propertiesOf);
    const expected = flowsConnectionFor(appSettingsOf(deployed).eventHubs);

    expect({ table: flows!.tableName, dataFormat: flows!.dataFormat, compression: flows!.compression }).toEqual(
      expected,
    );
    expect(SETUP_MAPPINGS).toContainEqual(expect.objectContaining(mappingOf(flows!)));
    expect([alerts!.dataFormat, alerts!.compression]).toEqual(["MULTIJSON", "None"]);
  });

  it("gives the cluster's identity Azure Event Hubs Data Receiver on the namespace, before the connections", () => {
    const deployed = deployedResources(deployment({ dataExplorer: "newCluster", dataExplorerConnections: true }));
    const namespace = ofType(deployed, "Microsoft.EventHub/namespaces")[0]!.name;
    const receivers = ofType(deployed, "Microsoft.Authorization/roleAssignments").filter((r) =>
      String(propertiesOf(r).roleDefinitionId).endsWith(EVENT_HUBS_DATA_RECEIVER),
    );
    const nested = deployed.find((r) => r.name === "flowtap-data-explorer")!;

    expect(receivers).toHaveLength(1);
    expect(receivers[0]!.landsIn.group).toBe(SCOPE.resourceGroup);
    expect(receivers[0]!.scope).toBe(`Microsoft.EventHub/namespaces/${namespace}`);
    expect(propertiesOf(receivers[0]!).principalId).toMatch(/^<reference .*Microsoft.Kusto\/clusters\/ftadx/);
    expect((nested.dependsOn as string[]).some((d) => d.includes("roleAssignments"))).toBe(true);
  });

  it("an existing cluster: the database and connections land in its group, with its identity; no new cluster", () => {
    const deployed = deployedResources(
      deployment({
        dataExplorer: "existingCluster",
        dataExplorerClusterId: EXISTING_CLUSTER,
        dataExplorerConnections: true,
      }),
    );
    const database = ofType(deployed, "Microsoft.Kusto/clusters/databases")[0]!;
    const connections = ofType(deployed, "Microsoft.Kusto/clusters/databases/dataConnections");

    expect(ofType(deployed, "Microsoft.Kusto/clusters")).toEqual([]);
    expect(database.name).toBe("adxshared/flowtap");
    expect(database.landsIn).toEqual({ subscriptionId: "00000000-0000-0000-0000-000000000002", group: "rg-adx" });
    expect(connections.map((c) => propertiesOf(c).managedIdentityResourceId)).toEqual([
      EXISTING_CLUSTER,
      EXISTING_CLUSTER,
    ]);
  });

  it("without dataExplorerConnections, the database only (setup.kql must create the tables first)", () => {
    const deployed = deployedResources(
      deployment({ dataExplorer: "newCluster", dataExplorerDatabaseName: "netflows" }),
    );

    expect(ofType(deployed, "Microsoft.Kusto/clusters/databases").map((r) => r.name.split("/")[1])).toEqual([
      "netflows",
    ]);
    expect(ofType(deployed, "Microsoft.Kusto/clusters/databases/dataConnections")).toEqual([]);
  });
});

describe("the docs of the Data Explorer part", () => {
  const rowOf = (doc: string, name: string) => doc.split("\n").find((line) => line.startsWith(`| \`${name}\` |`));

  it("operations.md lists every Data Explorer parameter with the template's default", () => {
    const operations = readFileSync(join(ROOT, "docs/operations.md"), "utf8");
    const declared = Object.entries(template.parameters as Record<string, { defaultValue: Json }>).filter(([name]) =>
      name.startsWith("dataExplorer"),
    );
    const shown = (value: Json) =>
      value === "" ? "empty" : `\`${typeof value === "object" ? (value as { name: string }).name : String(value)}\``;

    expect(declared.length).toBeGreaterThanOrEqual(5);
    for (const [name, { defaultValue }] of declared) {
      expect(rowOf(operations, name)?.split(" | ")[1], name).toBe(shown(defaultValue));
    }
  });

  it("destinations.md's data connection table shows the template's settings first in each hub's column", () => {
    const destinations = readFileSync(join(ROOT, "docs/destinations.md"), "utf8");
    const deployed = deployedResources(deployment({ dataExplorer: "newCluster", dataExplorerConnections: true }));
    const [flows, alerts] = ofType(deployed, "Microsoft.Kusto/clusters/databases/dataConnections").map(propertiesOf);

    for (const setting of ["consumerGroup", "tableName", "mappingRuleName", "dataFormat", "compression"]) {
      const [, flowsCell, alertsCell] = (rowOf(destinations, setting) ?? "").split(" | ");
      expect(flowsCell, setting).toMatch(new RegExp(`^\`${String(flows![setting])}\`( |$)`));
      expect(alertsCell, setting).toBe(`\`${String(alerts![setting])}\` |`);
    }
  });
});
