/** Names of workerApp.ts's functions and what they return (apart: importing workerApp.ts registers it). */
export const workerAppNames = {
  whereAmI: "whereAmI",
  dieOnce: "dieOnce",
  fanOut: "whereFanOut",
  dieOnceRetried: "dieOnceRetried",
  dieOnceCaught: "dieOnceCaught",
  tally: "tally",
  dieInEpisode: "dieInEpisode",
} as const;

/** The app setting the `whereAmI` activity reads back. */
export const WORKER_APP_SETTING = "WORKER_APP_SETTING";

export interface WhereAmI {
  pid: number;
  setting: string | undefined;
}
