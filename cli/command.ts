import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { UsageError, type CliIo } from "./commands/generate";

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

/** Parses `--name value` options strictly; a bad command line is a UsageError naming the option. */
export function parseOptions<T extends ParseArgsOptionsConfig>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}

/** The process's own stdout and stderr, for a command run from the shell. */
export const PROCESS_IO: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};
