/** A `flowtap` subcommand: takes its arguments, returns the process exit code. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  run(args: string[]): Promise<number>;
}
