/** ARM resource ids, compared case-insensitively as ARM does. */
import { parseResourceIdSegments } from "../resourceId";

export interface ArmResourceId {
  /** As given. */
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  /** Lower-cased `namespace/type`, e.g. `microsoft.compute/virtualmachines`. */
  type: string;
  name: string;
}

/**
 * Parses a top-level resource id `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}`, any case; null
 * otherwise, and null when a segment fails validation (parseResourceIdSegments: no `?`, `#`, `%`, `..`, ...).
 */
export function parseArmResourceId(resourceId: string): ArmResourceId | null {
  const parsed = parseResourceIdSegments(resourceId);
  if (!parsed.ok || parsed.value.segments.length !== 8) return null;
  const [subscriptions, subscriptionId, resourceGroups, resourceGroup, providers, namespace, type, name] = parsed.value
    .segments as [string, string, string, string, string, string, string, string];
  if (subscriptions.toLowerCase() !== "subscriptions" || resourceGroups.toLowerCase() !== "resourcegroups") return null;
  if (providers.toLowerCase() !== "providers") return null;
  return { resourceId, subscriptionId, resourceGroup, type: `${namespace}/${type}`.toLowerCase(), name };
}
