import { chromium, expect, test } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import config, { baseURL } from "../playwright.config";
import { signIn } from "./helpers";

test("Chromium considers Flightdeck installable", async () => {
  // Installability is never granted in incognito, which is what Playwright's contexts are, so
  // this test uses a real (temporary) profile.
  const profile = mkdtempSync(join(tmpdir(), "fd-pwa-"));
  const context = await chromium.launchPersistentContext(profile, {
    ...config.use?.launchOptions,
    baseURL,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await signIn(page);
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    const manifest = await page.request.get("/manifest.webmanifest");
    expect(manifest.ok()).toBeTruthy();
    const icons = (await manifest.json()).icons as { sizes: string; purpose: string }[];
    expect(icons.map((i) => `${i.sizes}/${i.purpose}`)).toEqual(["192x192/any", "512x512/any", "512x512/maskable"]);
    for (const path of ["/icons/icon-192.png", "/icons/icon-512.png", "/icons/maskable-512.png"]) {
      const res = await page.request.get(path);
      expect(res.headers()["content-type"]).toBe("image/png");
    }
    const cdp = await context.newCDPSession(page);
    await expect
      .poll(async () => (await cdp.send("Page.getInstallabilityErrors")).installabilityErrors)
      .toEqual([]);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test("offline, a page never visited shows the offline page", async ({ page, context }) => {
  await signIn(page);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  // The worker controls pages after a reload.
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  await context.setOffline(true);
  await page.goto("/builds").catch(() => undefined);
  await expect(page.getByRole("heading", { name: "You are offline" })).toBeVisible();
  await context.setOffline(false);
});

test("signing out forgets the pages the service worker kept", async ({ page }) => {
  await signIn(page);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  await page.goto("/deployments");
  const kept = () => page.evaluate(async () => !!(await caches.match("/deployments")));
  await expect.poll(kept).toBe(true);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  await expect.poll(kept).toBe(false);
  // The app shell stays, so the offline page still works.
  expect(await page.evaluate(async () => !!(await caches.match("/offline.html")))).toBe(true);
});
