/**
 * Secure Webhook: checks the Entra ID token an action group sends (`Authorization: Bearer …`) with
 * the `jose` library: RS256 signature against the tenant's published keys (JWKS, fetched and cached
 * by jose), issuer, audience, expiry and not-before, and the `ActionGroupsSecureWebhook` app role
 * the action group's service principal must hold.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";
import type { SecureWebhookSettings } from "../config";

/** The app role action groups' Secure Webhook tokens carry in `roles`. */
export const SECURE_WEBHOOK_ROLE = "ActionGroupsSecureWebhook";
/** Clock skew tolerated on `exp` and `nbf`, as Microsoft's token libraries allow. */
const CLOCK_TOLERANCE_IN_SECONDS = 300;
/** How long a JWKS fetch may take before the request is refused. */
const JWKS_TIMEOUT_IN_MS = 5_000;

export type TokenCheck =
  | { ok: true; claims: JWTPayload }
  /** 401: no token, or one that fails a check; 403: a valid token without the role. */
  | { ok: false; status: 401 | 403; reason: string };

/** What failed, in words, from jose's error codes (the token itself is never echoed). */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's "${error.claim}" claim is not accepted`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (error instanceof errors.JWKSNoMatchingKey) return "the token is not signed by a key of the tenant";
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not RS256";
  if (error instanceof errors.JWKSTimeout) return "the tenant's signing keys could not be fetched in time";
  if (error instanceof errors.JOSEError) return `the token is not valid (${error.code})`;
  return "the token could not be checked";
}

/** A checker of `Authorization` headers for these settings (one JWKS cache per checker). */
export function makeSecureWebhookTokenCheck(
  settings: SecureWebhookSettings,
): (authorization: string | null) => Promise<TokenCheck> {
  const keys = createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: JWKS_TIMEOUT_IN_MS });
  return async (authorization) => {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    if (!token) return { ok: false, status: 401, reason: "an Entra ID bearer token is required (Secure Webhook)" };
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, {
        issuer: settings.issuers,
        audience: settings.audiences,
        algorithms: ["RS256"],
        clockTolerance: CLOCK_TOLERANCE_IN_SECONDS,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      return { ok: false, status: 401, reason: reasonOf(error) };
    }
    const roles = Array.isArray(claims.roles) ? (claims.roles as unknown[]) : [];
    return roles.includes(SECURE_WEBHOOK_ROLE)
      ? { ok: true, claims }
      : { ok: false, status: 403, reason: `the token lacks the ${SECURE_WEBHOOK_ROLE} app role` };
  };
}
