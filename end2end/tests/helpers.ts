import { expect, Page } from "@playwright/test";

export const ADMIN_PASSWORD = process.env.FLIGHTDECK_E2E_ADMIN_PASSWORD ?? "e2e-admin-password-123";

export async function signIn(page: Page, next = "/") {
  await page.goto(next);
  await expect(page).toHaveURL(/\/signin/);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  // The page is server-rendered first; its buttons work once its island is hydrated, after its
  // bundle has loaded.
  await expectLive(page);
}

/** Waits until the page is hydrated and its live connection is up. */
export async function expectLive(page: Page) {
  await expect(page.getByTestId("live-indicator")).toHaveClass(/\bon\b/, { timeout: 15_000 });
}

/** Calls a server function from the page's own origin, as the app's forms do. */
export async function callServerFn(page: Page, name: string, form: Record<string, string>) {
  const origin = new URL(page.url()).origin;
  return page.request.post(`/api/${name}`, {
    form,
    headers: { origin, accept: "application/json" },
  });
}
