/**
 * Registers backfill: the HTTP starter and the backfill orchestration (its blobs run through
 * ingestBlob, listBlobs and the checkpoint entity registered with ingestion). Settings come from the process
 * scope.
 */
import { app } from "@azure/functions";
import * as df from "durable-functions";
import { backfillOrchestrator } from "../../orchestrations/backfillOrchestrator";
import { OrchestrationNames, TriggerNames } from "../contracts/names";
import { makeBackfillHttpHandler } from "../triggers/backfillHttp";
import { settingsOf } from "./processScope";

df.app.orchestration(OrchestrationNames.backfill, backfillOrchestrator);

app.http(TriggerNames.backfillHttp, {
  route: "backfill",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: makeBackfillHttpHandler({
    settings: settingsOf,
    client: (context) => df.getClient(context),
  }),
});
