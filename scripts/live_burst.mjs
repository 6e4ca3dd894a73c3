// Live-update burst benchmark for the README: open PAGES signed-in tabs of PATH, post N builds
// build by build from C senders as fast as the server takes them, and count the API calls the
// tabs made meanwhile (and for 5 s after, so a burst's last change is counted).
// Usage: node scripts/live_burst.mjs BASE_URL PASSWORD TOKEN [PATH] [PAGES] [N] [C]
// (the admin of a running `serve --demo`, and an operator token from `flightdeck token create`).
// Run it with PATH=/settings too: a page that follows no build is the ingestion rate's baseline.
import { createRequire } from "node:module";
const require = createRequire(new URL("../end2end/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const [base, password, token, path = "/builds", tabs = "1", n = "2000", c = "8"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});
const context = await browser.newContext({ viewport: { width: 820, height: 1180 } });
const first = await context.newPage();
await first.goto(`${base}/signin`);
await first.getByLabel("Username").fill("admin");
await first.getByLabel("Password").fill(password);
await first.getByRole("button", { name: "Sign in" }).click();
await first.getByRole("button", { name: "Sign out" }).waitFor();
const pages = [first];
while (pages.length < Number(tabs)) pages.push(await context.newPage());
for (const page of pages) {
  await page.goto(base + path);
  await page.locator("[data-testid=live-indicator].on").waitFor({ timeout: 15_000 });
}
const calls = {};
for (const page of pages) {
  page.on("request", (r) => {
    const at = new URL(r.url()).pathname;
    if (at.startsWith("/api/")) calls[at] = (calls[at] ?? 0) + 1;
  });
}

const stamp = Date.now();
const startedAt = new Date(stamp - 3_600_000).toISOString();
let next = 0;
async function sender() {
  while (next < Number(n)) {
    const i = next++;
    const build = {
      pipeline: `burst/p${i % 5}/ci`, branch: "main", commit: "abcdef1", started_at: startedAt, finished_at: startedAt,
      status: i % 7 ? "success" : "failure", source_id: `burst-${stamp}-${i}`,
    };
    const res = await fetch(`${base}/api/v1/builds`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(build),
    });
    if (res.status !== 201) throw new Error(`build ${i}: ${res.status} ${await res.text()}`);
  }
}
const t0 = Date.now();
await Promise.all(Array.from({ length: Number(c) }, sender));
const took = Date.now() - t0;
await first.waitForTimeout(5_000);
console.log(JSON.stringify({ path, tabs: Number(tabs), builds: Number(n), builds_per_s: Math.round((Number(n) / took) * 1000), api_calls: calls }));
await browser.close();
