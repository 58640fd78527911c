/** A `flowtap` subcommand: takes its arguments, returns the process exit code. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  run(args: string[]): Promise<number>;
}

/** Resolves at the first SIGINT or SIGTERM (and stops listening for both). */
export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
