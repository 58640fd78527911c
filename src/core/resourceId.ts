/**
 * ARM resource ids parsed into validated segments, and ARM paths built only from encoded
 * segments: an id taken from an alert (or any input) can never change the path or the query of
 * an authenticated ARM request.
 */

/** A resource id that passed validation, with its segments (the empty leading one dropped). */
export interface ResourceIdSegments {
  /** As given. */
  resourceId: string;
  segments: string[];
}

export type ResourceIdParse = { ok: true; value: ResourceIdSegments } | { ok: false; reason: string };

/**
 * Characters ARM names may hold (letters, digits, `_ . ( ) -`): the union of Azure's naming rules for
 * resource groups, virtual machines, network interfaces, scale sets and provider namespaces. Anything
 * else (`? # % & = + /`, whitespace, quotes, non-ASCII) is refused rather than escaped.
 */
const SEGMENT = /^[A-Za-z0-9_.()-]+$/;
/** Resource group names: at most 90 characters, not ending in a period (Azure's naming rules). */
const MAX_RESOURCE_GROUP_LENGTH = 90;
/** The longest ARM resource name (Azure's naming rules cap names well below this). */
const MAX_SEGMENT_LENGTH = 260;
const MAX_ID_LENGTH = 2048;

function segmentProblem(segment: string, index: number): string | null {
  const where = `segment ${index + 1}`;
  if (segment === "") return `${where} is empty`;
  if (segment.includes("..")) return `${where} contains ".."`;
  if (/\s/.test(segment)) return `${where} contains whitespace`;
  for (const forbidden of ["?", "#", "%"]) {
    if (segment.includes(forbidden)) return `${where} contains "${forbidden}"`;
  }
  if (segment.length > MAX_SEGMENT_LENGTH) return `${where} is longer than ${MAX_SEGMENT_LENGTH} characters`;
  if (!SEGMENT.test(segment))
    return `${where} ("${segment}") holds characters outside Azure's naming rules (letters, digits, _ . ( ) -)`;
  return null;
}

/**
 * Splits `/subscriptions/{s}/...` into segments and validates each: no empty segment, no `..`,
 * no `?`, `#`, `%` or whitespace, only characters Azure names allow, and a resource group that
 * is at most 90 characters and does not end in a period.
 */
export function parseResourceIdSegments(resourceId: string): ResourceIdParse {
  if (resourceId.length > MAX_ID_LENGTH) return { ok: false, reason: `longer than ${MAX_ID_LENGTH} characters` };
  if (!resourceId.startsWith("/")) return { ok: false, reason: 'does not start with "/"' };
  const segments = resourceId.slice(1).split("/");
  for (const [index, segment] of segments.entries()) {
    const problem = segmentProblem(segment, index);
    if (problem) return { ok: false, reason: problem };
  }
  if (segments[0]?.toLowerCase() !== "subscriptions" || segments.length < 2)
    return { ok: false, reason: 'does not start with "/subscriptions/{id}"' };
  if (segments[2]?.toLowerCase() === "resourcegroups" && segments[3] !== undefined) {
    const group = segments[3];
    if (group.length > MAX_RESOURCE_GROUP_LENGTH || group.endsWith("."))
      return {
        ok: false,
        reason: `resource group "${group}" breaks Azure's naming rules (at most 90 characters, no final ".")`,
      };
  }
  return { ok: true, value: { resourceId, segments } };
}

/** `/` + the segments, each percent-encoded: the only way flowtap builds an ARM path. */
export function armPath(segments: readonly string[]): string {
  return `/${segments.map((segment) => encodeURIComponent(segment)).join("/")}`;
}
