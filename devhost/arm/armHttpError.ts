/**
 * An error the local ARM endpoint answers with: HTTP status plus the standard ARM body
 * `{ "error": { "code", "message" } }`, which `@azure/core-client` surfaces as `RestError.code`.
 */
export class ArmHttpError extends Error {
  override readonly name = "ArmHttpError";
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: ArmErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): { error: { code: string; message: string; details: ArmErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export interface ArmErrorDetail {
  code: string;
  message: string;
}

/** ARM's answer for a missing top-level resource. */
export function resourceNotFound(type: string, name: string, resourceGroup: string): ArmHttpError {
  return new ArmHttpError(
    404,
    "ResourceNotFound",
    `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. ` +
      "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
  );
}

/** The Network resource provider's answer for a missing child resource (e.g. a packet capture). */
export function childResourceNotFound(id: string): ArmHttpError {
  return new ArmHttpError(404, "NotFound", `Resource ${id} not found.`);
}
