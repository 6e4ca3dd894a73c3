import { expect, test } from "@playwright/test";
import { ADMIN_PASSWORD } from "../tests/helpers";

test("the Trunk build renders in the browser and signs in through the proxy", async ({ page }) => {
  await page.goto("/");
  // No server rendering here: the app itself finds there is no session and shows sign-in.
  await expect(page).toHaveURL(/\/signin/);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Is production OK?" })).toBeVisible();
  await expect(page.getByTestId("verdict")).toBeVisible();
  await expect(page.getByTestId("live-indicator")).toHaveClass(/\bon\b/, { timeout: 15_000 });
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Audit" }).click();
  await expect(page.getByRole("row").filter({ hasText: "user.signed_in" }).first()).toBeVisible();
});
