import type { Reporter, TestCase, TestResult } from "@playwright/test/reporter";
import { readFileSync } from "node:fs";

// CI keeps only what the run prints, not test-results/: on a failure, print the page as the
// browser had it (Playwright's error context: the failing step and the page's ARIA snapshot),
// so a failure seen once in CI can be read without running it again.
export default class FailureContext implements Reporter {
  onTestEnd(test: TestCase, result: TestResult) {
    if (result.status === "passed" || result.status === "skipped") return;
    for (const attachment of result.attachments) {
      if (attachment.name !== "error-context" || !attachment.path) continue;
      // Only the snapshots: the rest (the error, the test's source) the list reporter prints.
      const snapshots = [...readFileSync(attachment.path, "utf8").matchAll(/```yaml\n([\s\S]*?)```/g)]
        .map((m) => m[1])
        .join("\n");
      const shown = snapshots.length > 8000 ? `${snapshots.slice(0, 8000)}… (cut)` : snapshots;
      console.log(`\n--- the page when "${test.title}" failed ---\n${shown}---`);
    }
  }

  printsToStdio() {
    return false;
  }
}
