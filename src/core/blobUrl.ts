/**
 * Which blob an Event Grid BlobCreated event names, and whether flowtap may read it: the URL (or
 * the subject with its topic) must name the configured account and a configured container, and a
 * `PT1H.json` flow-log blob. Anything else is refused with a ValidationError naming the input and
 * the reason, so a forged or misrouted event can never make flowtap read a foreign blob. Pure.
 */
import { ValidationError } from "../errors";

export interface BlobLocation {
  container: string;
  /** The blob name inside the container, decoded (`resourceId=/SUBSCRIPTIONS/.../PT1H.json`). */
  path: string;
}

export interface AcceptedBlobs {
  /** Lower-case storage account name. */
  accountName: string;
  containers: readonly string[];
}

/** The service writes exactly this name, case included. */
export const FLOW_LOG_BLOB_NAME = "PT1H.json";

type Refuse = (reason: string) => never;

const EMULATOR_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
/** `https://{account}.blob.core.windows.net` (or another cloud's suffix; `dfs` for ADLS Gen2 events). */
const SERVICE_HOST = /^([a-z0-9]{3,24})\.(?:blob|dfs)\.[a-z0-9.-]+$/;
const URL_PARTS = /^(https?):\/\/([^/?#]+)(\/[^?#]*)?([?#].*)?$/i;
const SUBJECT = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/;
const TOPIC_ACCOUNT = /\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)\/?$/i;

/**
 * Parses a blob URL (`https://{account}.blob.core.windows.net/{container}/{path}`, or an emulator
 * URL `http://127.0.0.1:PORT/{account}/{container}/{path}`) and returns its container and decoded
 * path when flowtap accepts it; throws ValidationError otherwise.
 */
export function parseAcceptedBlobUrl(url: string, accepted: AcceptedBlobs): BlobLocation {
  const refuse: Refuse = (reason) => {
    throw new ValidationError(`Refused blob URL '${withoutQuery(url)}': ${reason}`);
  };
  const parts = URL_PARTS.exec(url.trim());
  if (!parts) return refuse("not an http(s) URL");
  const [, scheme, authority, rawPath = "", queryOrFragment] = parts;
  if (queryOrFragment !== undefined) refuse("a blob URL from Event Grid has no query or fragment");
  let host: string;
  try {
    host = new URL(`${scheme}://${authority}`).hostname.toLowerCase();
  } catch {
    return refuse("its host is not valid");
  }
  // Split the raw path ourselves: URL parsing would silently resolve `..` segments.
  const segments = decodeSegments(rawPath.slice(1).split("/"), refuse);
  let account: string | undefined;
  if (EMULATOR_HOSTS.has(host)) account = segments.shift()?.toLowerCase();
  else account = SERVICE_HOST.exec(host)?.[1];
  if (account === undefined) refuse(`host '${host}' is not a storage account blob endpoint`);
  if (account !== accepted.accountName)
    refuse(`account '${account}' is not the configured account '${accepted.accountName}'`);
  const container = segments.shift() ?? "";
  return accept(container, segments.join("/"), accepted, refuse);
}

/**
 * Parses an Event Grid subject `/blobServices/default/containers/{container}/blobs/{path}`; the
 * account comes from the event's topic `.../providers/Microsoft.Storage/storageAccounts/{account}`.
 */
export function parseAcceptedBlobSubject(subject: string, topic: string, accepted: AcceptedBlobs): BlobLocation {
  const refuse: Refuse = (reason) => {
    throw new ValidationError(`Refused blob subject '${subject}' (topic '${topic}'): ${reason}`);
  };
  const account = TOPIC_ACCOUNT.exec(topic)?.[1]?.toLowerCase();
  if (account === undefined) refuse("the topic names no storage account");
  if (account !== accepted.accountName)
    refuse(`account '${account}' is not the configured account '${accepted.accountName}'`);
  const parts = SUBJECT.exec(subject);
  if (!parts) return refuse("not a blob subject /blobServices/default/containers/{container}/blobs/{path}");
  const [, container, path] = parts;
  // Subjects carry the blob name as is (not URL-encoded).
  if (path.split("/").some(isDotSegment)) refuse("the path has '.' or '..' segments");
  return accept(container, path, accepted, refuse);
}

function accept(container: string, path: string, accepted: AcceptedBlobs, refuse: Refuse): BlobLocation {
  if (container === "") refuse("it names no container");
  if (!accepted.containers.includes(container)) {
    refuse(`container '${container}' is not one of the configured containers (${accepted.containers.join(", ")})`);
  }
  if (!path.endsWith(`/${FLOW_LOG_BLOB_NAME}`)) refuse(`blob '${path}' is not a flow log '.../${FLOW_LOG_BLOB_NAME}'`);
  return { container, path };
}

function decodeSegments(rawSegments: string[], refuse: Refuse): string[] {
  return rawSegments.map((raw) => {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return refuse(`segment '${raw}' is not valid percent-encoding`);
    }
    // Also catches `%2e%2e`, and `..` hidden behind an encoded slash or a backslash.
    if (segment.split(/[/\\]/).some(isDotSegment)) refuse("the path has '.' or '..' segments (path traversal)");
    return segment;
  });
}

function isDotSegment(segment: string): boolean {
  return segment === "." || segment === "..";
}

/** Error messages never echo a query string: it may hold a SAS signature. */
function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : `${url.slice(0, cut)}?...`;
}
