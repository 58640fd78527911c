#!/usr/bin/env node
/**
 * The `flowtap` command line. Each subcommand lives in cli/commands/<name>.ts and is
 * listed once in COMMANDS below; `flowtap --help` prints each with its one-line summary.
 */
import type { CliCommand } from "./command";
import { printable } from "../src/core/printable";

const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  start: async () => (await import("./commands/start")).startCommand,
  backfill: async () => (await import("./commands/backfillCommand")).backfillCommand,
  tail: async () => (await import("./commands/tail")).tailCommand,
  quarantine: async () => (await import("./commands/quarantine")).quarantineCommand,
  run: async () => (await import("./commands/run")).runCommand,
  flatten: async () => (await import("./commands/flatten")).flattenCommand,
  generate: async () => (await import("./commands/generate")).generateCommand,
};

async function usage(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  const width = Math.max(...commands.map((command) => command.name.length)) + 2;
  return [
    "usage: flowtap <command> [options]   (flowtap <command> --help: its options, defaults and an example)",
    "commands:",
    ...commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    "",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    process.stdout.write(await usage());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`flowtap: unknown command '${printable(name)}'\n${await usage()}`);
    return 2;
  }
  const command = await load();
  return command.run(rest);
}

// A reader that stops early (`flowtap flatten ... | head`) closes the pipe: that ends the output, not in error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`flowtap: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
