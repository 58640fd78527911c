/**
 * A local stand-in for Entra ID's side of Secure Webhook: serves a tenant's signing keys as a JWKS
 * (as https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys does) and mints the access
 * tokens an action group sends, so tests and the demo can call `POST /api/alerts/secure`.
 * Token shape: Microsoft identity platform access tokens, v1.0 (claims aud, iss
 * https://sts.windows.net/{tid}/, iat, nbf, exp, appid, oid, sub, tid, roles, ver; header typ, alg
 * RS256, kid), as described in MicrosoftDocs/entra-docs
 * docs/identity-platform/access-token-claims-reference.md. The checks are jose's, a client nobody
 * here wrote.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { SECURE_WEBHOOK_ROLE } from "../src/adapters/entraTokens";

export interface MintTokenOptions {
  /** `aud`: the webhook app's Application ID URI or client id. */
  audience: string;
  /** `roles`; default [ActionGroupsSecureWebhook]. */
  roles?: string[];
  /** `iss`; default the tenant's v1 issuer. */
  issuer?: string;
  /** Seconds from now to `exp`; negative for an expired token. Default 3600. */
  expiresInSeconds?: number;
  /** Sign with a key the JWKS does not hold (same `kid`): a bad signature. */
  forgedSignature?: boolean;
}

export interface LocalEntra {
  readonly tenantId: string;
  /** The JWKS URL (http on 127.0.0.1). */
  readonly jwksUrl: string;
  /** The tenant's v1 issuer, as action group tokens carry it. */
  readonly issuer: string;
  mintToken(options: MintTokenOptions): Promise<string>;
  /** FLOWTAP_ALERTS_ENTRA_* app settings that accept this tenant's tokens for `audience`. */
  appSettings(audience: string): Record<string, string>;
  stop(): Promise<void>;
}

/** The application id Azure Monitor's action groups use to request tokens (their `appid`). */
const ACTION_GROUPS_APP_ID = "461e8683-5575-4561-ac7f-899cc907d62a";

async function signingKey(): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  return generateKeyPair("RS256", { extractable: true });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

/** Starts the JWKS endpoint of a new tenant with one RS256 key. */
export async function startLocalEntra(options: { tenantId?: string } = {}): Promise<LocalEntra> {
  const tenantId = options.tenantId ?? randomUUID();
  const kid = randomUUID();
  const key = await signingKey();
  const stranger = await signingKey();
  const jwks = { keys: [{ ...(await exportJWK(key.publicKey)), kid, use: "sig", alg: "RS256", kty: "RSA" }] };
  const keysPath = `/${tenantId}/discovery/v2.0/keys`;
  const server = createServer((request, response) => {
    const found = request.method === "GET" && request.url === keysPath;
    response.writeHead(found ? 200 : 404, { "Content-Type": "application/json" });
    response.end(JSON.stringify(found ? jwks : { error: "not_found" }));
  });
  const port = await listen(server);
  const issuer = `https://sts.windows.net/${tenantId}/`;
  const jwksUrl = `http://127.0.0.1:${port}${keysPath}`;
  return {
    tenantId,
    jwksUrl,
    issuer,
    async mintToken(mint) {
      const now = Math.floor(Date.now() / 1000);
      const servicePrincipal = randomUUID();
      return new SignJWT({
        roles: mint.roles ?? [SECURE_WEBHOOK_ROLE],
        appid: ACTION_GROUPS_APP_ID,
        appidacr: "2",
        oid: servicePrincipal,
        tid: tenantId,
        ver: "1.0",
      })
        .setProtectedHeader({ alg: "RS256", typ: "JWT", kid })
        .setIssuer(mint.issuer ?? issuer)
        .setAudience(mint.audience)
        .setSubject(servicePrincipal)
        .setIssuedAt(now)
        .setNotBefore(now - 300)
        .setExpirationTime(now + (mint.expiresInSeconds ?? 3600))
        .sign(mint.forgedSignature ? stranger.privateKey : key.privateKey);
    },
    appSettings: (audience) => ({
      FLOWTAP_ALERTS_ENTRA_TENANT_ID: tenantId,
      FLOWTAP_ALERTS_ENTRA_AUDIENCE: audience,
      FLOWTAP_ALERTS_ENTRA_JWKS_URL: jwksUrl,
    }),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
