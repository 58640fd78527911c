/**
 * The published flow-log samples (see ../shared/fixtures/flowlogs/SOURCES.md). They live beside the repository, not
 * in it: a clone without them skips the tests that read them, with a note naming the folder, and never passes them.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { beforeEach, type TestContext } from "vitest";

/** FLOWTAP_FIXTURES_DIR overrides the place (a git worktree elsewhere than beside shared/). */
export const FIXTURES_DIR = process.env.FLOWTAP_FIXTURES_DIR ?? resolve(__dirname, "../../../shared/fixtures/flowlogs");

/** Whether the samples are there (read once: they do not come and go during a run). */
export const FIXTURES_PRESENT = existsSync(FIXTURES_DIR);

const FIXTURES_ABSENT_NOTE = `skipped: the real flow-log samples are not at ${FIXTURES_DIR} (see CONTRIBUTING.md)`;

/** Skips the running test when the samples are absent; call it first in a test that reads them. */
export function skipWithoutFixtures(context: TestContext): void {
  if (!FIXTURES_PRESENT) context.skip(FIXTURES_ABSENT_NOTE);
}

/** Skips every test of the enclosing file or describe block when the samples are absent. */
export function skipAllWithoutFixtures(): void {
  beforeEach((context) => skipWithoutFixtures(context));
}

export function fixturePath(name: string): string {
  return resolve(FIXTURES_DIR, name);
}

export function readFixture(name: string): Buffer {
  return readFileSync(fixturePath(name));
}

/** Every sample file (`.json`), relative to the samples' folder. */
export function fixtureFiles(dir = FIXTURES_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? fixtureFiles(join(dir, entry.name))
      : entry.name.endsWith(".json")
        ? [relative(FIXTURES_DIR, join(dir, entry.name))]
        : [],
  );
}
