/**
 * Registers freshness: the freshness entity (one per flow log) and the reportFreshness
 * orchestration the reconcile timer starts (its events go out through the publishEvents activity).
 */
import { app } from "@azure/functions";
import * as df from "durable-functions";
import { freshnessEntity, reportFreshnessOrchestrator } from "../../orchestrations/freshness";
import { readFreshnessSettings } from "../config";
import { EntityNames, OrchestrationNames } from "../contracts/names";

// A bad freshness setting stops the start, naming the setting.
app.hook.appStart(() => {
  readFreshnessSettings(process.env);
});

df.app.entity(EntityNames.freshness, freshnessEntity);
df.app.orchestration(OrchestrationNames.reportFreshness, reportFreshnessOrchestrator);
