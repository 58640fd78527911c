/**
 * Every `flowtap` subcommand, listed once: each lives in cli/commands/<name>.ts and is loaded on
 * use; `usage` is what `flowtap --help` prints (each command with its one-line summary).
 */
import type { CliCommand } from "./command";

export const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  start: async () => (await import("./commands/start")).startCommand,
  backfill: async () => (await import("./commands/backfillCommand")).backfillCommand,
  tail: async () => (await import("./commands/tail")).tailCommand,
  quarantine: async () => (await import("./commands/quarantine")).quarantineCommand,
  run: async () => (await import("./commands/run")).runCommand,
  flatten: async () => (await import("./commands/flatten")).flattenCommand,
  generate: async () => (await import("./commands/generate")).generateCommand,
};

export async function usage(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  const width = Math.max(...commands.map((command) => command.name.length)) + 2;
  return [
    "usage: flowtap <command> [options]   (flowtap <command> --help: its options, defaults and an example)",
    "commands:",
    ...commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    "",
  ].join("\n");
}
