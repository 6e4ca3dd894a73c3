import { expect, Locator, test } from "@playwright/test";
import { expectFitsScreen, expectLive, signIn } from "./helpers";

const sizes = [
  { name: "phone", width: 390, height: 844 },
  { name: "tablet", width: 820, height: 1180 },
  { name: "desktop", width: 1440, height: 900 },
];

for (const size of sizes) {
  test(`the shell works on a ${size.name} (${size.width}px)`, async ({ page }) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    await signIn(page);
    await expectLive(page);
    const nav = page.getByRole("navigation", { name: "Sections" });
    await expect(nav).toBeVisible();
    // Every section can be seen, not only reached by a script: on a phone the bar holds four
    // and More opens the rest (they once scrolled sideways, off the screen, with no sign of them).
    const bar = ["Dashboard", "Deployments", "Health", "Alerts"];
    const rest = ["SLOs", "Builds", "Config & flags", "Audit", "Settings"];
    const more = nav.getByRole("button", { name: "More" });
    for (const label of bar) await expect(nav.getByRole("link", { name: label })).toBeInViewport();
    if (size.name === "phone") {
      await expect(nav.getByRole("link", { name: "Settings" })).toBeHidden();
      for (let i = 0; i < 2; i++) {
        await more.click();
        for (const label of rest) await expect(nav.getByRole("link", { name: label })).toBeInViewport();
        await page.keyboard.press("Escape");
        await expect(nav.getByRole("link", { name: "Settings" })).toBeHidden();
      }
      await more.click();
    } else {
      await expect(more).toBeHidden();
      for (const label of rest) await expect(nav.getByRole("link", { name: label })).toBeInViewport();
    }
    // Nothing overflows sideways: the page fits the device.
    await expectFitsScreen(page, `the dashboard on a ${size.name}`);
    await page.screenshot({ path: `screenshots/dashboard-${size.name}.png`, fullPage: true });

    await nav.getByRole("link", { name: "Settings" }).click();
    await expect(page).toHaveURL(/\/settings$/);
    await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
    await expect(page.getByRole("cell", { name: "admin", exact: true }).first()).toBeVisible();
    await page.screenshot({ path: `screenshots/settings-${size.name}.png`, fullPage: true });
  });
}

test("the theme toggle switches to light and is remembered", async ({ page }) => {
  await signIn(page);
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.getByRole("button", { name: "Light theme" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await page.screenshot({ path: "screenshots/dashboard-light.png" });
});

// What teams really type: a description that is one long URL, a silence on a long service name.
// Each once made its page wider than a phone (a grid or a paragraph sized to the longest word).
test("long names, links and matchers wrap on a phone instead of widening the page", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page);
  const origin = new URL(page.url()).origin;
  // Generated names carry a long unbroken id.
  const name = `reconciliation-worker-${generatedId()}`;
  const runbook = "https://runbooks.internal.example.com/payments/reconciliation-worker/lag-critical-and-drift-recovery-procedure";
  const service = await page.request.post("/api/v1/services", {
    headers: { origin },
    data: { name, description: `Runbook: ${runbook}`, owner: "team-platform-infrastructure-reliability" },
  });
  expect(service.status(), await service.text()).toBe(201);
  const silence = await page.request.post("/api/v1/silences", {
    headers: { origin },
    data: {
      matchers: [{ name: "alertname", value: "PaymentsReconciliationLagCritical" }, { name: "service", value: name }],
      ends_at: Date.now() + 3_600_000,
      comment: `Known during the drift recovery, see ${runbook}`,
    },
  });
  expect(silence.status(), await silence.text()).toBe(201);

  await page.goto(`/services/${name}`);
  await expect(page.getByText(runbook).first()).toBeVisible();
  await expectFitsScreen(page, "a service whose description is a long link");
  for (const listed of ["/", "/deployments"]) {
    await page.goto(listed);
    await expectLive(page);
    await expect(page.getByRole("link", { name }).first()).toBeVisible();
    await expectFitsScreen(page, `${listed} with a long service name`);
  }
  // Every environment shown: the board's sticky service column leaves the cells room to be
  // scrolled beside it and tapped (it once took the name whole and covered them all).
  await page.getByLabel("Environments shown").selectOption("");
  const header = page.getByRole("rowheader", { name });
  const width = await header.evaluate((th) => th.getBoundingClientRect().width);
  expect(width, "the service column's width on a 390 px phone").toBeLessThan(390 / 2);
  await page.goto("/alerts");
  await expectLive(page);
  await expect(page.getByText(name).first()).toBeVisible();
  await expectFitsScreen(page, "the alert feed with a silence on a long name");
  await page.screenshot({ path: "screenshots/alerts-phone-long-silence.png", fullPage: true });
  // On a desktop the dashboard gives "Production per service" half the width: the name breaks
  // inside its id rather than push Health and Budget left out of the box.
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto("/");
  await expectLive(page);
  await expectNoSideScroll(page.locator(".table-wrap:has(> .production-table)"), "production per service");
});

test("an SLO whose every check fails keeps its state in view on a tablet", async ({ page }) => {
  await page.setViewportSize({ width: 820, height: 1180 });
  await signIn(page);
  const origin = new URL(page.url()).origin;
  const service = `ledger-writer-${generatedId()}`;
  const post = async (path: string, data: object) => {
    const res = await page.request.post(path, { headers: { origin }, data });
    expect(res.status(), await res.text()).toBe(201);
  };
  await post("/api/v1/services", { name: service });
  // Nothing listens on port 9: every check fails, so the budget reads far below zero.
  const component = `${service}-health`;
  const probe = { type: "http", url: "http://127.0.0.1:9/healthz", interval_s: 1, timeout_ms: 500 };
  await post("/api/v1/components", { name: component, service, probe });
  await post("/api/v1/slos", { service, name: "availability", sli: "availability", objective: 0.999, component });

  await page.goto("/slos");
  await expectLive(page);
  const row = page.getByRole("row").filter({ hasText: service });
  // SLOs are evaluated every 30 seconds; the list updates live.
  const state = row.getByText(/Page: burning/);
  await expect(state).toBeVisible({ timeout: 75_000 });
  await expect(row.getByText(/^-\d+(\.\d)?%$/)).toBeVisible();
  await expectNoSideScroll(page.locator(".table-wrap:has(> .slo-table)"), "the SLO list");
  await expect(state).toBeInViewport({ ratio: 1 });
  await page.screenshot({ path: "screenshots/slos-tablet-budget-spent.png" });
  // Its page says how little data there is yet (it once read "The data reaches back -0.0 days").
  await row.getByRole("link").click();
  await expect(page.getByTestId("short-window")).toContainText(/^The data covers under an hour of the 30-day window so far/);
});

/** A hex id as generated names carry, unique per run. */
function generatedId() {
  return (Date.now().toString(16) + Math.random().toString(16).slice(2)).slice(0, 22);
}

/** Fails when a table's box scrolls sideways, hiding its last columns. */
async function expectNoSideScroll(box: Locator, what: string) {
  const [scroll, client] = await box.evaluate((el) => [el.scrollWidth, el.clientWidth]);
  expect(scroll, `${what} scrolls sideways (${scroll} px in ${client})`).toBeLessThanOrEqual(client + 1);
}
