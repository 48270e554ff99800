import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints one closing line, `N passed, N failed, N skipped`, that CI reads to count tests.
 * A skipped or todo test counts as skipped and also fails the run: we do not keep tests
 * that do not run.
 */
export class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      if (mod.state() === "failed" && mod.children.size === 0) failed++;
    }
    failed += errors.length;
    if (skipped > 0) {
      process.exitCode = 1;
      console.log(`\nSkipped tests are not allowed here: make them run or delete them.`);
    }
    console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  }
}
