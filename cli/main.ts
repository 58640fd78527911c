#!/usr/bin/env node
/**
 * The `flowtap` command line. Each subcommand lives in cli/commands/<name>.ts and is
 * listed once in COMMANDS below.
 */
import type { CliCommand } from "./command";

const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  generate: async () => (await import("./commands/generate")).generateCommand,
  flatten: async () => (await import("./commands/flatten")).flattenCommand,
  start: async () => (await import("./commands/start")).startCommand,
  run: async () => (await import("./commands/run")).runCommand,
  backfill: async () => (await import("./commands/backfillCommand")).backfillCommand,
};

function usage(): string {
  const names = Object.keys(COMMANDS).sort();
  return `usage: flowtap <command> [options]\ncommands: ${names.join(", ")}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`flowtap: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  const command = await load();
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`flowtap: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
