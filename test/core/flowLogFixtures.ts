/** Reads the published flow-log samples (see ../shared/fixtures/flowlogs/SOURCES.md). */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** FLOWTAP_FIXTURES_DIR overrides the place (a git worktree elsewhere than beside shared/). */
export const FIXTURES_DIR = process.env.FLOWTAP_FIXTURES_DIR ?? resolve(__dirname, "../../../shared/fixtures/flowlogs");

export function fixturePath(name: string): string {
  return resolve(FIXTURES_DIR, name);
}

export function readFixture(name: string): Buffer {
  return readFileSync(fixturePath(name));
}
