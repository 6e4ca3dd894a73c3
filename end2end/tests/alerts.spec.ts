import { expect, Page, test } from "@playwright/test";
import { callServerFn, expectFitsScreen, expectLive, signIn } from "./helpers";

// An alert arrives through Alertmanager's webhook endpoint, appears in the open feed without a
// reload, is acknowledged from the UI, and its resolution arrives live too.

function payload(status: "firing" | "resolved", job: string) {
  return {
    version: "4",
    groupKey: "{}:{alertname=\"E2EHighLatency\"}",
    truncatedAlerts: 0,
    status,
    receiver: "flightdeck",
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://alertmanager:9093",
    alerts: [
      {
        status,
        labels: { alertname: "E2EHighLatency", job, severity: "critical" },
        annotations: { summary: `${job}: p99 latency over 1s for 5 minutes` },
        startsAt: new Date().toISOString(),
        endsAt: status === "resolved" ? new Date().toISOString() : "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus:9090/graph",
      },
    ],
  };
}

async function operatorToken(page: Page): Promise<string> {
  const res = await callServerFn(page, "tokens_create", { name: `alertmanager-${Date.now()}`, role: "operator" });
  expect(res.status()).toBe(200);
  return (await res.json()).token;
}

test("an alert arrives live, is acknowledged from the feed, and resolves live", async ({ page }) => {
  await signIn(page, "/alerts");
  await expectLive(page);
  const token = await operatorToken(page);
  await page.evaluate(() => ((window as any).__sameDocument = true));
  const job = `checkout-${Date.now()}`;

  const send = async (status: "firing" | "resolved") => {
    const res = await page.request.post("/api/v1/webhooks/alertmanager", {
      data: payload(status, job),
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status()).toBe(200);
  };
  await send("firing");

  const item = page.locator(".feed-item", { hasText: `job=${job}` });
  await expect(item).toBeVisible();
  await expect(item).toContainText("Critical");
  await expect(item).toContainText("Open");
  await expect(item).toContainText("p99 latency over 1s");
  await page.screenshot({ path: "screenshots/alerts-desktop.png", fullPage: true });

  // While the acknowledgement is on its way, the alert's other actions wait for it.
  let deliver!: () => void;
  const held = new Promise<void>((resolve) => (deliver = resolve));
  await page.route(
    "**/api/alert_act",
    async (route) => {
      await held;
      await route.continue();
    },
    { times: 1 },
  );
  await item.getByRole("button", { name: "Acknowledge" }).click();
  await expect(item.getByRole("button", { name: "Acknowledge" })).toBeDisabled();
  await expect(item.getByRole("button", { name: "Escalate…" })).toBeDisabled();
  await expect(item.getByRole("button", { name: "Resolve…" })).toBeDisabled();
  deliver();
  await expect(item).toContainText("Acknowledged");
  await expect(item).toContainText("acknowledged by admin");
  await expect(item.getByRole("button", { name: "Escalate…" })).toBeEnabled();
  await expect(item.getByRole("button", { name: "Acknowledge" })).toHaveCount(0);

  await send("resolved");
  await expect(item).toContainText("Resolved");
  await expect(item).toContainText("resolved by alertmanager");
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  // The alert's page tells who did what.
  await item.getByRole("link", { name: "E2EHighLatency" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("E2EHighLatency");
  const history = page.locator(".timeline").first();
  await expect(history).toContainText("acknowledged by admin");
  await expect(history).toContainText("resolved by alertmanager");

  // Filters narrow the feed; phone and tablet layouts do not overflow.
  await page.goto("/alerts?status=resolved&severity=critical");
  await expect(page.locator(".feed-item", { hasText: `job=${job}` })).toBeVisible();
  await page.goto("/alerts?status=open");
  await expect(page.locator(".feed-item", { hasText: `job=${job}` })).toHaveCount(0);
  for (const [name, width, height] of [["phone", 390, 844], ["tablet", 820, 1180]] as const) {
    await page.setViewportSize({ width, height });
    await page.goto("/alerts");
    await expect(page.locator(".feed-item").first()).toBeVisible();
    await expectFitsScreen(page, `the alert feed on a ${name}`);
    await page.screenshot({ path: `screenshots/alerts-${name}.png`, fullPage: true });
  }
});

test("an operator silences a firing alert from its page", async ({ page }) => {
  await signIn(page, "/alerts");
  await expectLive(page);
  const token = await operatorToken(page);
  const job = `search-${Date.now()}`;
  const res = await page.request.post("/api/v1/webhooks/alertmanager", {
    data: payload("firing", job),
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status()).toBe(200);
  const item = page.locator(".feed-item", { hasText: `job=${job}` });
  await item.getByRole("link", { name: "E2EHighLatency" }).click();
  const form = page.locator(".silence-form");
  await form.getByLabel("For").selectOption("1");
  // The reason is required: the browser refuses an empty one.
  await form.getByRole("button", { name: "Silence" }).click();
  await expect(form.getByRole("status")).toHaveCount(0);
  await form.getByLabel("Why (required)").fill("e2e: search reindex in progress");
  await form.getByRole("button", { name: "Silence" }).click();
  // The page follows live: the form gives way to the silence in the alert's facts.
  await expect(page.locator(".facts").first()).toContainText(/by silence \d+: nobody is notified/);
  await expect(page.locator(".timeline").first()).toContainText("silenced by silence");
  await page.screenshot({ path: "screenshots/alert-silenced.png", fullPage: true });
  await page.getByRole("link", { name: "← All alerts" }).click();
  await expect(page.locator(".feed-item", { hasText: `job=${job}` })).toContainText("Silenced");
  await expect(page.getByRole("heading", { name: "Silences in force" })).toBeVisible();
  await expect(page.locator("#silences-title + .timeline")).toContainText("e2e: search reindex in progress");
  // "Silenced until … (in 59 min 58 s)" and who acted (a token named for its sender) fit a phone.
  await page.setViewportSize({ width: 390, height: 844 });
  await expectFitsScreen(page, "the alert feed with a silenced alert");
  await page.setViewportSize({ width: 1280, height: 720 });

  // Ended early, after confirming: the alert notifies again and the feed follows without a reload.
  const silence = page.locator("#silences-title + .timeline li", { hasText: "e2e: search reindex in progress" });
  await silence.getByRole("button", { name: "End now" }).click();
  await expect(silence).toContainText("Matching alerts that still fire notify and escalate again.");
  await silence.getByRole("button", { name: "End silence" }).click();
  await expect(page.getByText("e2e: search reindex in progress")).toHaveCount(0);
  await expect(page.locator(".feed-item", { hasText: `job=${job}` })).not.toContainText("Silenced");
});

test("from the list: several alerts acknowledged at once, one acknowledged with a note, one silenced by the labels picked", async ({ page }) => {
  await page.setViewportSize({ width: 820, height: 1180 });
  await signIn(page, "/alerts");
  await expectLive(page);
  const token = await operatorToken(page);
  const stamp = Date.now();
  const jobs = ["bulk-a", "bulk-b", "noted", "quiet"].map((j) => `${j}-${stamp}`);
  for (const job of jobs) {
    const res = await page.request.post("/api/v1/webhooks/alertmanager", {
      data: payload("firing", job),
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status()).toBe(200);
  }
  const item = (job: string) => page.locator(".feed-item", { hasText: `job=${job}` });
  await expect(item(jobs[3])).toBeVisible();

  // Two selected, acknowledged with one click.
  await item(jobs[0]).getByRole("checkbox").check();
  await item(jobs[1]).getByRole("checkbox").check();
  const bar = page.getByRole("region", { name: "Selected alerts" });
  await expect(bar).toContainText("2 selected");
  await bar.getByRole("button", { name: "Acknowledge all" }).click();
  await expect(page.getByTestId("bulk-report")).toContainText("Acknowledged 2 alerts.");
  await expect(item(jobs[0])).toContainText("acknowledged by admin");
  await expect(item(jobs[1])).toContainText("acknowledged by admin");
  await expect(bar).toHaveCount(0);

  // Acknowledged with a note, by keyboard: the field takes focus in place of "+ note", Escape
  // closes it, and Enter in it acknowledges. The note is on the alert's history.
  const noteField = item(jobs[2]).getByLabel("Note with the acknowledgement (optional)");
  await item(jobs[2]).getByRole("button", { name: "Add a note" }).focus();
  await page.keyboard.press("Enter");
  await expect(noteField).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(noteField).toHaveCount(0);
  await expect(item(jobs[2]).getByRole("button", { name: "Acknowledge", exact: true })).toBeFocused();
  await item(jobs[2]).getByRole("button", { name: "Add a note" }).click();
  await expect(noteField).toBeFocused();
  await page.keyboard.type("e2e: rolling back checkout");
  await page.keyboard.press("Enter");
  await expect(item(jobs[2])).toContainText("acknowledged by admin");

  // Silenced from the list: alertname is picked, the job label is added with a click, 1 hour.
  await item(jobs[3]).getByRole("button", { name: "Silence…" }).click();
  const form = item(jobs[3]).locator(".silence-form");
  await expect(form.getByRole("button", { name: "alertname=E2EHighLatency" })).toHaveAttribute("aria-pressed", "true");
  const jobChip = form.getByRole("button", { name: `job=${jobs[3]}` });
  await expect(jobChip).toHaveAttribute("aria-pressed", "false");
  await jobChip.click();
  await expect(jobChip).toHaveAttribute("aria-pressed", "true");
  await expect(form.getByLabel("For")).toHaveValue("1");
  await form.getByLabel("Why (required)").fill("e2e: known noisy job");
  await form.getByRole("button", { name: "Silence", exact: true }).click();
  await expect(item(jobs[3]).getByTestId("silenced-until")).toContainText(/Silenced until \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in (59 min|1 h 0 min)/);
  // Only that job was silenced: its neighbour with the same alertname was not.
  await expect(item(jobs[2]).getByTestId("silenced-until")).toHaveCount(0);
  await page.screenshot({ path: "screenshots/alerts-bulk-tablet.png", fullPage: true });

  await item(jobs[2]).getByRole("link", { name: "E2EHighLatency" }).click();
  await expect(page.locator(".timeline").first()).toContainText("e2e: rolling back checkout");
});

test("a silence being written stays open, with its text and focus, while alerts update live", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.setViewportSize({ width: 820, height: 1180 });
  await signIn(page, "/alerts");
  await expectLive(page);
  const token = await operatorToken(page);
  const stamp = Date.now();
  const [typed, other] = [`typed-${stamp}`, `other-${stamp}`];
  const fire = async (job: string) => {
    const res = await page.request.post("/api/v1/webhooks/alertmanager", {
      data: payload("firing", job),
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status()).toBe(200);
  };
  await fire(typed);
  await fire(other);
  const item = (job: string) => page.locator(".feed-item", { hasText: `job=${job}` });
  await expect(item(other)).toBeVisible();

  await item(typed).getByRole("button", { name: "Silence…" }).click();
  const form = item(typed).locator(".silence-form");
  await form.getByRole("button", { name: `job=${typed}` }).click();
  const why = form.getByLabel("Why (required)");
  await why.fill("e2e: half-written reason");

  // Someone else acknowledges the other alert.
  const otherId = (await item(other).getAttribute("data-testid"))!.replace("alert-", "");
  const ack = await page.request.post(`/api/v1/alerts/${otherId}/ack`, {
    data: { note: "e2e: taken by a colleague" },
    headers: { authorization: `Bearer ${token}` },
  });
  expect(ack.status()).toBe(200);
  await expect(item(other)).toContainText("Acknowledged");
  // And a new alert arrives above it.
  const newer = `newer-${stamp}`;
  await fire(newer);
  await expect(item(newer)).toBeVisible();

  await expect(form).toBeVisible();
  await expect(why).toHaveValue("e2e: half-written reason");
  await expect(why).toBeFocused();
  await expect(form.getByRole("button", { name: `job=${typed}` })).toHaveAttribute("aria-pressed", "true");
  await why.press("Enter");
  await expect(item(typed).getByTestId("silenced-until")).toBeVisible();
  await expect(form).toHaveCount(0);
  expect(errors).toEqual([]);
});
