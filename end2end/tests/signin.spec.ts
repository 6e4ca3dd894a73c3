import { expect, test } from "@playwright/test";
import { ADMIN_PASSWORD, callServerFn, expectLive, signIn } from "./helpers";

test("a visitor is sent to sign-in, a wrong password is refused, the right one opens the app", async ({ page }) => {
  await page.goto("/audit");
  await expect(page).toHaveURL(/\/signin\?next=%2Faudit/);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong username or password.");
  await expect(page).toHaveURL(/\/signin/);

  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible();
  await expectLive(page);
});

test("the live indicator turns live and new audit entries appear without a reload", async ({ page }) => {
  await signIn(page, "/audit");
  await expectLive(page);
  const marker = `e2e-live-${Date.now() % 100000}`;
  await page.evaluate(() => ((window as any).__notReloaded = true));
  const res = await callServerFn(page, "tokens_create", { name: marker, role: "viewer" });
  expect(res.status()).toBe(200);
  const row = page.getByRole("row").filter({ hasText: marker });
  await expect(row).toContainText("token.created");
  expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
});

test("signing out ends the session", async ({ page }) => {
  await signIn(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/signin\?next=%2Fsettings/);
});
