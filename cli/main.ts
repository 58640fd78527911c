#!/usr/bin/env node
/**
 * The `flowtap` command line: runs the subcommand named first (cli/registry.ts lists them).
 */
import { COMMANDS, usage } from "./registry";
import { printable } from "../src/core/printable";

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
