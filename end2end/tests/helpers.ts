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

/** Sends a build as CI does (from the signed-in page, so with its origin): 201 when it is new,
 * 200 when it updates the build CI sent before with the same `source_id`. */
export async function postBuild(page: Page, build: Record<string, unknown>, expected = 201) {
  const origin = new URL(page.url()).origin;
  const data = { commit: "0a1b2c3d4e5f", trigger: "push", ...build };
  const posted = await page.request.post("/api/v1/builds", { headers: { origin }, data });
  expect(posted.status(), await posted.text()).toBe(expected);
}

/** Fails when anything pushes the page wider than the screen. Wide tables scroll inside their
 * own box and are allowed; the message names the elements that stick out. */
export async function expectFitsScreen(page: Page, what: string) {
  const offenders = await page.evaluate(() => {
    const out: string[] = [];
    document.querySelectorAll("body *").forEach((el) => {
      const r = el.getBoundingClientRect();
      let scrolls = false;
      for (let p = el.parentElement; p; p = p.parentElement) if (getComputedStyle(p).overflowX !== "visible") scrolls = true;
      // An absolutely positioned element escapes a scroll box that is not its containing block.
      const escapes = ["absolute", "fixed"].includes(getComputedStyle(el).position);
      if (r.right > window.innerWidth + 1 && (!scrolls || escapes)) out.push(`${el.tagName}.${el.className}`);
    });
    return out;
  });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${what} is wider than the screen: ${offenders.join(", ")}`).toBeLessThanOrEqual(0);
}
