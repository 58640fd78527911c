/**
 * The errors flowtap throws: one base class with a stable `code`, a `name` derived from it (`${code}Error`, what
 * logs and durable failure details show) and the underlying `cause`. Subclasses exist only where a caller tells
 * them apart with `instanceof`: a flow log that is not one (skipped, not retried), input refused at the edge
 * (HTTP 400, stale work) and a failed service call (retried when `retryable`). Anything else, such as a bad
 * setting, is a plain FlowtapError with its code.
 */
export type FlowtapErrorCode = "FlowLogFormat" | "Configuration" | "Validation" | "Service";

export interface FlowtapErrorOptions {
  cause?: unknown;
}

export class FlowtapError extends Error {
  override readonly name: string;
  readonly code: FlowtapErrorCode;
  constructor(code: FlowtapErrorCode, message: string, options?: FlowtapErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = `${code}Error`;
  }
}

/** Input that is not the flow log it claims to be (a blob path, a block, a record). */
export class FlowLogFormatError extends FlowtapError {
  constructor(message: string, options?: FlowtapErrorOptions) {
    super("FlowLogFormat", message, options);
  }
}

/** A request, event or argument refused at the edge (HTTP 400, foreign blob URL, bad range...). */
export class ValidationError extends FlowtapError {
  constructor(message: string, options?: FlowtapErrorOptions) {
    super("Validation", message, options);
  }
}

/** A call to an Azure service (or its local stand-in) failed; `retryable` tells whether to try again. */
export class ServiceError extends FlowtapError {
  readonly retryable: boolean;
  constructor(message: string, options: FlowtapErrorOptions & { retryable: boolean }) {
    super("Service", message, options);
    this.retryable = options.retryable;
  }
}

/** A setting missing or invalid; the message names the setting. */
export function configurationError(message: string, options?: FlowtapErrorOptions): FlowtapError {
  return new FlowtapError("Configuration", message, options);
}
