/**
 * Ends every run with the plain line `N passed, N failed, N skipped`, which CI tools read in any
 * language; vitest's own summary stays above it.
 */
import type { RunnerTask, RunnerTestFile } from "vitest";
import type { Reporter } from "vitest/reporters";

function countTests(tasks: readonly RunnerTask[], totals: { passed: number; failed: number; skipped: number }): void {
  for (const task of tasks) {
    if (task.type === "suite") {
      countTests(task.tasks, totals);
      continue;
    }
    const state = task.result?.state;
    if (state === "pass") totals.passed += 1;
    else if (state === "fail") totals.failed += 1;
    else totals.skipped += 1;
  }
}

export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []): void {
    const totals = { passed: 0, failed: 0, skipped: 0 };
    countTests(files, totals);
    // A file that failed to load has no tests to count; it still fails the run.
    const failedFiles = files.filter((file) => file.result?.state === "fail" && file.tasks.length === 0).length;
    totals.failed += failedFiles + errors.length;
    process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
  }
}
