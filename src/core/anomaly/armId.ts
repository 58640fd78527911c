/** ARM resource ids, compared case-insensitively as ARM does. */

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
 * otherwise.
 */
export function parseArmResourceId(resourceId: string): ArmResourceId | null {
  const segments = resourceId.split("/");
  if (segments.length !== 9 || segments[0] !== "") return null;
  const [, subscriptions, subscriptionId, resourceGroups, resourceGroup, providers, namespace, type, name] = segments;
  if (subscriptions.toLowerCase() !== "subscriptions" || resourceGroups.toLowerCase() !== "resourcegroups") return null;
  if (providers.toLowerCase() !== "providers" || !subscriptionId || !resourceGroup || !namespace || !type || !name)
    return null;
  return { resourceId, subscriptionId, resourceGroup, type: `${namespace}/${type}`.toLowerCase(), name };
}
