/** Starts the local host on the conformance app with a virtual clock; stops it after each test. */
import { afterEach } from "vitest";
import { startLocalHost, type LocalHost, type LocalHostOptions } from "../../../devhost/host";
import { registerConformanceApp } from "./conformanceApp";

export const START = new Date("2026-12-01T00:00:00.000Z");

let host: LocalHost | undefined;

afterEach(async () => {
  await host?.stop();
  host = undefined;
});

export async function startConformanceHost(options: Partial<LocalHostOptions> = {}): Promise<LocalHost> {
  host = await startLocalHost({
    app: { register: registerConformanceApp },
    port: 0,
    clock: { mode: "virtual", startTime: START },
    ...options,
  });
  return host;
}
