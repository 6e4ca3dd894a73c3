import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

test("an admin creates a token, sees it once, and revokes it after confirming", async ({ page }) => {
  await signIn(page, "/settings");
  await page.getByText("Create a token").click();
  const name = `ui-token-${Date.now() % 100000}`;
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create token" }).click();
  const secret = page.getByLabel("New API token");
  await expect(secret).toHaveValue(/^fdt_[0-9a-f]{40}$/);

  const row = page.getByRole("row").filter({ hasText: name });
  await expect(row).toBeVisible();
  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(row).toContainText("Machines using it stop working at once.");
  await row.getByRole("button", { name: "Revoke token" }).click();
  await expect(page.getByRole("row").filter({ hasText: name })).toContainText("revoked");

  // After a reload the secret is gone for good.
  await page.reload();
  await expect(page.getByLabel("New API token")).toHaveCount(0);
});

test("bad input in a form gets a clear message and changes nothing", async ({ page }) => {
  await signIn(page, "/settings");
  await page.getByText("Add a user").click();
  await page.getByLabel("Username").fill("has space");
  await page.getByLabel("Initial password (12+ characters)").fill("long-enough-password");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("alert")).toContainText("letters, digits");
  await expect(page.getByRole("cell", { name: "has space" })).toHaveCount(0);
});

test("an admin saves the GitHub webhook secret; it is never shown again", async ({ page }) => {
  await signIn(page, "/settings");
  const card = page.locator("section", { has: page.getByRole("heading", { name: "CI/CD webhooks" }) });
  await expect(card).toContainText("Not set: GitHub deliveries are refused.");
  const secret = "e2e-github-secret-0123456789";
  await card.getByLabel("New GitHub secret (16+ characters)").fill(secret);
  await card.getByRole("button", { name: "Save secret" }).first().click();
  await expect(card.getByRole("status")).toContainText("Secret saved");
  await expect(card).toContainText("Set on this page by admin");
  await expect(card.getByLabel("New GitHub secret (16+ characters)")).toHaveValue("");
  await page.screenshot({ path: "screenshots/settings-webhooks.png", fullPage: true });
  await page.reload();
  expect(await page.content()).not.toContain(secret);
});
