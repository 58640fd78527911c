/**
 * The columns flowtap sends to Log Analytics through the Logs Ingestion API: the ASIM Network
 * Session table `ASimNetworkSessionLogs` (a Microsoft table, not a custom one), restricted to the
 * columns flowtap fills plus the ones the schema makes mandatory.
 *
 * Why the built-in table: the Logs Ingestion API sends to custom tables and to the Azure tables
 * that support ingestion-time transformations (learn.microsoft.com/azure/azure-monitor/logs/
 * logs-ingestion-api-overview, "Supported tables"); the table reference for ASimNetworkSessionLogs
 * (learn.microsoft.com/azure/azure-monitor/reference/tables/asimnetworksessionlogs) lists
 * "Ingestion-time transformation: Yes". The DCR therefore declares an input stream with exactly
 * these columns (`DEFAULT_DCR_STREAM`) and a data flow whose `outputStream` is
 * `Microsoft-ASimNetworkSessionLogs` with `transformKql: "source"`; no parser function is needed,
 * as Sentinel's built-in `_Im_NetworkSession` already unions this table through
 * `ASimNetworkSessionNative` (Azure/Azure-Sentinel Parsers/ASimNetworkSession/Parsers/
 * ASimNetworkSessionNative.yaml, which adds `EventSchema = "NetworkSession"` at query time: the
 * table has no EventSchema column).
 *
 * Names and types: the table's columns as exported from a workspace (getschema) in
 * LaurieRhodes/Powershell-Kusto-Schema-Tools dcr-from-log-analytics/ASimNetworkSessionLogs/
 * dcr-ASimNetworkSessionLogs.bicep (its transformKql's to*() casts), checked against the table
 * reference above. `TenantId`, `Type`, `SourceSystem` and `_ResourceId` are set by the service.
 */

/** Log Analytics column types (the DCR stream declaration's `type` values). */
export type LogAnalyticsType = "string" | "int" | "long" | "real" | "datetime" | "boolean" | "dynamic" | "guid";

export interface LogAnalyticsColumn {
  readonly name: string;
  readonly type: LogAnalyticsType;
}

/** The Log Analytics table the rows land in. */
export const ASIM_NETWORK_SESSION_TABLE = "ASimNetworkSessionLogs";
/** The DCR data flow's `outputStream` for that table (Microsoft tables take the `Microsoft-` prefix). */
export const ASIM_NETWORK_SESSION_OUTPUT_STREAM = "Microsoft-ASimNetworkSessionLogs";
/** The DCR input stream flowtap posts to unless FLOWTAP_DCR_STREAM names another (`Custom-` is required). */
export const DEFAULT_DCR_STREAM = "Custom-FlowtapNetworkSession";

/**
 * Every column a row carries, in row order. Mandatory ASIM fields first (ASIM Network Session
 * schema, aka.ms/ASimNetworkSessionDoc), then the ones flowtap fills from a flow tuple.
 */
export const NETWORK_SESSION_COLUMNS = [
  { name: "TimeGenerated", type: "datetime" },
  { name: "EventCount", type: "int" },
  { name: "EventStartTime", type: "datetime" },
  { name: "EventEndTime", type: "datetime" },
  { name: "EventType", type: "string" },
  { name: "EventSubType", type: "string" },
  { name: "EventResult", type: "string" },
  { name: "EventSeverity", type: "string" },
  { name: "EventProduct", type: "string" },
  { name: "EventProductVersion", type: "string" },
  { name: "EventVendor", type: "string" },
  { name: "EventSchemaVersion", type: "string" },
  { name: "EventOriginalUid", type: "string" },
  { name: "EventOriginalSubType", type: "string" },
  { name: "Dvc", type: "string" },
  { name: "DvcId", type: "string" },
  { name: "DvcIdType", type: "string" },
  { name: "DvcSubscriptionId", type: "string" },
  { name: "DvcAction", type: "string" },
  { name: "DvcOriginalAction", type: "string" },
  { name: "NetworkDirection", type: "string" },
  { name: "NetworkProtocol", type: "string" },
  { name: "NetworkProtocolVersion", type: "string" },
  { name: "NetworkRuleName", type: "string" },
  { name: "SrcIpAddr", type: "string" },
  { name: "SrcPortNumber", type: "int" },
  { name: "SrcMacAddr", type: "string" },
  { name: "SrcDvcId", type: "string" },
  { name: "SrcDvcIdType", type: "string" },
  { name: "SrcHostname", type: "string" },
  { name: "DstIpAddr", type: "string" },
  { name: "DstPortNumber", type: "int" },
  { name: "DstMacAddr", type: "string" },
  { name: "DstDvcId", type: "string" },
  { name: "DstDvcIdType", type: "string" },
  { name: "DstHostname", type: "string" },
  { name: "SrcBytes", type: "long" },
  { name: "DstBytes", type: "long" },
  { name: "NetworkBytes", type: "long" },
  { name: "SrcPackets", type: "long" },
  { name: "DstPackets", type: "long" },
  { name: "NetworkPackets", type: "long" },
  { name: "AdditionalFields", type: "dynamic" },
] as const satisfies readonly LogAnalyticsColumn[];

export type NetworkSessionColumnName = (typeof NETWORK_SESSION_COLUMNS)[number]["name"];
