import { afterEach, describe, expect, it } from "vitest";
import { startLocalHost, type LocalHost } from "../../../src/local/host";
import { names, registerSampleApp } from "./sampleApp";

let host: LocalHost | undefined;
afterEach(async () => {
  await host?.stop();
  host = undefined;
});

describe("smoke", () => {
  it("runs a sequence", async () => {
    host = await startLocalHost({ app: { register: registerSampleApp }, port: 0, clock: { mode: "virtual" } });
    const id = await host.startOrchestration(names.sequence);
    const status = await host.waitForInstance(id, { timeoutInMs: 3000 });
    console.log(JSON.stringify(status), JSON.stringify(host.describeInstance(id), null, 1));
    expect(status.output).toEqual(["Hello Tokyo", "Hello Seattle", "Hello London"]);
  });
});
