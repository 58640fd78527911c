/**
 * Secure Webhook through `POST /api/alerts/secure` on the local host: the action group's Entra
 * token (minted by devhost/entra.ts, served keys as a JWKS) is checked with jose for signature,
 * issuer, audience, expiry and the ActionGroupsSecureWebhook role; the function key is not needed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildTopology } from "../../../devhost/generate";
import { startLocalEntra, type LocalEntra, type MintTokenOptions } from "../../../devhost/entra";
import { commonAlert, seedOf, startCaptureSystem, vmIdOf, type CaptureSystem } from "./captureSystem";

const AUDIENCE = "api://flowtap-alerts";
const topology = buildTopology({ seed: 22, nics: 1 });
const vm = topology.nics[0]!;

let entra: LocalEntra;
let system: CaptureSystem | undefined;
beforeAll(async () => {
  entra = await startLocalEntra();
});
afterAll(async () => {
  await entra.stop();
});
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

async function postSecure(current: CaptureSystem, authorization: string | null): Promise<Response> {
  return fetch(`${current.host.baseUrl}/api/alerts/secure`, {
    method: "POST",
    body: JSON.stringify(commonAlert([vmIdOf(vm)])),
    headers: { "Content-Type": "application/json", ...(authorization !== null && { Authorization: authorization }) },
  });
}

async function startSecure(settings: Record<string, string> = entra.appSettings(AUDIENCE)): Promise<CaptureSystem> {
  system = await startCaptureSystem({ seed: seedOf(topology.nics), settings });
  return system;
}

describe("POST /api/alerts/secure", () => {
  it("accepts an action group's token with the role, without a function key, and captures", async () => {
    // Prepare
    const current = await startSecure();
    const token = await entra.mintToken({ audience: AUDIENCE });

    // Act
    const response = await postSecure(current, `Bearer ${token}`);
    await current.host.waitForIdle();

    // Assess
    expect(response.status).toBe(202);
    expect(current.captureReports()).toEqual([expect.objectContaining({ type: "flowtap.captureCompleted" })]);
  });

  it.each<[string, MintTokenOptions | null, number, RegExp]>([
    ["no token", null, 401, /bearer token is required/],
    ["an expired token", { audience: AUDIENCE, expiresInSeconds: -600 }, 401, /has expired/],
    ["another audience", { audience: "api://someone-else" }, 401, /"aud" claim is not accepted/],
    ["another issuer", { audience: AUDIENCE, issuer: "https://sts.windows.net/other-tenant/" }, 401, /"iss" claim/],
    ["a bad signature", { audience: AUDIENCE, forgedSignature: true }, 401, /signature does not verify/],
    [
      "no ActionGroupsSecureWebhook role",
      { audience: AUDIENCE, roles: ["Reader"] },
      403,
      /lacks the ActionGroupsSecureWebhook/,
    ],
  ])("refuses %s with its status and the reason, starting nothing", async (_what, mint, status, reason) => {
    const current = await startSecure();
    const authorization = mint ? `Bearer ${await entra.mintToken(mint)}` : null;

    const response = await postSecure(current, authorization);

    expect(response.status).toBe(status);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer error=/);
    expect(((await response.json()) as { error: string }).error).toMatch(reason);
    expect(current.host.listInstances()).toEqual([]);
  });

  it("refuses every request when Secure Webhook is not configured, while the key route works", async () => {
    const current = await startSecure({});
    const token = await entra.mintToken({ audience: AUDIENCE });

    const secure = await postSecure(current, `Bearer ${token}`);
    const keyed = await current.postAlert(JSON.stringify(commonAlert([vmIdOf(vm)])));

    expect(secure.status).toBe(404);
    expect(((await secure.json()) as { error: string }).error).toMatch(/FLOWTAP_ALERTS_ENTRA_TENANT_ID/);
    expect(keyed.status).toBe(202);
  });
});
