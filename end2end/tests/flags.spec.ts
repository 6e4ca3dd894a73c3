import { expect, test } from "@playwright/test";
import { expectLive, signIn } from "./helpers";

// The flag pages at tablet size: the list renders on the server before hydration, switching asks
// first (with the name typed in a protected environment), the preview says what a user gets and
// why, and the history shows what each change did.
test.use({ viewport: { width: 820, height: 1180 } });

test("an admin reads, previews and switches a flag", async ({ page, browser }) => {
  await signIn(page, "/flags");
  const row = page.getByRole("row", { name: /one-page-checkout/ });
  await expect(row).toContainText("On");
  await expect(row).toContainText("off 80% · on 20%");

  // Server-rendered: the list is there before (here: without) the page's bundle.
  const context = await browser.newContext({ storageState: await page.context().storageState() });
  const unhydrated = await context.newPage();
  await unhydrated.route("**/*.wasm", (route) => route.abort());
  await unhydrated.goto("/flags");
  await expect(unhydrated.getByRole("link", { name: "search-ranking" })).toBeVisible();
  await context.close();

  await row.getByRole("link", { name: "one-page-checkout" }).click();
  await expect(page).toHaveURL(/\/flags\/one-page-checkout$/);
  await expectLive(page);
  await expect(page.getByText("If role is staff → on")).toBeVisible();

  // Preview: a staff member matches the first rule.
  await page.getByLabel("Targeting key (user)").fill("kim");
  await page.getByLabel("Role").fill("staff");
  await page.getByRole("button", { name: "Evaluate" }).click();
  await expect(page.getByTestId("flag-preview")).toContainText("on = true");
  await expect(page.getByTestId("flag-preview")).toContainText("rule 1 \"staff\" matched");
  // A bad attribute object says what to write instead.
  await page.getByLabel("Other attributes (JSON)").fill("country=NL");
  await page.getByRole("button", { name: "Evaluate" }).click();
  await expect(page.getByTestId("flag-preview")).toContainText("must be a JSON object");

  // Switching off in production: cancel once, then confirm with the name typed.
  const offInProd = page.getByRole("button", { name: "Turn off… in production" });
  await offInProd.click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("Turn off one-page-checkout in production?");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await offInProd.click();
  await dialog.getByLabel("Reason").fill("checkout errors in INC-7");
  const confirm = dialog.getByRole("button", { name: "Turn off" });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel(/Type its name/).fill("production");
  await confirm.click();
  await expect(dialog).toBeHidden();

  const prodRow = page.getByRole("row", { name: /production/ });
  await expect(prodRow).toContainText("Off");
  await expect(prodRow).toContainText("Its own");
  const history = page.getByTestId("flag-history");
  await expect(history.locator("li").first()).toContainText("checkout errors in INC-7");
  await expect(history.locator("li").first()).toContainText(/updated \(version \d+\)/);
  await expect(history.locator("li").first()).toContainText("environments:");
});
