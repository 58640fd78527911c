/** Registers every trigger, orchestration, entity and activity of the app. */
import "./capture";
import "./ingestion";
import "./backfill";
