import { expect, test } from "@playwright/test";
import { expectLive, postBuild, signIn } from "./helpers";

// The build pages at tablet size: pipelines worst first, a pipeline's duration chart drawn on
// the server before hydration, and a build that starts appearing live with its predicted risk.
test.use({ viewport: { width: 820, height: 1180 } });

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

test("builds list pipelines, chart them before hydration and show a new build live", async ({ page, browser }) => {
  await signIn(page, "/builds");
  const rows = page.locator(".builds-table tbody tr");
  await expect(rows).toHaveCount(4);
  // The demo's last days, delivered as CI sends them, have failures that passed on a re-run.
  await expect(page.locator(".builds-table").getByText(/\d+ flaky/).first()).toBeVisible();
  await expect(page.getByTestId("live-accuracy")).toBeVisible();
  // A search that leaves nothing says so, rather than showing headers over nothing.
  await expectLive(page);
  const search = page.getByPlaceholder("Pipeline");
  // (Typed again until the island has hydrated and hears it.)
  await expect(async () => {
    await search.fill("no-such-pipeline");
    await expect(rows).toHaveCount(0, { timeout: 1_000 });
  }).toPass();
  await expect(page.getByRole("status").filter({ hasText: "No pipeline's name contains" })).toContainText("no-such-pipeline");
  await search.fill("");
  await expect(rows).toHaveCount(4);

  // Server-rendered: the chart is in the page before (here: without) the browser bundle.
  const context = await browser.newContext({ storageState: await page.context().storageState(), viewport: { width: 820, height: 1180 } });
  const unhydrated = await context.newPage();
  await unhydrated.route("**/*.wasm", (route) => route.abort());
  await unhydrated.goto("/builds/pipeline?name=acme/shop/ci");
  await expect(unhydrated.getByTestId("duration-chart").locator("svg")).toBeVisible();
  await expect(unhydrated.getByTestId("pipeline-summary")).toContainText("builds");
  // The demo's month of one pipeline fits: every build is a dot, and the chart says so.
  await expect(unhydrated.getByTestId("duration-sample")).toContainText("Dots: every finished build");
  // The key sits above the chart, not over the newest builds' dots.
  await expect(unhydrated.getByTestId("chart-key")).toHaveText(/passed.*failed.*p50.*p95/);
  await context.close();

  await page.getByRole("link", { name: "acme/shop/ci" }).click();
  await expect(page).toHaveURL(/\/builds\/pipeline\?name=acme/);
  await expectLive(page);
  const branch = `feature/live-${Date.now()}`;
  await postBuild(page, {
    pipeline: "acme/shop/ci", branch, author: "new.hire", trigger: "pull_request",
    message: "WIP: bump deps", lines_added: 2200, lines_deleted: 300, files_changed: 40,
    started_at: new Date().toISOString(), status: "running", source_id: branch,
    url: "https://github.com/acme/shop/actions/runs/1",
  });
  const running = page.getByTestId("running-builds");
  await expect(running).toContainText(branch);
  await expect(running).toContainText("risk of failure");
  // How long it has been going (a stuck run shows as one), and the way to the run itself.
  await expect(running).toContainText("started just now");
  await expect(running.getByRole("link", { name: "open the run" })).toHaveAttribute("href", "https://github.com/acme/shop/actions/runs/1");
  await expect(page.locator(".build-list").getByText(branch)).toBeVisible();

  // A prediction's reasons speak of an author's last builds: theirs are one click away.
  await page.locator(".build-list").getByRole("link", { name: "new.hire" }).first().click();
  await expect(page).toHaveURL(/author=new\.hire/);
  await expect(page.getByLabel("Author")).toHaveValue("new.hire");
  const authors = page.locator(".build-list .build-author a");
  await expect(authors.first()).toHaveText("new.hire");
  expect(new Set(await authors.allTextContents())).toEqual(new Set(["new.hire"]));

  // Filtered to nothing, the list says so and leads back to every build of the period.
  await page.getByLabel("Author").fill("nobody-here");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByText("No build matches these filters.")).toBeVisible();
  await page.getByRole("link", { name: "Show every build" }).click();
  await expect(page).not.toHaveURL(/author=/);
  await expect(page.locator(".build-list .build-author").first()).toBeVisible();
});

test("a first look at the demo finds a build in flight, with its risk and the reasons", async ({ page }) => {
  await signIn(page, "/builds");
  // The board says the slowest pipeline is running, and its page says how risky that is and why.
  const row = page.locator(".builds-table tbody tr", { hasText: "acme/web/e2e" });
  await expect(row.locator(".badge")).toHaveText(/running/);
  await row.getByRole("link", { name: "acme/web/e2e" }).click();
  const running = page.getByTestId("running-builds");
  await expect(running).toContainText("feature/checkout-redesign");
  await expect(running).toContainText(/by new\.hire: \d+% risk of failure/);
  await expect(running).toContainText(/Why: .*1,550 lines/);
});

test("an operator trains the failure model now and the card shows the new one", async ({ page }) => {
  await signIn(page, "/builds");
  await expectLive(page);
  const card = page.getByTestId("predictor");
  const version = (text: string | null) => Number(text?.match(/Model (\d+) trained on/)?.[1]);
  const before = version(await card.locator("p.muted").first().textContent());
  expect(before).toBeGreaterThan(0);
  await card.getByRole("button", { name: "Train now" }).click();
  const done = card.getByRole("status");
  await expect(done).toContainText(/Model \d+ trained on [\d,]+ builds: [\d.]+% right on the newest/);
  const after = version(await done.textContent());
  expect(after).toBeGreaterThan(before);
  // The card's record is the new model's, without a reload.
  await expect(card.locator("p.muted").first()).toContainText(`Model ${after} trained on`);
  await expect(card.getByRole("button", { name: "Train now" })).toBeEnabled();
});

test("a busy pipeline's running card shows the newest five and leads to every running build", async ({ page }) => {
  await signIn(page, "/builds");
  const pipeline = `acme/busy-${Date.now()}/ci`;
  for (let i = 0; i < 6; i++) {
    await postBuild(page, {
      pipeline, branch: `feature/busy-${i}`, author: "new.hire",
      started_at: new Date(Date.now() - (6 - i) * 1_000).toISOString(), status: "running", source_id: `${pipeline}/${i}`,
    });
  }
  await page.goto(`/builds/pipeline?name=${encodeURIComponent(pipeline)}`);
  const running = page.getByTestId("running-builds");
  await expect(running.locator("li")).toHaveCount(5);
  // The newest first: the oldest of the six is the one left out.
  await expect(running).not.toContainText("feature/busy-0 ");
  await expect(running.getByTestId("more-running")).toHaveText(/The newest 5 of 6 unfinished builds/);
  await running.getByRole("link", { name: "List the running ones" }).click();
  await expect(page).toHaveURL(/status=running/);
  await expect(page.locator(".build-list tbody tr")).toHaveCount(6);
});

test("a pipeline whose main is red says since when and which build broke it", async ({ page }) => {
  await signIn(page, "/builds");
  const pipeline = `acme/red-${Date.now()}/ci`;
  const builds = [
    { branch: "main", status: "success", author: "ann", message: "Add search", at: 50 },
    { branch: "main", status: "failure", author: "sam.product", message: "Refactor cart pricing\n\nMoves tax out", at: 40, commit: "bad0c0de1234", tests_failed: 3 },
    { branch: "feature/x", status: "failure", author: "ann", message: "WIP", at: 35 },
    { branch: "main", status: "failure", author: "ann", message: "Try to fix the cart", at: 20 },
    { branch: "feature/y", status: "success", author: "ann", message: "Polish", at: 15 },
  ];
  for (const [i, b] of builds.entries()) {
    await postBuild(page, {
      pipeline, branch: b.branch, commit: b.commit ?? "0a1b2c3d4e5f", author: b.author, message: b.message,
      started_at: minutesAgo(b.at), finished_at: minutesAgo(b.at - 5), status: b.status, source_id: `${pipeline}/${i}`,
      ...(b.tests_failed === undefined ? {} : { tests_total: 1240, tests_failed: b.tests_failed }),
    });
  }
  const greenPipeline = `acme/green-${Date.now()}/ci`;
  await postBuild(page, {
    pipeline: greenPipeline, branch: "main", started_at: minutesAgo(30), finished_at: minutesAgo(25), status: "success",
  });
  // On the Builds page the newest build passed (a feature branch's), yet main is red: the row
  // says so and "Red now" keeps it.
  await page.goto("/builds");
  await expectLive(page);
  const row = page.locator(".builds-table tbody tr", { hasText: pipeline });
  await expect(row.getByTestId("red-shipping")).toHaveText(/main red since 3[56] min ago/);
  await expect(row.locator(".badge").first()).toHaveText("success");
  const green = page.locator(".builds-table tbody tr", { hasText: greenPipeline });
  await expect(green).toHaveCount(1);
  await page.getByLabel("Red now").check();
  await expect(green).toHaveCount(0);
  await expect(row).toHaveCount(1);

  await page.goto(`/builds/pipeline?name=${encodeURIComponent(pipeline)}`);
  // Only the branch that ships: a red feature branch is everyday work, not news.
  const red = page.getByTestId("red-now");
  await expect(red).toHaveCount(1);
  await expect(red).toContainText(/main is red since 3[56] min ago: its last 2 builds failed\./);
  await expect(red).toContainText("It began with bad0c0d by sam.product: “Refactor cart pricing” (3 tests failed).");
  await red.getByRole("link", { name: "main's failures" }).click();
  await expect(page).toHaveURL(/branch=main/);
  await expect(page).toHaveURL(/status=failure/);
  await expect(page.locator(".build-list tbody tr")).toHaveCount(2);

  // A success on main ends it, live.
  await expectLive(page);
  await postBuild(page, {
    pipeline, branch: "main", author: "ann", message: "Fix the cart",
    started_at: minutesAgo(10), finished_at: minutesAgo(5), status: "success", source_id: `${pipeline}/fixed`,
  });
  await expect(page.getByTestId("red-now")).toHaveCount(0);
});

test("a build running longer than 95% of the pipeline's builds take says it may be stuck", async ({ page }) => {
  await signIn(page, "/builds");
  const origin = new URL(page.url()).origin;
  const pipeline = `acme/slow-${Date.now()}/ci`;
  // A day of builds that each took five minutes: enough to say what is usual.
  const history = Array.from({ length: 20 }, (_, i) => ({
    pipeline, branch: "main", commit: "0a1b2c3d4e5f", trigger: "push", status: "success",
    started_at: minutesAgo(1440 - i * 60), finished_at: minutesAgo(1435 - i * 60), source_id: `${pipeline}/h${i}`,
  }));
  const imported = await page.request.post("/api/v1/builds/import", { headers: { origin }, data: history });
  expect(imported.status(), await imported.text()).toBe(201);
  for (const [name, started] of [["stuck", 30], ["fresh", 1]] as const) {
    await postBuild(page, {
      pipeline, branch: `feature/${name}`, status: "running", started_at: minutesAgo(started), source_id: `${pipeline}/${name}`,
    });
  }
  await page.goto(`/builds/pipeline?name=${encodeURIComponent(pipeline)}`);
  const running = page.getByTestId("running-builds");
  await expect(running.locator("li")).toHaveCount(2);
  await expect(running.locator("li", { hasText: "feature/stuck" }).getByTestId("overdue"))
    .toHaveText("longer than 95% of builds take (5.0 min)");
  await expect(running.locator("li", { hasText: "feature/fresh" }).getByTestId("overdue")).toHaveCount(0);
});

test("the pipelines sort by p50 to find the slow ones, the slowest first and then the quickest", async ({ page }) => {
  await signIn(page, "/builds");
  const tag = `sort${Date.now()}`;
  const [slow, quick] = [`${tag}/slow/ci`, `${tag}/quick/ci`];
  // The slow pipeline passes and the quick one fails, so worst first and slowest first disagree.
  await postBuild(page, { pipeline: slow, branch: "main", status: "success", started_at: minutesAgo(60), finished_at: minutesAgo(20), source_id: slow });
  await postBuild(page, { pipeline: quick, branch: "main", status: "failure", started_at: minutesAgo(60), finished_at: minutesAgo(58), source_id: quick });
  await page.reload();
  await expectLive(page);
  const names = page.locator(".builds-table tbody .pipeline-name");
  await expect(async () => {
    await page.getByPlaceholder("Pipeline").fill(tag);
    await expect(names).toHaveCount(2, { timeout: 1_000 });
  }).toPass();
  const success = page.getByRole("columnheader", { name: "Success" });
  await expect(success).toHaveAttribute("aria-sort", "ascending");
  await expect(names).toHaveText([quick, slow]);

  const p50 = page.getByRole("columnheader", { name: "p50" });
  await p50.getByRole("button").click();
  await expect(p50).toHaveAttribute("aria-sort", "descending");
  await expect(success).not.toHaveAttribute("aria-sort");
  await expect(names).toHaveText([slow, quick]);
  // Chosen again, from the keyboard: the quickest first.
  await p50.getByRole("button").press("Enter");
  await expect(p50).toHaveAttribute("aria-sort", "ascending");
  await expect(names).toHaveText([quick, slow]);

  // The address keeps the search and the order: a reload (drawn by the server) and another
  // period show the same list; so does "Red now", which leaves the failing one.
  await expect(page).toHaveURL(`/builds?days=30&q=${tag}&sort=-p50`);
  await page.reload();
  await expect(page.getByPlaceholder("Pipeline")).toHaveValue(tag);
  await expect(p50).toHaveAttribute("aria-sort", "ascending");
  await expect(names).toHaveText([quick, slow]);
  await expectLive(page);
  await page.getByRole("link", { name: "90 days" }).click();
  await expect(page).toHaveURL(`/builds?days=90&q=${tag}&sort=-p50`);
  await expect(page.getByRole("link", { name: "90 days" })).toHaveAttribute("aria-current", "page");
  await expect(p50).toHaveAttribute("aria-sort", "ascending");
  await expect(names).toHaveText([quick, slow]);
  await expectLive(page);
  await expect(async () => {
    await page.getByLabel("Red now").setChecked(true);
    await expect(page).toHaveURL(/&red=1&/, { timeout: 1_000 });
  }).toPass();
  await expect(names).toHaveText([quick]);
  await page.reload();
  await expect(page.getByLabel("Red now")).toBeChecked();
  await expect(names).toHaveText([quick]);
  // A pipeline picked from that list keeps it through its own filters and periods, and
  // "← Builds" goes back to it, not to every pipeline.
  const kept = `q=${tag}&red=1&sort=-p50`;
  await page.getByRole("link", { name: quick }).click();
  await expect(page).toHaveURL(new RegExp(`/builds/pipeline\\?name=.*&days=90&${kept}$`));
  await expectLive(page);
  await page.getByLabel("Status").selectOption("failure");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/status=failure/);
  await page.getByRole("link", { name: "7 days" }).click();
  await expect(page).toHaveURL(new RegExp(`days=7&status=failure&${kept}$`));
  await page.getByRole("link", { name: "← Builds" }).click();
  await expect(page).toHaveURL(`/builds?days=7&${kept}`);
  await expect(page.getByPlaceholder("Pipeline")).toHaveValue(tag);
  await expect(page.getByLabel("Red now")).toBeChecked();
  await expect(names).toHaveText([quick]);
  await page.getByRole("link", { name: "90 days" }).click();
  await expect(page).toHaveURL(`/builds?days=90&${kept}`);
  // The page's own order and no filter: its plain address.
  await expectLive(page);
  await page.getByLabel("Red now").setChecked(false);
  await page.getByPlaceholder("Pipeline").fill("");
  await page.getByRole("columnheader", { name: "Success" }).getByRole("button").click();
  await expect(page).toHaveURL("/builds?days=90");
  // A pipeline's page and back keep the period, and no list that was not chosen.
  await page.getByRole("link", { name: quick }).click();
  await expect(page).toHaveURL(/\/builds\/pipeline\?name=.*&days=90$/);
  await page.getByRole("link", { name: "← Builds" }).click();
  await expect(page).toHaveURL("/builds?days=90");
  await expect(page.getByRole("link", { name: "90 days" })).toHaveAttribute("aria-current", "page");
});

test("a failure says how many tests failed, and is marked flaky when a re-run of its commit passed", async ({ page }) => {
  await signIn(page, "/builds");
  const pipeline = `flaky${Date.now()}/app/ci`;
  const run = (n: number, commit: string, status: string, minutes: number, tests_failed: number) =>
    postBuild(page, {
      pipeline, branch: "main", commit, status, started_at: minutesAgo(minutes), finished_at: minutesAgo(minutes - 2),
      source_id: `${pipeline}-${n}`, tests_total: 1240, tests_failed,
    });
  await run(1, "aaaaaaa1", "failure", 50, 1);
  await run(2, "aaaaaaa1", "success", 40, 0); // the same commit, re-run: it passed
  await run(3, "bbbbbbb2", "failure", 30, 0); // a new commit that fails, in no test: a break, not a flake
  await page.goto(`/builds/pipeline?name=${encodeURIComponent(pipeline)}`);
  const statuses = page.locator(".build-list tbody .build-status");
  await expect(statuses).toHaveText([/^failure\s*no test failed$/, "success", /^failure\s*1 test failed\s*flaky$/]);
  await expect(statuses.last().getByText("1 test failed")).toHaveAttribute("title", "1 of 1,240 tests failed");
  await expect(page.getByTestId("pipeline-summary")).toContainText("1 flaky");
});
