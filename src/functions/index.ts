/** Registers every trigger, orchestration, entity and activity of the app. */
import "./registerCapture";
import "./registerIngestion";
import "./registerBackfill";
import "./registerFreshness";
