/**
 * The few error classes of flowtap. Each sets `name` and keeps the underlying `cause`.
 */
export interface FlowtapErrorOptions {
  cause?: unknown;
}

/** Input that is not what it claims to be: a flow log, a path, a request body, a setting. */
export class FlowLogFormatError extends Error {
  override readonly name = "FlowLogFormatError";
  constructor(message: string, options?: FlowtapErrorOptions) {
    super(message, options);
  }
}

/** A setting missing or invalid; the message names the setting. */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
  constructor(message: string, options?: FlowtapErrorOptions) {
    super(message, options);
  }
}

/** A request or event refused at the edge (HTTP 400, foreign blob URL...). */
export class ValidationError extends Error {
  override readonly name = "ValidationError";
  constructor(message: string, options?: FlowtapErrorOptions) {
    super(message, options);
  }
}

/** A call to an Azure service (or its local stand-in) failed; `retryable` tells whether to try again. */
export class ServiceError extends Error {
  override readonly name = "ServiceError";
  readonly retryable: boolean;
  constructor(message: string, options: FlowtapErrorOptions & { retryable: boolean }) {
    super(message, options);
    this.retryable = options.retryable;
  }
}
