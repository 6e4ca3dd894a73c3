// Page-load benchmark for the README: the time from navigation to a hydrated page with its live
// connection up, on emulated mobile networks, with an empty browser cache each time (median of 3).
// Usage: node scripts/page_load.mjs BASE_URL PASSWORD (the admin of a running `serve --demo`).
import { createRequire } from "node:module";
const require = createRequire(new URL("../end2end/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const [base, password] = process.argv.slice(2);
const networks = [
  ["4G (60 ms, 10 Mbit/s)", 60, 10_000],
  ["3G (150 ms, 1.6 Mbit/s)", 150, 1_600],
];
const pages = ["/", "/health", "/alerts", "/deployments"];

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});
// The service worker would answer from its cache, outside the emulated network.
const options = { viewport: { width: 1280, height: 900 }, serviceWorkers: "block" };
const signIn = await browser.newContext(options);
const page = await signIn.newPage();
await page.goto(`${base}/signin`);
await page.getByLabel("Username").fill("admin");
await page.getByLabel("Password").fill(password);
await page.getByRole("button", { name: "Sign in" }).click();
await page.getByRole("button", { name: "Sign out" }).waitFor();
const storageState = await signIn.storageState();

console.log("| page | " + networks.map(([name]) => name).join(" | ") + " |");
console.log("|---|" + networks.map(() => "---|").join(""));
for (const path of pages) {
  const cells = [];
  for (const [, latency, kbits] of networks) {
    const times = [];
    for (let i = 0; i < 3; i++) {
      const context = await browser.newContext({ ...options, storageState });
      const tab = await context.newPage();
      const cdp = await context.newCDPSession(tab);
      await cdp.send("Network.enable");
      await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
      const bytesPerSecond = (kbits * 1000) / 8;
      await cdp.send("Network.emulateNetworkConditions", {
        offline: false, latency, downloadThroughput: bytesPerSecond, uploadThroughput: bytesPerSecond,
      });
      const start = Date.now();
      await tab.goto(base + path);
      await tab.getByTestId("live-indicator").and(tab.locator(".on")).waitFor({ timeout: 60_000 });
      times.push(Date.now() - start);
      await context.close();
    }
    times.sort((a, b) => a - b);
    cells.push(`${times[1]} ms`);
  }
  console.log(`| ${path} | ${cells.join(" | ")} |`);
}
await browser.close();
