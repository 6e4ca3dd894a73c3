import { expect, Locator, Page, test } from "@playwright/test";
import { ADMIN_PASSWORD, expectLive, signIn } from "./helpers";

// The traps a new on-call engineer hit on a tablet and a phone (issue 19), on the --demo data:
// payments-gateway 2.8.0-bad-migration fails in dev while 2.7.3 keeps serving there.

const sizes = [
  { name: "tablet", width: 820, height: 1180 },
  { name: "phone", width: 390, height: 844 },
];

/** Collects uncaught page errors (a panic in an island's WASM is one). */
function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/** Opens a dialog with `trigger`, checks it took focus, closes it with `close`, and checks focus
 * went back to the trigger. */
async function openAndClose(page: Page, trigger: Locator, close: "Cancel" | "Escape" | "backdrop") {
  await trigger.click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await expect.poll(() => dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  if (close === "Cancel") await dialog.getByRole("button", { name: "Cancel" }).click();
  if (close === "Escape") await page.keyboard.press("Escape");
  if (close === "backdrop") await page.mouse.click(3, 3);
  await expect(dialog).toBeHidden();
  await expect(trigger).toBeFocused();
}

for (const size of sizes) {
  test(`every deployments dialog opens, closes and reopens on a ${size.name}`, async ({ page }) => {
    const errors = pageErrors(page);
    await page.setViewportSize({ width: size.width, height: size.height });
    await signIn(page, "/deployments");
    if (size.name === "phone") {
      // A phone shows production first; the other environments are a pick away.
      const show = page.getByLabel("Environments shown");
      await expect(show).toHaveValue("production");
      await show.selectOption("");
    }
    await expect(page.getByTestId("cell-checkout-api-staging")).toContainText("Succeeded", { timeout: 20_000 });

    const deploy = page.getByRole("button", { name: "Deploy…" });
    for (const close of ["Cancel", "Escape", "backdrop", "Cancel"] as const) await openAndClose(page, deploy, close);
    // On a phone a cell's actions fold behind "Actions", so a tap on the matrix never acts.
    const unfold = async (testid: string) => {
      if (size.name !== "phone") return;
      const more = page.getByTestId(testid).locator("summary", { hasText: "Actions" });
      await expect(page.getByTestId(testid).getByRole("button", { name: /Roll back|Promote|Retry/ }).first()).toBeHidden();
      await more.click();
    };
    // checkout-api ran 1.41.0 and then 1.42.0 in dev (staging was rolled back by the deployments
    // spec, and 1.42.0 is quarantined there: nothing is left to roll back to).
    await unfold("cell-checkout-api-dev");
    const rollback = page.getByTestId("cell-checkout-api-dev").getByRole("button", { name: "Roll back" });
    for (const close of ["Escape", "Cancel", "Escape"] as const) await openAndClose(page, rollback, close);
    // Promote is offered only where it moves something forward: web-frontend has not reached canary.
    await expect(page.getByTestId("cell-checkout-api-production").getByRole("button", { name: /Promote/ })).toHaveCount(0);
    await expect(page.getByTestId("cell-search-dev").getByRole("button", { name: /Promote/ })).toHaveCount(0);
    await expect(page.getByTestId("cell-web-frontend-staging")).toContainText("Succeeded", { timeout: 20_000 });
    await unfold("cell-web-frontend-staging");
    const promote = page.getByTestId("cell-web-frontend-staging").getByRole("button", { name: "Promote to canary" });
    for (const close of ["Cancel", "Escape"] as const) await openAndClose(page, promote, close);
    // After all that, the dialog still works: a deploy is prefilled afresh each time.
    await deploy.click();
    await expect(page.getByRole("dialog").getByLabel("Version")).toHaveValue("");
    await page.keyboard.press("Escape");
    expect(errors).toEqual([]);
  });
}

test("keyboard only: open the deploy dialog, fill it, and close it without the mouse", async ({ page }) => {
  const errors = pageErrors(page);
  await signIn(page, "/deployments");
  const deploy = page.getByRole("button", { name: "Deploy…" });
  await deploy.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Service")).toBeFocused();
  // Focus stays inside the dialog however far one tabs.
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  }
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(deploy).toBeFocused();
  expect(errors).toEqual([]);
});

test("a cell offers a rollback only where an earlier version succeeded", async ({ page }) => {
  const errors = pageErrors(page);
  await page.setViewportSize({ width: 820, height: 1180 });
  await signIn(page, "/deployments");
  // search has only ever run 0.19.2 in production: a Roll back button there could only open a
  // refusal. checkout-api ran 1.41.0 before 1.42.0 in dev: its cell offers it.
  const first = page.getByTestId("cell-search-production");
  await expect(first).toContainText("Succeeded", { timeout: 20_000 });
  await expect(first.getByRole("button", { name: "Roll back" })).toHaveCount(0);
  const dev = page.getByTestId("cell-checkout-api-dev");
  await expect(dev).toContainText("Succeeded", { timeout: 20_000 });
  await expect(dev.getByRole("button", { name: "Roll back" })).toBeVisible();
  // The deployment's own page follows the same rule.
  await first.getByRole("link").click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("0.19.2");
  await expectLive(page);
  await expect(page.getByRole("button", { name: /Roll back/ })).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("a rollback whose options cannot be read asks for nothing and hands the focus to Close", async ({ page }) => {
  await page.setViewportSize({ width: 820, height: 1180 });
  await signIn(page, "/deployments");
  await expectLive(page);
  const dev = page.getByTestId("cell-checkout-api-dev");
  await expect(dev.getByRole("button", { name: "Roll back" })).toBeVisible({ timeout: 20_000 });
  // The session ends elsewhere (another tab signed out): the options read is refused.
  const origin = new URL(page.url()).origin;
  const out = await page.request.post("/api/sign_out", { headers: { origin, accept: "application/json" } });
  expect(out.status()).toBe(200);
  // The live link says why it stopped (the server closed it), not "Offline", and offers the way back.
  const indicator = page.getByTestId("live-indicator");
  await expect(indicator).toContainText("Signed out", { timeout: 20_000 });
  await expect(indicator.getByRole("link", { name: "Sign in" })).toBeVisible();
  const dialog = page.locator("dialog[open]");
  for (const close of ["Escape", "Enter"]) {
    await dev.getByRole("button", { name: "Roll back" }).click();
    await expect(dialog.getByRole("alert")).toContainText("Signed out.");
    // No reason to type, no typed name, no Roll back button promising what cannot happen.
    await expect(dialog.locator("input")).toHaveCount(0);
    await expect(dialog.getByRole("button")).toHaveText(["Close"]);
    await expect(dialog.getByRole("button", { name: "Close" })).toBeFocused();
    await page.keyboard.press(close);
    await expect(dialog).toHaveCount(0);
  }
  // The way back: sign in again and land on the same page, where the rollback is offered.
  await dev.getByRole("button", { name: "Roll back" }).click();
  await dialog.getByRole("link", { name: "Sign in again" }).click();
  await expect(page).toHaveURL(/\/signin\?next=%2Fdeployments$/);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/deployments$/);
  await expectLive(page);
  await expect(dev.getByRole("button", { name: "Roll back" })).toBeVisible();
});

test("a failed deployment offers Retry and Dismiss, never rolling back the version still serving", async ({ page }) => {
  const errors = pageErrors(page);
  await page.setViewportSize({ width: 820, height: 1180 });
  await signIn(page, "/deployments");
  const cell = page.getByTestId("cell-payments-gateway-dev");
  await expect(cell).toContainText("Failed", { timeout: 20_000 });
  await expect(cell).toContainText("still serving: 2.7.3");
  await expect(cell.getByRole("button", { name: "Roll back" })).toHaveCount(0);

  await cell.getByRole("link").click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("2.8.0-bad-migration");
  await expectLive(page);
  const outcome = page.getByTestId("failed-outcome");
  await expect(outcome).toContainText("2.8.0-bad-migration failed and never served. 2.7.3 still serves in dev.");
  await expect(page.getByRole("button", { name: /Roll back/ })).toHaveCount(0);

  // Retry opens the deploy dialog prefilled with the failed version, twice in a row.
  const retry = outcome.getByRole("button", { name: "Retry 2.8.0-bad-migration…" });
  for (let i = 0; i < 2; i++) {
    await retry.click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.getByLabel("Version")).toHaveValue("2.8.0-bad-migration");
    await expect(dialog.getByLabel("Service")).toHaveValue("payments-gateway");
    await expect(dialog.getByLabel("Environment")).toHaveValue("dev");
    await expect(dialog.getByTestId("running-now")).toHaveText("dev runs 2.7.3 now.");
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
  }

  // Dismiss: the failure is marked seen, and the matrix shows what serves again.
  await outcome.getByRole("button", { name: "Dismiss" }).click();
  await expect(page.getByText(/Dismissed by admin/)).toBeVisible();
  await expect(outcome).toHaveCount(0);
  await page.goto("/deployments");
  await expectLive(page);
  await expect(cell).toContainText("2.7.3");
  await expect(cell).toContainText("Succeeded");
  expect(errors).toEqual([]);
});

test("a service's page shows where it runs and one timeline of what happened to it", async ({ page }) => {
  const errors = pageErrors(page);
  await page.setViewportSize({ width: 820, height: 1180 });
  await signIn(page, "/deployments");
  await page.getByRole("rowheader").getByRole("link", { name: "payments-gateway" }).click();
  await expect(page).toHaveURL(/\/services\/payments-gateway$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("payments-gateway");
  await expectLive(page);
  // dev still serves 2.7.3 after 2.8.0-bad-migration failed there.
  await expect(page.getByRole("row", { name: /^dev/ })).toContainText("2.7.3");
  const timeline = page.getByTestId("service-timeline");
  await expect(timeline.locator("li").first()).toBeVisible();
  await expect(timeline).toContainText(/deployment .* in dev/);
  await expect(page.getByRole("link", { name: "Its audit trail →" })).toHaveAttribute("href", "/audit?service=payments-gateway");

  await page.goto("/services/no-such-service");
  await expect(page.getByRole("alert")).toContainText("no-such-service");
  expect(errors).toEqual([]);
});

test("escalating an alert no policy covers warns that nobody is notified, and keeps the acknowledgement", async ({ page }) => {
  const errors = pageErrors(page);
  await page.setViewportSize({ width: 820, height: 1180 });
  await signIn(page, "/alerts");
  const origin = new URL(page.url()).origin;
  const created = await page.request.post("/api/tokens_create", {
    form: { name: `am-${Date.now()}`, role: "operator" },
    headers: { origin, accept: "application/json" },
  });
  const token = (await created.json()).token;
  // A label no demo policy matches (policies match on severity and job).
  const job = `orphan-${Date.now()}`;
  const res = await page.request.post("/api/v2/alerts", {
    data: [{ labels: { alertname: "E2EOrphan", job, severity: "info" }, annotations: { summary: "nobody's alert" } }],
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status()).toBe(200);
  const item = page.locator(".feed-item", { hasText: `job=${job}` });
  await expect(item).toBeVisible();
  await item.getByRole("button", { name: "Acknowledge" }).click();
  await expect(item).toContainText("acknowledged by admin");

  await item.getByRole("button", { name: "Escalate…" }).click();
  await expect(item.getByTestId("escalation-preview")).toContainText("escalating notifies nobody");
  await item.getByRole("button", { name: "Cancel" }).click();
  await item.getByRole("button", { name: "Escalate…" }).click();
  await item.getByRole("button", { name: "Escalate anyway" }).click();
  await expect(item).toContainText("Escalated");
  await expect(item).toContainText("acknowledged by admin");
  expect(errors).toEqual([]);
});

async function inFirstViewport(page: Page, locator: Locator) {
  const box = await locator.boundingBox();
  const height = page.viewportSize()!.height;
  expect(box, "rendered").not.toBeNull();
  expect(box!.y + Math.min(box!.height, 40), "in the first viewport").toBeLessThanOrEqual(height);
}

for (const size of sizes) {
  test(`the dashboard answers "is production OK?" in the first viewport of a ${size.name}`, async ({ page }) => {
    const errors = pageErrors(page);
    await page.setViewportSize({ width: size.width, height: size.height });
    await signIn(page, "/");
    const origin = new URL(page.url()).origin;
    const created = await page.request.post("/api/tokens_create", {
      form: { name: `am-dash-${size.name}-${Date.now()}`, role: "operator" },
      headers: { origin, accept: "application/json" },
    });
    const token = (await created.json()).token;
    const name = `E2EDashboard${size.name}`;
    const res = await page.request.post("/api/v2/alerts", {
      data: [{ labels: { alertname: name, job: "checkout", severity: "critical" }, annotations: { summary: "checkout 5xx over 2%" } }],
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status()).toBe(200);

    // The verdict, its counts, and the new alert arrive without a reload.
    await expect(page.getByTestId("verdict")).toContainText("Needs attention");
    await expect(page.getByTestId("verdict-strip")).toContainText(/\d+ critical/);
    await expect(page.getByTestId("verdict-strip")).toContainText(/\d+ page · \d+ ticket/);
    const group = page.getByTestId("firing-group").filter({ hasText: name });
    await expect(group).toBeVisible();
    await inFirstViewport(page, page.getByTestId("verdict-strip"));
    await inFirstViewport(page, group);
    // The latest deployment, whatever it is, is named under the strip.
    await expect(page.getByTestId("latest-deployment")).toContainText(/Latest deployment: #\d+ /);
    await inFirstViewport(page, page.getByTestId("latest-deployment"));
    const checkout = page.getByTestId("production-checkout-api");
    await expect(checkout).toContainText("1.41.0");
    await expect(checkout).toContainText(/Succeeded|Rolled back/);
    if (size.name === "tablet") await inFirstViewport(page, checkout);
    await page.screenshot({ path: `screenshots/dashboard-cockpit-${size.name}.png` });
    if (size.name === "phone") {
      // Touch targets of at least 44 px, the alert actions included.
      const small = await page.locator("main button:visible").evaluateAll((buttons) =>
        buttons.filter((b) => b.getBoundingClientRect().height < 44).map((b) => b.textContent),
      );
      expect(small).toEqual([]);
    }

    // The navigation counts the alerts needing a person, live.
    const badge = page.getByRole("navigation", { name: "Sections" }).getByTestId("alert-badge");
    await expect(badge).toHaveText(/^\d+$/);
    const before = Number(await badge.textContent());

    // Acknowledge in place; the group stays, now saying who has it, and the badge counts one less.
    await group.getByRole("button", { name: "Acknowledge" }).click();
    await expect(group).toContainText("acknowledged by admin");
    await expect.poll(async () => Number(await badge.textContent())).toBeLessThan(before);
    // Silence in place: the form opens with the group's labels.
    await group.getByRole("button", { name: "Silence…" }).click();
    await group.getByLabel("Why (required)").fill("e2e: known, fix rolling out");
    await group.getByRole("button", { name: "Silence", exact: true }).click();
    await expect(page.getByTestId("firing-group").filter({ hasText: name })).toHaveCount(0);
    // Sign-ins are not what changed.
    await expect(page.locator("#changes-title")).toBeVisible();
    await expect(page.getByRole("table").filter({ hasText: "user.signed_in" })).toHaveCount(0);
    expect(errors).toEqual([]);
  });
}

test("on the dashboard, a silence being written survives live updates", async ({ page }) => {
  const errors = pageErrors(page);
  await page.setViewportSize({ width: 820, height: 1180 });
  await signIn(page, "/");
  const origin = new URL(page.url()).origin;
  const created = await page.request.post("/api/tokens_create", {
    form: { name: `am-dash-keep-${Date.now()}`, role: "operator" },
    headers: { origin, accept: "application/json" },
  });
  const token = (await created.json()).token;
  const stamp = Date.now();
  const [other, typed] = [`E2EKeepOther${stamp}`, `E2EKeepTyped${stamp}`];
  for (const name of [other, typed]) {
    const res = await page.request.post("/api/v2/alerts", {
      data: [{ labels: { alertname: name, severity: "critical" }, annotations: { summary: "e2e" } }],
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status()).toBe(200);
  }
  const group = (name: string) => page.getByTestId("firing-group").filter({ hasText: name });
  await expect(group(other)).toBeVisible();
  await group(typed).getByRole("button", { name: "Silence…" }).click();
  const why = group(typed).getByLabel("Why (required)");
  await why.fill("e2e: still typing");

  // A colleague acknowledges the other alert: the dashboard updates live around the form.
  const href = await group(other).getByRole("link", { name: other }).getAttribute("href");
  const ack = await page.request.post(`/api/v1${href}/ack`, { headers: { authorization: `Bearer ${token}` } });
  expect(ack.status()).toBe(200);
  await expect(group(other)).toContainText("acknowledged by");
  await expect(why).toHaveValue("e2e: still typing");
  await expect(why).toBeFocused();
  expect(errors).toEqual([]);
});

test("on a phone the alert filters fold away and the first alert shows on the first screen", async ({ page, browser }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "/alerts");
  await expectLive(page);
  await expect(page.getByLabel("Status")).toBeHidden();
  const first = page.locator(".feed-item").first();
  await expect(first).toBeVisible();
  await inFirstViewport(page, first);
  const hydrated = await first.boundingBox();
  // Before hydration (here: never) they are out of the way already, so the feed does not jump
  // up under a finger about to tap an alert when the page hydrates.
  const context = await browser.newContext({ storageState: await page.context().storageState(), viewport: { width: 390, height: 844 } });
  const unhydrated = await context.newPage();
  await unhydrated.route("**/*.wasm", (route) => route.abort());
  await unhydrated.goto("/alerts");
  await expect(unhydrated.getByLabel("Status")).toBeHidden();
  expect((await unhydrated.locator(".feed-item").first().boundingBox())?.y).toBe(hydrated?.y);
  await context.close();
  await page.getByText("Filters", { exact: true }).click();
  await expect(page.getByLabel("Status")).toBeVisible();
});

test("on a phone the deployments matrix shows production's column from the first paint", async ({ page, browser }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "/deployments");
  const columns = (p: Page) => p.locator(".matrix thead th:visible");
  await expect(page.getByLabel("Environments shown")).toHaveValue("production");
  await expect(columns(page)).toHaveText(["Service", /^production/]);
  // Before hydration (here: never) the CSS shows the same column: every column first, then one,
  // moved the page under the reader by a fifth of the screen.
  const context = await browser.newContext({ storageState: await page.context().storageState(), viewport: { width: 390, height: 844 } });
  const unhydrated = await context.newPage();
  await unhydrated.route("**/*.wasm", (route) => route.abort());
  await unhydrated.goto("/deployments");
  await expect(columns(unhydrated)).toHaveText(["Service", /^production/]);
  await context.close();
  // A desk sees a cell's actions as buttons before hydration too (a phone folds them).
  const desk = await browser.newContext({ storageState: await page.context().storageState(), viewport: { width: 1280, height: 900 } });
  const unhydratedDesk = await desk.newPage();
  await unhydratedDesk.route("**/*.wasm", (route) => route.abort());
  await unhydratedDesk.goto("/deployments");
  const dev = unhydratedDesk.getByTestId("cell-checkout-api-dev");
  await expect(dev.getByRole("button", { name: "Roll back" })).toBeVisible();
  await expect(dev.getByText("Actions")).toBeHidden();
  await desk.close();
  // Every environment stays a pick away, also on a phone.
  await page.getByLabel("Environments shown").selectOption("");
  await expect(columns(page)).toHaveText(["Service", /^dev/, /^staging/, /^canary/, /^production/]);
});

test("on a phone and a tablet, the lists an on-call engineer reads fit the screen", async ({ page }) => {
  const errors = pageErrors(page);
  await signIn(page, "/");
  // On a phone the deployments matrix scrolls on purpose (it has its own "Environments shown"
  // picker) and the other tables are cards. On a tablet the matrix's four environments fit with
  // production in view, the deployment history keeps to six columns and a replica's ten numbers
  // are a card (all three scrolled their last columns off at 820 px).
  const pages = ["/", "/deployments", "/slos", "/flags", "/builds", "/builds/pipeline?name=acme/shop/ci", "/config", "/audit", "/settings", "/system"];
  const wide: string[] = [];
  for (const width of [390, 820]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 1180 });
    for (const path of pages) {
      await page.goto(path);
      const wraps = page.locator(width === 390 ? "main .table-wrap:not(:has(> .matrix))" : "main .table-wrap");
      await expect(wraps.first()).toBeVisible();
      const here = await wraps.evaluateAll((all) =>
        all.filter((w) => w.scrollWidth > w.clientWidth + 1).map((w) => w.querySelector("table")?.className),
      );
      wide.push(...here.map((table) => `${path} at ${width} px: ${table}`));
    }
  }
  expect(wide, "tables wider than the screen").toEqual([]);
  await page.setViewportSize({ width: 390, height: 844 });
  // What was off to the side before: a service's health, a flag's switch, an SLO's burn.
  const withinWidth = (locator: Locator) =>
    locator.evaluate((e) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth;
    });
  await page.goto("/");
  expect(await withinWidth(page.getByTestId("production-checkout-api").locator(".svc-health"))).toBe(true);
  await page.goto("/flags");
  expect(await withinWidth(page.getByRole("button", { name: /^Turn (off|on)…$/ }).first())).toBe(true);
  await page.goto("/slos");
  expect(await withinWidth(page.locator(".slo-burn-6h").first())).toBe(true);
  expect(errors).toEqual([]);
});
