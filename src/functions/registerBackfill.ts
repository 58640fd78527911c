/**
 * Registers backfill: the HTTP starter and the backfill orchestration (its blobs run through
 * ingestBlob, listBlobs and the checkpoint entity registered with ingestion). Settings are read
 * lazily, once per process, and dropped when the app terminates.
 */
import { app } from "@azure/functions";
import * as df from "durable-functions";
import { backfillOrchestrator } from "../../orchestrations/backfillOrchestrator";
import { readSettings, type FlowtapSettings } from "../config";
import { OrchestrationNames, TriggerNames } from "../contracts/names";
import { makeBackfillHttpHandler } from "../triggers/backfillHttp";

let settings: FlowtapSettings | undefined;

app.hook.appTerminate(() => {
  settings = undefined;
});

df.app.orchestration(OrchestrationNames.backfill, backfillOrchestrator);

app.http(TriggerNames.backfillHttp, {
  route: "backfill",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: makeBackfillHttpHandler({
    settings: () => (settings ??= readSettings(process.env)),
    client: (context) => df.getClient(context),
  }),
});
