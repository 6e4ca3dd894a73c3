import { expect, Page, test } from "@playwright/test";
import { createHmac } from "node:crypto";
import { expectLive, signIn } from "./helpers";

/** Adds a Slack channel named `prefix-<number>` whose URL ends in `secret`; its name and row. */
async function addChannel(page: Page, prefix: string, secret: string) {
  const channels = page.locator("section", { has: page.getByRole("heading", { name: "Notification channels" }) });
  const channel = `${prefix}-${Date.now() % 100000}`;
  await channels.getByText("Add a channel").click();
  await channels.getByLabel("Name", { exact: true }).fill(channel);
  await channels.getByLabel("Kind").selectOption("slack");
  await channels.getByLabel(/^Target/).fill(`https://hooks.slack.example/services/T0/B0/${secret}`);
  await channels.getByRole("button", { name: "Add channel" }).click();
  return { channels, channel, row: channels.getByRole("row").filter({ hasText: channel }) };
}

test("an admin creates a token, sees it once, and revokes it after confirming", async ({ page }) => {
  await signIn(page, "/settings");
  const card = page.locator("section", { has: page.getByRole("heading", { name: "API tokens" }) });
  await card.getByText("Create a token").click();
  const name = `ui-token-${Date.now() % 100000}`;
  await card.getByLabel("Name", { exact: true }).fill(name);
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

test("an admin saves the GitHub webhook secret; it is never shown again, and deliveries signed with it are listed", async ({ page, request }) => {
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
  await expectLive(page);

  // GitHub delivers a passing run of a repository that is no service here, signed as GitHub signs.
  const delivery = `e2e-delivery-${Date.now()}`;
  const body = JSON.stringify({
    action: "completed", workflow: { name: "CI" }, repository: { name: "e2e-shop", full_name: "acme/e2e-shop" },
    workflow_run: { id: Date.now(), head_branch: "main", head_sha: "acb5820ced9479c074f688cc328bf03f341a511d", event: "push",
      status: "completed", conclusion: "success", run_started_at: new Date(Date.now() - 300_000).toISOString(),
      updated_at: new Date().toISOString() },
  });
  const signature = "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
  const sent = await request.post("/api/v1/webhooks/github", {
    data: body,
    headers: { "content-type": "application/json", "x-github-event": "workflow_run", "x-github-delivery": delivery, "x-hub-signature-256": signature },
  });
  expect(sent.status()).toBe(202);
  const deliveries = page.locator("section", { has: page.getByRole("heading", { name: "Recent webhook deliveries" }) });
  const row = deliveries.getByRole("row").filter({ hasText: delivery });
  // Live: the row appears, applied, without a reload.
  await expect(row).toContainText("Nothing to apply");
  await expect(row).toContainText("GitHub Workflow run");
  await expect(row).toContainText("no service named 'e2e-shop' here");
});

test("an admin adds a channel and an escalation policy; the URL never shows", async ({ page }) => {
  await signIn(page, "/settings");
  const { channels, channel, row } = await addChannel(page, "pager", "e2e-s3cret");
  await expect(row).toContainText("https://hooks.slack.example/…");
  await expect(page.getByText("e2e-s3cret")).toHaveCount(0);

  const policies = page.locator("section", { has: page.getByRole("heading", { name: "Escalation policies" }) });
  await policies.getByText("Add a policy").click();
  await policies.getByLabel("Name", { exact: true }).fill(`critical to ${channel}`);
  await policies.getByLabel(/^Matchers/).fill('severity="critical"');
  // A step naming no channel is refused with the reason, and nothing is added.
  await policies.getByLabel(/^Steps/).fill("0 no-such-channel");
  await policies.getByRole("button", { name: "Add policy" }).click();
  await expect(policies.getByRole("alert")).toContainText("There is no channel named 'no-such-channel'");
  await policies.getByLabel(/^Steps/).fill(`0 ${channel}\n15m ${channel}`);
  await policies.getByRole("button", { name: "Add policy" }).click();
  const policy = policies.getByRole("row").filter({ hasText: `critical to ${channel}` });
  await expect(policy).toContainText('severity="critical"');
  await expect(policy).toContainText(`after 15m: ${channel}`);
  await page.screenshot({ path: "screenshots/settings-routing.png", fullPage: true });

  // Editing: the form comes back filled in; saving replaces the steps.
  await policy.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("region", { name: `Change policy 'critical to ${channel}'` });
  await expect(edit.getByLabel("Name", { exact: true })).toBeFocused();
  await expect(edit.getByLabel(/^Matchers/)).toHaveValue('severity="critical"');
  await expect(edit.getByLabel(/^Steps/)).toHaveValue(`0 ${channel}\n15m ${channel}`);
  await edit.getByLabel(/^Steps/).fill(`0 ${channel}\n1h ${channel}`);
  await edit.getByRole("button", { name: "Save policy" }).click();
  await expect(edit).toHaveCount(0);
  await expect(policy).toContainText(`after 1h: ${channel}`);

  // Changing a channel: its target is a secret, shown masked and never filled in; a new URL
  // replaces it (a rotated webhook), and the policy's steps still name the channel.
  await row.getByRole("button", { name: "Edit" }).click();
  const editChannel = page.getByRole("region", { name: `Change channel '${channel}'` });
  await expect(editChannel.getByLabel("Name", { exact: true })).toBeFocused();
  await expect(editChannel.getByLabel("Kind")).toHaveValue("slack");
  await expect(editChannel.getByLabel(/^Target/)).toHaveValue("");
  await editChannel.getByLabel(/^Target/).fill("https://rotated.slack.example/services/T0/B0/e2e-s3cret-2");
  await editChannel.getByRole("button", { name: "Save channel" }).click();
  await expect(editChannel).toHaveCount(0);
  await expect(row).toContainText("https://rotated.slack.example/…");
  await expect(page.getByText("e2e-s3cret")).toHaveCount(0);
  await expect(policy).toContainText(`after 1h: ${channel}`);

  // Removing: a channel a policy uses is refused with the policy's name; each removal asks first.
  await row.getByRole("button", { name: "Remove" }).click();
  await expect(row).toContainText("Notifications not yet sent to it are given up");
  await row.getByRole("button", { name: "Remove channel" }).click();
  await expect(channels.getByRole("alert")).toContainText(`is a step of 'critical to ${channel}'`);
  await expect(row).toBeVisible();
  await policy.getByRole("button", { name: "Remove" }).click();
  await expect(policy).toContainText("The open alerts it owns stop escalating");
  // The question takes the focus on its safe answer; Escape backs out.
  await expect(policy.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(policy.getByRole("button", { name: "Remove policy" })).toHaveCount(0);
  await policy.getByRole("button", { name: "Remove" }).click();
  await policy.getByRole("button", { name: "Remove policy" }).click();
  await expect(policy).toHaveCount(0);
  await row.getByRole("button", { name: "Remove" }).click();
  await row.getByRole("button", { name: "Remove channel" }).click();
  await expect(row).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("cell", { name: channel, exact: true })).toHaveCount(0);
});

test("an admin disables an account after confirming, changes its role, and enables it again", async ({ page }) => {
  await signIn(page, "/settings");
  const row = page.getByTestId("user-lin.oncall");
  await expect(row).toBeVisible();
  // By keyboard: the question takes focus on the safe choice, and Escape gives it back.
  const disable = row.getByRole("button", { name: "Disable…" });
  await disable.focus();
  await page.keyboard.press("Enter");
  await expect(row.getByRole("button", { name: "Keep" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(row).not.toContainText("Their sessions end");
  await expect(disable).toBeFocused();
  await row.getByRole("button", { name: "Disable…" }).click();
  await expect(row).toContainText("Their sessions end and the tokens they created are revoked.");
  await row.getByRole("button", { name: "Keep" }).click();
  await expect(row).not.toContainText("Disabled");
  await row.getByRole("button", { name: "Disable…" }).click();
  await row.getByRole("button", { name: "Disable", exact: true }).click();
  await expect(row).toContainText("Disabled");
  await row.getByLabel("Role of lin.oncall").selectOption("viewer");
  await expect(row.getByLabel("Role of lin.oncall")).toHaveValue("viewer");
  await expect(row).toContainText("viewer");
  await row.getByRole("button", { name: "Enable" }).click();
  await expect(row).not.toContainText("Disabled");
});

test("on a phone, a question asked in place shows whole, above the bottom bar", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "/settings");
  // A channel's row sits far down the page, where scrolling the question into view can put it
  // under the bar.
  const { row } = await addChannel(page, "phone", "e2e-phone");
  await row.getByRole("button", { name: "Remove…" }).focus();
  await page.keyboard.press("Enter");
  await expect(row.getByRole("button", { name: "Cancel" })).toBeFocused();
  const act = row.getByRole("button", { name: "Remove channel" });
  await expect(act).toBeInViewport();
  await expect(row.getByText("Notifications not yet sent to it")).toBeInViewport();
  const bar = await page.getByRole("navigation", { name: "Sections" }).boundingBox();
  const box = await act.boundingBox();
  expect(box!.y + box!.height).toBeLessThanOrEqual(bar!.y);
  await act.click();
  await expect(row).toHaveCount(0);
});

test("an admin creates a token limited to one scope, and the list says so", async ({ page }) => {
  await signIn(page, "/settings");
  const card = page.locator("section", { has: page.getByRole("heading", { name: "API tokens" }) });
  await card.getByText("Create a token").click();
  const name = `am-scoped-${Date.now() % 100000}`;
  await card.getByLabel("Name", { exact: true }).fill(name);
  await card.getByLabel(/^Role/).selectOption("operator");
  await card.getByLabel("Limited to").selectOption("alerts:write");
  await page.getByRole("button", { name: "Create token" }).click();
  const secret = await page.getByLabel("New API token").inputValue();
  await expect(page.getByRole("row").filter({ hasText: name })).toContainText("only alerts:write");
  // The token posts alerts and can do nothing else.
  const alerts = await page.request.post("/api/v2/alerts", {
    data: [{ labels: { alertname: "ScopedE2E" } }],
    headers: { authorization: `Bearer ${secret}` },
  });
  expect(alerts.status()).toBe(200);
  const deploy = await page.request.get("/api/v1/status", { headers: { authorization: `Bearer ${secret}` } });
  expect(deploy.status()).toBe(403);
});

test("an admin cannot lock themselves out from their own row, and a token can name its flag environment", async ({ page }) => {
  await signIn(page, "/settings");
  const own = page.getByTestId("user-admin");
  await expect(own).toContainText("you: another admin can change this");
  await expect(own.getByRole("button", { name: "Disable…" })).toHaveCount(0);
  await expect(page.getByTestId("user-lin.oncall").getByRole("button", { name: "Disable…" })).toBeVisible();

  const card = page.locator("section", { has: page.getByRole("heading", { name: "API tokens" }) });
  await card.getByText("Create a token").click();
  // An environment that does not exist is refused, saying which.
  await card.getByLabel("Name", { exact: true }).fill(`flags-nowhere-${Date.now() % 100000}`);
  await card.getByLabel("Flag environment (optional)").fill("nowhere");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(card.getByRole("alert")).toContainText("nowhere");
  const name = `flags-prod-${Date.now() % 100000}`;
  await card.getByLabel("Name", { exact: true }).fill(name);
  await card.getByLabel("Flag environment (optional)").fill("production");
  await page.getByRole("button", { name: "Create token" }).click();
  const secret = await page.getByLabel("New API token").inputValue();
  // OFREP without an environment in the context evaluates production's settings for it.
  const res = await page.request.post("/ofrep/v1/evaluate/flags", {
    data: { context: { targetingKey: "user-1" } },
    headers: { authorization: `Bearer ${secret}` },
  });
  expect(res.status()).toBe(200);
});
