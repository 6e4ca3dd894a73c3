import { expect, Locator, Page, test } from "@playwright/test";
import { expectFitsScreen, expectLive, postBuild, signIn } from "./helpers";

// Runs on the --demo data: every service deploys with the simulated deployer, which fails
// versions containing "bad". search 0.19.2 goes out to staging when the server starts.

async function markNoReload(page: Page) {
  await page.evaluate(() => ((window as any).__sameDocument = true));
}

async function expectSameDocument(page: Page) {
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
}

test("deploy a failing version and watch it fail live; roll back a bad release from the UI", async ({ page }) => {
  await signIn(page, "/deployments");
  await expectLive(page);
  const cell = page.getByTestId("cell-search-staging");
  await expect(cell).toContainText("0.19.2", { timeout: 20_000 });
  await expect(cell).toContainText("Succeeded", { timeout: 20_000 });
  await markNoReload(page);

  await page.getByRole("button", { name: "Deploy…" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Service").selectOption("search");
  await dialog.getByLabel("Environment").selectOption("staging");
  await dialog.getByLabel("Version").fill("0.20.0-bad");
  await dialog.getByLabel("Reason").fill("e2e: ship the new ranking");
  await dialog.getByRole("button", { name: "Deploy" }).click();
  await expect(dialog).toBeHidden();
  // One toast follows the deployment: queued, then its outcome in the same place.
  const toasts = page.getByRole("status");
  await expect(toasts.getByText(/#\d+ search 0.20.0-bad in staging: Failed/)).toBeVisible({ timeout: 15_000 });
  await expect(toasts.getByText(/queued: 0.20.0-bad/)).toHaveCount(0);
  await expect(toasts.getByText(/0.20.0-bad/)).toHaveCount(1);
  // Its live log opened below the matrix, which stays in view.
  const liveLog = page.getByTestId("live-log");
  await expect(liveLog.getByRole("heading", { name: /Deployment #\d+: 0.20.0-bad → staging/ })).toBeVisible();
  await expect(liveLog.getByTestId("log").locator(".log-line").first()).toBeVisible({ timeout: 15_000 });
  await expect(liveLog.getByRole("link", { name: "Open its page →" })).toHaveAttribute("href", /^\/deployments\/\d+$/);

  // The matrix follows the deployment without a reload: it failed, 0.19.2 still serves, and
  // the cell offers to retry it, not to roll back the version that still serves.
  await expect(cell).toContainText("0.20.0-bad");
  await expect(cell).toContainText("Failed", { timeout: 15_000 });
  await expect(cell).toContainText("still serving: 0.19.2");
  await expect(cell.getByRole("button", { name: "Retry…" })).toBeVisible();
  await expect(cell.getByRole("button", { name: "Roll back" })).toHaveCount(0);
  await page.screenshot({ path: "screenshots/deployments-failed.png", fullPage: true });

  // checkout-api 1.42.0 is live in staging, after 1.41.0: the rollback names where it goes.
  const checkout = page.getByTestId("cell-checkout-api-staging");
  await expect(checkout).toContainText("1.42.0");
  await expect(checkout).toContainText("Succeeded", { timeout: 20_000 });
  await checkout.getByRole("button", { name: "Roll back" }).click();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId("rollback-summary")).toHaveText(
    "staging runs 1.42.0. The rollback deploys 1.41.0 and quarantines 1.42.0 in staging until someone lifts it.",
  );
  await expect(dialog.getByRole("option", { name: "1.42.0" })).toHaveCount(0);
  await dialog.getByLabel("Reason (required)").fill("e2e: 5xx after 1.42.0");
  await dialog.getByRole("button", { name: "Roll back" }).click();
  await expect(dialog).toBeHidden();

  await expect(checkout).toContainText("1.41.0", { timeout: 15_000 });
  await expect(checkout).toContainText("Succeeded", { timeout: 15_000 });
  await expect(checkout).toContainText("↩ rollback");
  // The log below follows the rollback now, and closes on request.
  await expect(liveLog.getByRole("heading", { name: /Deployment #\d+: 1.41.0 → staging/ })).toBeVisible();
  await liveLog.getByRole("button", { name: "Close log" }).click();
  await expect(liveLog.getByRole("heading")).toHaveCount(0);
  await expectSameDocument(page);
  // The bad version is now quarantined in staging, and the history says what happened.
  await expect(page.getByRole("heading", { name: "Quarantined versions" })).toBeVisible();
  // 1.42.0 runs in dev but is quarantined in staging: promoting it there is not offered.
  await expect(page.getByTestId("cell-checkout-api-dev").getByRole("button", { name: /Promote/ })).toHaveCount(0);
  const history = page.locator("#history");
  await expect(history.getByRole("row").filter({ hasText: "1.42.0" }).filter({ hasText: "staging" }).first()).toContainText("Rolled back");
  await expect(history.getByRole("row").filter({ hasText: "rollback" }).first()).toContainText("admin");

  // The failed deployment's page shows why, with its log.
  await history.getByRole("row").filter({ hasText: "0.20.0-bad" }).first().getByRole("link").click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("0.20.0-bad");
  await expect(page.getByTestId("log")).toContainText("failed its readiness check");
  await expect(page.getByRole("alert")).toContainText("1 of 3 new instances failed");
});

test("a deployment's log that could not be read is asked for again until it comes", async ({ page, browser }) => {
  await signIn(page, "/deployments");
  const listed = await page.request.get("/api/v1/deployments?limit=50");
  expect(listed.status()).toBe(200);
  const finished = (await listed.json()).items.find((d: { status: string }) => d.status === "succeeded");
  // Before hydration (here: never) the log is unread, not empty: it must not say "No output yet."
  // of a deployment that has output.
  const context = await browser.newContext({ storageState: await page.context().storageState() });
  const unhydrated = await context.newPage();
  await unhydrated.route("**/*.wasm", (route) => route.abort());
  await unhydrated.goto(`/deployments/${finished.id}`);
  await expect(unhydrated.getByTestId("log")).toHaveText("Reading the log…");
  await context.close();
  // A finished deployment announces nothing more: without asking again its log would stay empty.
  let asked = 0;
  await page.route("**/api/deployment_logs", (route) => (asked++ < 2 ? route.abort("connectionreset") : route.continue()));
  await page.goto(`/deployments/${finished.id}`);
  const offline = page.getByRole("alert").filter({ hasText: "could not be reached" });
  await expect(offline).toBeVisible();
  await expect(page.getByTestId("log")).toHaveText("Reading the log…");
  await expect(page.getByTestId("log").locator(".log-line").first()).toBeVisible();
  await expect(offline).toHaveCount(0);
  expect(asked).toBe(3);
});

test("the deploy dialog and a deployment's page say what CI said of a release's commit", async ({ page }) => {
  // The demo's releases name commits of their services' main builds; the bad migration's failed.
  await signIn(page, "/deployments");
  const deploy = page.getByRole("button", { name: "Deploy…" });
  const dialog = page.getByRole("dialog");
  const ci = dialog.getByTestId("commit-ci");
  for (const round of [1, 2]) {
    await deploy.click();
    await expect(dialog).toBeVisible();
    // Each opening starts with no version, so with nothing to say.
    await expect(ci).toHaveCount(0);
    await dialog.getByLabel("Service").selectOption("payments-gateway");
    await dialog.getByLabel("Version").fill("2.8.0-bad-migration");
    await expect(ci).toContainText(/CI failed on [0-9a-f]{7}: acme\/payments\/ci on main, \d+ tests? failed/);
    await expect(ci).toHaveClass(/note-warn/);
    if (round === 1) await page.screenshot({ path: "screenshots/deploy-dialog-ci-failed.png" });
    await dialog.getByLabel("Version").fill("2.7.3");
    await expect(ci).toContainText(/CI passed on [0-9a-f]{7}: acme\/payments\/ci on main/);
    await expect(ci).not.toHaveClass(/note-warn/);
    // Not a known release: no word, rather than a wrong one.
    await dialog.getByLabel("Version").fill("2.7");
    await expect(ci).toHaveCount(0);
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
  }

  // The history marks the release CI failed on, and not those it passed.
  const history = page.locator("#history");
  const row = history.getByRole("row").filter({ hasText: "2.8.0-bad-migration" }).first();
  await expect(row.getByText("✗ CI failed")).toBeVisible();
  await expect(history.getByRole("row").filter({ hasText: "2.7.3" }).first()).toBeVisible();
  await expect(history.getByRole("row").filter({ hasText: "2.7.3" }).getByText("CI failed")).toHaveCount(0);
  // The failed deployment's page says its build failed too, and leads to the pipeline's builds.
  await row.getByRole("link").first().click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("2.8.0-bad-migration");
  const said = page.getByTestId("commit-ci");
  await expect(said).toContainText(/CI failed on [0-9a-f]{7}: acme\/payments\/ci on main/);
  // A build arriving asks again what CI said, and not for the deployment, which it has.
  await expectLive(page);
  const asked: string[] = [];
  page.on("request", (r) => asked.push(new URL(r.url()).pathname));
  const pipeline = `acme/asked-${Date.now().toString(16)}/ci`;
  await postBuild(page, { pipeline, branch: "main", status: "running", started_at: new Date().toISOString(), source_id: pipeline });
  await expect.poll(() => asked).toContain("/api/release_ci");
  expect(asked).not.toContain("/api/deployment");
  await expect(said).toContainText(/CI failed on [0-9a-f]{7}: acme\/payments\/ci on main/);
  await expect(said.getByRole("link", { name: "Its builds" })).toHaveAttribute(
    "href",
    "/builds/pipeline?name=acme%2Fpayments%2Fci&branch=main",
  );
  await said.getByRole("link", { name: "Its builds" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("acme/payments/ci");
});

test("what CI said of a release follows its builds as they arrive, on its page and in the deploy dialog", async ({ page }) => {
  await signIn(page, "/deployments");
  const stamp = Date.now().toString(16);
  const sha = `${stamp}c1c2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8`.slice(0, 40);
  const short = sha.slice(0, 7);
  const [build, lint] = [`acme/ci-${stamp}/build`, `acme/ci-${stamp}/lint`];
  // A version the demo's deployer fails, dismissed at the end: the matrix's search/dev cell
  // is left serving what it served, as the specs after this one expect.
  const version = `0.21.${stamp}-bad`;
  const started = new Date(Date.now() - 60_000).toISOString();
  const running = { pipeline: build, branch: "main", commit: sha, started_at: started, status: "running", source_id: `${build}/1` };
  await postBuild(page, running);
  // The release comes from CI with its commit, before that commit's build has finished.
  const origin = new URL(page.url()).origin;
  const deployed = await page.request.post("/api/v1/deployments", {
    headers: { origin },
    data: { service: "search", environment: "dev", version, git_sha: sha, reason: "e2e: CI still running" },
  });
  expect(deployed.status(), await deployed.text()).toBe(202);
  const { id } = await deployed.json();

  await page.goto(`/deployments/${id}`);
  await expectLive(page);
  await markNoReload(page);
  const said = page.getByTestId("commit-ci");
  await expect(said).toContainText(`CI is still running on ${short}: ${build} on main`);
  // It passes while the page is open; then a second pipeline fails on the same commit.
  await postBuild(page, { ...running, status: "success", finished_at: new Date().toISOString() }, 200);
  await expect(said).toContainText(`CI passed on ${short}: ${build} on main`);
  await expect(said).not.toHaveClass(/note-warn/);
  await postBuild(page, { ...running, pipeline: lint, status: "failure", finished_at: new Date().toISOString(), source_id: `${lint}/1` });
  await expect(said).toContainText(`CI failed on ${short}: ${lint} on main`);
  await expect(said).toHaveClass(/note-warn/);
  await expectSameDocument(page);

  // The deploy dialog, left open on the version, hears the lint pass on a re-run.
  await page.goto("/deployments");
  await expectLive(page);
  await page.getByRole("button", { name: "Deploy…" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Service").selectOption("search");
  await dialog.getByLabel("Version").fill(version);
  const inDialog = dialog.getByTestId("commit-ci");
  await expect(inDialog).toContainText(`CI failed on ${short}: ${lint} on main`);
  await postBuild(page, { ...running, pipeline: lint, status: "success", started_at: new Date().toISOString(), finished_at: new Date().toISOString(), source_id: `${lint}/2` });
  await expect(inDialog).toContainText(`CI passed on ${short}: ${build} on main and 1 more pipeline. It passed on a re-run after a failure.`);
  await expect(inDialog).not.toHaveClass(/note-warn/);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();

  await expect.poll(async () => (await (await page.request.get(`/api/v1/deployments/${id}`)).json()).status).toBe("failed");
  const dismissed = await page.request.post(`/api/v1/deployments/${id}/dismiss`, { headers: { origin } });
  expect(dismissed.status(), await dismissed.text()).toBe(200);
});

test("the CI marks on the dashboard, the matrix, the history and the service's page follow builds of a running commit as they arrive", async ({ page }) => {
  await signIn(page, "/");
  // The demo's release train may still be going out when the server has just started.
  const runningNow = async () => {
    const listed = await page.request.get("/api/v1/deployments?service=search&environment=production&status=succeeded&limit=1");
    return (await listed.json()).items[0];
  };
  await expect.poll(runningNow, { timeout: 30_000 }).toBeTruthy();
  const running = await runningNow();
  expect(running.git_sha, "the demo's release names its commit").toMatch(/^[0-9a-f]{40}$/);
  const lint = `acme/mark-${Date.now().toString(16)}/lint`;
  let run = 0;
  const send = (status: string) => {
    const at = new Date().toISOString();
    run += 1;
    return postBuild(page, { pipeline: lint, branch: "main", commit: running.git_sha, status, started_at: at, finished_at: at, source_id: `${lint}/${run}` });
  };
  // On the page open now, without a reload: a second pipeline failing on the running commit
  // marks each of `places`, and its passing re-run takes the marks off.
  const marksFollow = async (places: Locator[], screenshot?: string) => {
    await markNoReload(page);
    for (const place of places) await expect(place.getByText("CI failed")).toHaveCount(0);
    await send("failure");
    for (const place of places) await expect(place.getByText("✗ CI failed")).toBeVisible();
    if (screenshot) await page.screenshot({ path: `screenshots/${screenshot}.png` });
    await send("success");
    for (const place of places) await expect(place.getByText("CI failed")).toHaveCount(0);
    await expectSameDocument(page);
  };

  // The dashboard's production line, and the deployments tile at the top, which names it.
  const line = page.getByTestId("production-search");
  await expect(line).toContainText(running.version);
  const tile = page.getByTestId("verdict-strip").getByRole("link", { name: /Deployments/ });
  await marksFollow([line, tile]);
  await send("failure");
  await expect(tile).toContainText("✗ CI failed: search");
  await send("success");
  await expect(tile.getByText("CI failed")).toHaveCount(0);

  // The deployments page: the matrix's cell and the history's row of the release.
  await page.goto("/deployments?service=search&environment=production");
  await expectLive(page);
  const row = page.locator("#history").getByRole("row").filter({ hasText: running.version }).first();
  await expect(row).toBeVisible();
  await marksFollow([page.getByTestId("cell-search-production"), row], "deployments-matrix-ci-failed");

  // The service's page, where it runs.
  await page.goto("/services/search");
  await expectLive(page);
  const where = page.getByRole("region", { name: "Where it runs" }).getByRole("row").filter({ hasText: "production" });
  await expect(where).toContainText(running.version);
  await marksFollow([where]);
});

test("a protected environment asks for its name before a promote", async ({ page }) => {
  await signIn(page, "/deployments");
  await expectLive(page);
  const cell = page.getByTestId("cell-web-frontend-staging");
  await expect(cell).toContainText("Succeeded", { timeout: 20_000 });
  await cell.getByRole("button", { name: "Promote to canary" }).click();
  const dialog = page.getByRole("dialog");
  // What CI said of the version it promotes, from the release's commit.
  await expect(dialog.getByTestId("commit-ci")).toContainText(/CI passed on [0-9a-f]{7}: acme\/web\/e2e on main/);
  const promote = dialog.getByRole("button", { name: "Promote" });
  await expect(promote).toBeDisabled();
  await dialog.getByLabel(/canary is protected/).fill("canar");
  await expect(promote).toBeDisabled();
  await dialog.getByLabel(/canary is protected/).fill("canary");
  await expect(promote).toBeEnabled();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
});

const sizes = [
  { name: "phone", width: 390, height: 844 },
  { name: "tablet", width: 820, height: 1180 },
  { name: "desktop", width: 1440, height: 900 },
];

for (const size of sizes) {
  test(`the deployments board fits a ${size.name}`, async ({ page }) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    await signIn(page, "/deployments");
    await expectLive(page);
    const show = page.getByLabel("Environments shown");
    if (size.name === "phone") {
      // Production first, with the service column beside it; another environment is a pick away.
      await expect(show).toHaveValue("production");
      await expect(page.getByTestId("cell-checkout-api-production")).toContainText("Succeeded", { timeout: 20_000 });
      await expect(page.getByTestId("cell-checkout-api-dev")).toHaveCount(0);
      await page.screenshot({ path: "screenshots/deployments-phone-production.png", fullPage: true });
      await show.selectOption("dev");
    } else {
      await expect(show).toHaveValue("");
    }
    await expect(page.getByTestId("cell-checkout-api-dev")).toContainText("Succeeded", { timeout: 20_000 });
    await expectFitsScreen(page, `the deployments board on a ${size.name}`);
    await page.screenshot({ path: `screenshots/deployments-${size.name}.png`, fullPage: true });
  });
}
