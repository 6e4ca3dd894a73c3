import { expect, test } from "@playwright/test";
import { expectFitsScreen, expectLive, signIn } from "./helpers";

// Runs on the --demo data: components probe this server (payments-gateway probes a closed port
// and goes down), two SLOs carry a week of history with a bad afternoon.

test("the health grid shows status in words, worst first, and a component's checks", async ({ page }) => {
  await signIn(page, "/health");
  await expectLive(page);
  const tile = (name: string) => page.locator(".tile", { has: page.locator(".tile-name", { hasText: new RegExp(`^${name}$`) }) });
  const down = tile("payments-gateway");
  // Five failed checks 15 s apart would take a minute; the first failure already shows.
  await expect(down).toContainText(/Degraded|Down/, { timeout: 20_000 });
  await expect(tile("checkout-api")).toContainText("Healthy", { timeout: 20_000 });
  await expect(page.locator(".tile").first()).toContainText("payments-gateway");
  await page.screenshot({ path: "screenshots/health-desktop.png", fullPage: true });

  // Filters: words to look for, and a status count that shows only that status.
  await page.getByRole("searchbox").fill("checkout");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/q=checkout/);
  await expect(tile("checkout-api")).toBeVisible();
  await expect(down).toHaveCount(0);
  await page.getByRole("link", { name: "Clear" }).click();
  await page.locator(".health-summary").getByRole("link", { name: /healthy/ }).click();
  await expect(page).toHaveURL(/status=healthy/);
  await expect(tile("checkout-api")).toBeVisible();
  await expect(down).toHaveCount(0);
  await page.goto("/health");

  await down.getByRole("link").click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("payments-gateway");
  await expect(page.getByRole("img", { name: /Latency of the last/ })).toBeVisible();
  await expect(page.getByRole("table")).toContainText("connection refused");
  // Failed checks are drawn as failures (red bands), never as points at 0 ms; the list pages.
  await expect(page.locator(".chart rect[fill='#E5534B']").first()).toBeAttached();
  await expect(page.getByTestId("checks-range")).toContainText(/^1–\d+ of \d+$/);
  await page.getByLabel("Failed only").check();
  await expect(page.getByRole("table").getByText("Passed")).toHaveCount(0);

  for (const [name, width, height] of [["phone", 390, 844], ["tablet", 820, 1180]] as const) {
    await page.setViewportSize({ width, height });
    await page.goto("/health");
    await expect(page.locator(".tile").first()).toBeVisible();
    await expectFitsScreen(page, `the health grid on a ${name}`);
    await page.screenshot({ path: `screenshots/health-${name}.png`, fullPage: true });
  }
});

test("SLOs list by budget left and explain their budget with charts", async ({ page }) => {
  await signIn(page, "/slos");
  const rows = page.getByRole("row");
  await expect(rows.nth(1)).toContainText("/", { timeout: 40_000 });
  // Evaluated within the first round after start.
  await expect(page.getByText(/Within budget|burning/).first()).toBeVisible({ timeout: 40_000 });
  await page.screenshot({ path: "screenshots/slos-desktop.png", fullPage: true });
  await page.getByRole("link", { name: "checkout-api / availability" }).click();
  await expect(page.getByRole("heading", { level: 2, name: /Error budget: .* left/ })).toBeVisible({ timeout: 40_000 });
  await expect(page.locator(".explain")).toContainText("A 99.9% objective allows");
  await expect(page.getByRole("img", { name: /Error budget left over the last 30 days/ }).locator("svg")).toBeVisible();
  await expect(page.getByRole("img", { name: /Burn rate per window/ }).locator("svg")).toBeVisible();
  await expect(page.getByText("14.4x over 1h and 5m")).toBeVisible();
  // When the budget runs out at the current burn, and that the demo's week of data is less than
  // the 30-day window.
  await expect(page.getByTestId("exhaustion")).toContainText(/At the last hour's burn rate|No events in the last hour|budget is spent/);
  await expect(page.getByTestId("short-window")).toContainText(/^The data covers [\d.]+ days of the 30-day window so far/);
  await page.screenshot({ path: "screenshots/slo-desktop.png", fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.getByRole("img", { name: /Burn rate per window/ })).toBeVisible();
  await expectFitsScreen(page, "an SLO's page");
  await page.screenshot({ path: "screenshots/slo-phone.png", fullPage: true });
});
