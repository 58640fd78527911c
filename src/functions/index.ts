/** Registers every trigger, orchestration, entity and activity of the app. */
import "./capture";
