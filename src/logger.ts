import { createClientLogger, type AzureLogger } from "@azure/logger";

/**
 * `@azure/logger`-style logging: enable with AZURE_LOG_LEVEL=info|warning|verbose or
 * `setLogLevel`. Warn when a failure throws; stacks only at verbose; never log a secret.
 */
export const logger: AzureLogger = createClientLogger("flowtap");

/** Logs a failure: the message at warning, the stack at verbose. */
export function logFailure(what: string, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  logger.warning(`${what}: ${err.name}: ${err.message}`);
  if (err.stack) logger.verbose(err.stack);
}
