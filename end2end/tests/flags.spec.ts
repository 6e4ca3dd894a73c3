import { expect, test } from "@playwright/test";
import { expectLive, signIn } from "./helpers";

// The flag pages at tablet size: the list renders on the server before hydration, switching asks
// first (with the name typed where it reaches a protected environment), a rollout changes only to shares that
// sum to 100, the preview says what a user gets and why, and the history shows what each change did
// and brings back an earlier version.
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

  // Switching it off from the list reaches the protected environments without a switch of
  // their own, and asks for the first one's name; cancelled here.
  await expectLive(page);
  await row.getByRole("button", { name: "Turn off…" }).click();
  const listDialog = page.getByRole("dialog");
  await expect(listDialog).toContainText("It changes what canary and production serve.");
  await expect(listDialog.getByLabel("canary is protected. Type its name to confirm")).toBeVisible();
  await listDialog.getByRole("button", { name: "Cancel" }).click();
  await expect(listDialog).toBeHidden();

  await row.getByRole("link", { name: "one-page-checkout" }).click();
  await expect(page).toHaveURL(/\/flags\/one-page-checkout$/);
  await expectLive(page);
  await expect(page.getByText("If role is staff → on")).toBeVisible();
  // The kill switch names its SLO as the SLO list does: most services have an "availability".
  await expect(page.getByText("Serves off when SLO checkout-api / availability pages")).toBeVisible();

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
  await expect(page.getByRole("row", { name: /staging/ })).toContainText("Flag-wide");
  const history = page.getByTestId("flag-history");
  await expect(history.locator("li").first()).toContainText("checkout errors in INC-7");
  await expect(history.locator("li").first()).toContainText(/updated \(version \d+\)/);
  await expect(history.locator("li").first()).toContainText("environments:");
});

test("an admin ramps a flag's rollout, for every environment and then for one", async ({ page }) => {
  await signIn(page, "/flags/search-ranking");
  await expectLive(page);
  const dialog = page.getByRole("dialog");
  const share = (variant: string) => dialog.getByRole("spinbutton", { name: variant });
  const set = dialog.getByRole("button", { name: "Set rollout" });

  // The base settings: it starts from what serves (all bm25) and says where it reaches.
  const change = page.getByRole("button", { name: "Change rollout…" });
  await change.click();
  await expect(dialog.getByRole("heading")).toHaveText("Rollout of search-ranking");
  await expect(dialog).toContainText("get these shares in dev, staging, canary, production");
  await expect(share("bm25")).toHaveValue("100");
  await expect(share("learned")).toHaveValue("0");
  await share("learned").fill("10");
  await expect(dialog.getByTestId("rollout-check")).toHaveText("The shares sum to 110%; they must sum to 100%.");
  await expect(set).toBeDisabled();
  await share("bm25").fill("90");
  await expect(dialog.getByTestId("rollout-check")).toHaveText("Serves: bm25 90% · learned 10%");
  await dialog.getByLabel("Reason").fill("try the learned ranking on a tenth");
  // It reaches canary and production, both protected: the first one's name is asked.
  await expect(set).toBeDisabled();
  await dialog.getByLabel("canary is protected. Type its name to confirm").fill("canary");
  await set.click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText("bm25 90% · learned 10%").first()).toBeVisible();
  const history = page.getByTestId("flag-history");
  await expect(history.locator("li").first()).toContainText("try the learned ranking on a tenth");

  // Opened again, it starts from the new shares; Escape leaves them as they are.
  await change.click();
  await expect(share("learned")).toHaveValue("10");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(change).toBeFocused();

  // One protected environment: half and half there, once its name is typed.
  await page.getByRole("button", { name: "Rollout… in production" }).click();
  await expect(dialog.getByRole("heading")).toHaveText("Rollout of search-ranking in production");
  await share("bm25").fill("50");
  await share("learned").fill("50");
  await dialog.getByLabel("Reason").fill("half of production");
  await expect(set).toBeDisabled();
  await dialog.getByLabel(/Type its name/).fill("production");
  await set.click();
  await expect(dialog).toBeHidden();
  const prodRow = page.getByRole("row", { name: /production/ });
  await expect(prodRow).toContainText("bm25 50% · learned 50%");
  await expect(prodRow).toContainText("Its own");
  await expect(page.getByRole("row", { name: /staging/ })).toContainText("bm25 90% · learned 10%");
});

test("an admin puts a flag back as a version in its history left it", async ({ page }) => {
  await signIn(page, "/flags/holiday-banner");
  await expectLive(page);
  const dialog = page.getByRole("dialog");
  const history = page.getByTestId("flag-history");

  // The change that goes wrong: the banner off everywhere without a setting of its own.
  await page.getByRole("button", { name: "Turn off everywhere…" }).click();
  await dialog.getByLabel("Reason").fill("the banner covers the search box");
  // Production has a switch of its own; canary, protected, does not.
  await expect(dialog).toContainText("It changes what canary serves.");
  await dialog.getByLabel(/Type its name/).fill("canary");
  await dialog.getByRole("button", { name: "Turn off" }).click();
  await expect(dialog).toBeHidden();
  await expect(history.locator("li").first()).toContainText("enabled: on → off");
  // What serves now offers nothing to restore.
  await expect(history.getByRole("button", { name: /Restore version 2/ })).toHaveCount(0);

  // Version 1 comes back: the dialog says what that changes; cancelled once, then confirmed.
  const restore = history.getByRole("button", { name: "Restore version 1…" });
  await restore.click();
  await expect(dialog.getByRole("heading")).toHaveText("Restore holiday-banner to version 1?");
  await expect(dialog.getByTestId("restore-changes")).toHaveText("enabled: off → on");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(restore).toBeFocused();
  await restore.click();
  await expect(dialog.getByLabel("Reason")).toHaveValue("");
  await dialog.getByLabel("Reason").fill("the search box moved");
  // It reaches canary, a protected environment in the demo (off there now, on after).
  await expect(dialog).toContainText("It changes what canary serves.");
  const confirm = dialog.getByRole("button", { name: "Restore version 1" });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel(/Type its name/).fill("canary");
  await confirm.click();
  await expect(dialog).toBeHidden();

  const newest = history.locator("li").first();
  await expect(newest).toContainText("restored (version 3)");
  await expect(newest).toContainText("Restores version 1: the search box moved");
  await expect(newest).toContainText("enabled: off → on");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("On");
  // Version 1 is what serves now; version 2 (the switch-off) is the one on offer.
  await expect(history.getByRole("button", { name: "Restore version 1…" })).toHaveCount(0);
  await expect(history.getByRole("button", { name: "Restore version 2…" })).toBeVisible();
});

test("a flag's page reads its older changes on demand", async ({ page }) => {
  await signIn(page, "/flags");
  const origin = new URL(page.url()).origin;
  const key = `ramp-${Date.now()}`;
  const created = await page.request.post("/api/v1/flags", {
    headers: { origin },
    data: { key, kind: "boolean", variants: { on: true, off: false }, default_variant: "off" },
  });
  expect(created.status(), await created.text()).toBe(201);
  // A long ramp: 55 changes after its creation, 1% at a time.
  for (let share = 1; share <= 55; share++) {
    const res = await page.request.put(`/api/v1/flags/${key}`, {
      headers: { origin },
      data: { rollout: { on: share, off: 100 - share }, reason: `ramp to ${share}%` },
    });
    expect(res.status(), await res.text()).toBe(200);
  }

  await page.goto(`/flags/${key}`);
  await expectLive(page);
  const entries = page.getByTestId("flag-history").locator(":scope > li");
  await expect(entries).toHaveCount(50);
  // The oldest shown says what it changed, read against the one before it.
  await expect(entries.last()).toContainText("ramp to 6%");
  await expect(entries.last()).toContainText("rollout: off 95% · on 5% → off 94% · on 6%");

  const older = page.getByRole("button", { name: "Show older changes" });
  await older.click();
  await expect(entries).toHaveCount(56);
  // The keyboard lands on the first of the older changes, and the list ends at the creation.
  await expect(entries.nth(50)).toBeFocused();
  await expect(entries.nth(50)).toContainText("ramp to 5%");
  await expect(entries.last()).toContainText("created");
  await expect(older).toHaveCount(0);

  // A change made meanwhile arrives live on top; the older changes stay shown (a live event
  // reads only the latest page, and the page joins what it had read).
  const res = await page.request.put(`/api/v1/flags/${key}`, {
    headers: { origin },
    data: { rollout: { on: 56, off: 44 }, reason: "ramp to 56%" },
  });
  expect(res.status(), await res.text()).toBe(200);
  await expect(entries.first()).toContainText("ramp to 56%");
  await expect(entries).toHaveCount(57);
  await expect(entries.nth(50)).toContainText("ramp to 6%");
  await expect(entries.last()).toContainText("created");
});
