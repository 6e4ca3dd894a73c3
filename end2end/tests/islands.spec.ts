import { Browser, expect, Page, test } from "@playwright/test";
import { baseURL } from "../playwright.config";
import { ADMIN_PASSWORD, callServerFn, expectLive } from "./helpers";

// Every page is server-rendered and hydrates only its island, from a bundle of its own
// (app/src/bundles.rs). A hydration mismatch shows up as a page error (`unreachable` in a release
// bundle), and the role changes what a page renders, so each page is opened as an admin and as a
// viewer.


const listPages: [string, string, string][] = [
  ["/", "DashboardActivity", ""],
  ["/deployments", "DeploymentsBoard", "/deployments/"],
  ["/health", "HealthGrid", "/health/"],
  ["/slos", "SloList", "/slos/"],
  ["/alerts", "AlertFeed", "/alerts/"],
  ["/audit", "AuditTrail", ""],
  ["/settings", "SettingsSections", ""],
  ["/config", "ConfigBoard", ""],
  ["/flags", "FlagList", "/flags/"],
  ["/system", "SystemLive", ""],
  ["/builds", "BuildsBoard", "/builds/pipeline"],
  ["/services/payments-gateway", "ServiceLive", ""],
];
const detailIsland: Record<string, string> = {
  "/deployments/": "DeploymentLive",
  "/health/": "ComponentLive",
  "/slos/": "SloLive",
  "/alerts/": "AlertLive",
  "/flags/": "FlagLive",
  "/builds/pipeline": "PipelineLive",
};

async function signInAs(browser: Browser, username: string, password: string): Promise<Page> {
  // No service worker: it would answer from its cache, and these tests look at what the page
  // itself fetches.
  const context = await browser.newContext({ baseURL, serviceWorkers: "block" });
  const page = await context.newPage();
  await page.goto("/signin");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  return page;
}

/** Opens `path` and checks it hydrated from `island`'s bundle, and from nothing else, without errors. */
async function expectHydrated(page: Page, path: string, island: string) {
  const errors: string[] = [];
  const bundles: string[] = [];
  const onError = (e: Error) => errors.push(e.message);
  // An island missing from the page's bundle is skipped with this warning (scripts/wasm-ld).
  const onConsole = (m: { text(): string }) => {
    if (m.text().includes("Could not find WASM function")) errors.push(m.text());
  };
  const onRequest = (r: { url(): string }) => {
    if (r.url().endsWith(".wasm")) bundles.push(new URL(r.url()).pathname);
  };
  page.on("pageerror", onError);
  page.on("console", onConsole);
  page.on("request", onRequest);
  await page.goto(path);
  await expectLive(page);
  page.off("pageerror", onError);
  page.off("console", onConsole);
  page.off("request", onRequest);
  expect(errors, `page errors on ${path}`).toEqual([]);
  // Named by its content hash (scripts/page-bundles.sh), so browsers keep it until it changes.
  expect(bundles, `bundles fetched by ${path}`).toHaveLength(1);
  expect(bundles[0], `bundle fetched by ${path}`).toMatch(new RegExp(`^/pkg/flightdeck-${island}\\.[0-9a-f]{16}\\.wasm$`));
}

async function visitEveryPage(page: Page) {
  for (const [path, island, detailPrefix] of listPages) {
    await expectHydrated(page, path, island);
    if (detailPrefix) {
      const href = await page.locator(`main a[href^="${detailPrefix}"]`).first().getAttribute("href");
      expect(href, `a link to a detail page on ${path}`).toBeTruthy();
      await expectHydrated(page, href!, detailIsland[detailPrefix]);
      // The navigation still marks the section the detail page belongs to, and only that one.
      const nav = page.getByRole("navigation", { name: "Sections" });
      // Feature flags are part of the Config section.
      const section = path === "/flags" ? "/config" : path;
      await expect(nav.locator('a[aria-current="page"]')).toHaveAttribute("href", section);
    }
  }
}

test("every page hydrates from its own bundle for an admin", async ({ browser }) => {
  const page = await signInAs(browser, "admin", ADMIN_PASSWORD);
  await visitEveryPage(page);
});

test("every page hydrates from its own bundle for a viewer", async ({ browser }) => {
  const admin = await signInAs(browser, "admin", ADMIN_PASSWORD);
  const username = `viewer${Date.now() % 100000}`;
  const password = "viewer-password-123";
  const res = await callServerFn(admin, "users_create", { username, role: "viewer", password });
  expect(res.status()).toBe(200);
  const page = await signInAs(browser, username, password);
  await visitEveryPage(page);
  // A viewer sees no deploy button and no token list.
  await page.goto("/deployments");
  await expect(page.getByRole("button", { name: "Deploy…" })).toHaveCount(0);
  await page.goto("/settings");
  await expect(page.getByText("Only admins can see and manage API tokens.")).toBeVisible();
  // No channel exists before the settings spec adds one: the empty state says who adds them.
  await expect(page.getByText(/An admin adds a Slack incoming webhook/)).toBeVisible();
});
