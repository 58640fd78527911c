/**
 * The per-process scope: settings and clients are built once, at first use, and dropped (closed) when the app
 * terminates, so the app started again in the same process (as the local host does) reads its new settings.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startLocalHost, type LocalHost } from "../../devhost/host";

type Scope = typeof import("../../src/functions/processScope");

const settingsFor = (account: string): Record<string, string> => ({
  FlowLogsStorage:
    `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=a2V5;` +
    `BlobEndpoint=http://127.0.0.1:1/${account};`,
  EventHubsConnection: "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
});

let scope: Scope | undefined;
let host: LocalHost | undefined;
const startWith = async (account: string): Promise<LocalHost> =>
  (host = await startLocalHost({
    app: {
      register: async () => {
        scope = await import("../../src/functions/processScope");
      },
    },
    port: 0,
    settings: settingsFor(account),
  }));
const scopeOf = (): Scope => {
  if (!scope) throw new Error("the app has not been loaded");
  return scope;
};

afterEach(async () => {
  await host?.stop();
  host = undefined;
});

describe("processScope", () => {
  // One test: the app module loads once per process, so only the first host start records its terminate hook.
  it("builds settings and clients once, closes them at app terminate, and reads new settings after", async () => {
    // Prepare
    const first = await startWith("firstacct");
    const closed: number[] = [];
    let builds = 0;
    const clientOf = scopeOf().perProcess(
      () => ({ id: ++builds }),
      async (client) => {
        closed.push(client.id);
      },
    );

    // Act
    const settingsBefore = [scopeOf().settingsOf(), scopeOf().settingsOf()];
    const clientsBefore = [clientOf(), clientOf()];
    await first.stop();
    const closedAtTerminate = [...closed];
    await startWith("secondacct");
    const settingsAfter = scopeOf().settingsOf();
    const clientAfter = clientOf();

    // Assess
    expect(settingsBefore[1]).toBe(settingsBefore[0]);
    expect(clientsBefore[1]).toBe(clientsBefore[0]);
    expect(settingsBefore[0]!.storage.accountName).toBe("firstacct");
    expect(closedAtTerminate).toEqual([1]);
    expect(settingsAfter.storage.accountName).toBe("secondacct");
    expect(clientAfter).toEqual({ id: 2 });
  });
});
