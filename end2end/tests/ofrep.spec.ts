import { expect, Page, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { baseURL } from "../playwright.config";
import { signIn } from "./helpers";

// A real OpenFeature client evaluates Flightdeck's flags: the web SDK with its OFREP provider,
// from npm, loaded into a page of another origin (an app's own site), so the cross-origin
// requests, the bearer token and the ETag polling are exercised as an app would use them.

const APP_ORIGIN = "http://shop.example.test";
const require_ = createRequire(__filename);

function packageFile(name: string, file: string, from?: string): string {
  const paths = from ? [from] : undefined;
  const root = dirname(require_.resolve(`${name}/package.json`, { paths }));
  return join(root, file);
}

const providerDir = dirname(require_.resolve("@openfeature/ofrep-web-provider/package.json"));
const modules: Record<string, string> = {
  "/core.js": packageFile("@openfeature/core", "dist/esm/index.js"),
  "/web-sdk.js": packageFile("@openfeature/web-sdk", "dist/esm/index.js"),
  "/ofrep-core.js": packageFile("@openfeature/ofrep-core", "index.esm.js", providerDir),
  "/ofrep-web-provider.js": packageFile("@openfeature/ofrep-web-provider", "index.esm.js"),
};

const page_html = `<!doctype html><html><head><title>Shop</title>
<script type="importmap">${JSON.stringify({
  imports: {
    "@openfeature/core": "/core.js",
    "@openfeature/web-sdk": "/web-sdk.js",
    "@openfeature/ofrep-core": "/ofrep-core.js",
    "@openfeature/ofrep-web-provider": "/ofrep-web-provider.js",
  },
})}</script>
<script type="module">
  import { OpenFeature } from "@openfeature/web-sdk";
  import { OFREPWebProvider } from "@openfeature/ofrep-web-provider";
  window.start = async (baseUrl, token, context) => {
    await OpenFeature.setContext(context);
    await OpenFeature.setProviderAndWait(new OFREPWebProvider({
      baseUrl, pollInterval: 300, headers: [["Authorization", "Bearer " + token]],
    }));
  };
  window.setContext = (context) => OpenFeature.setContext(context);
  window.details = (key, fallback) => {
    const d = OpenFeature.getClient().getBooleanDetails(key, fallback);
    return { value: d.value, reason: d.reason, variant: d.variant, errorCode: d.errorCode };
  };
  window.ready = true;
</script></head><body>shop</body></html>`;

async function openShop(page: Page) {
  await page.route(`${APP_ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/") {
      return route.fulfill({ contentType: "text/html", body: page_html });
    }
    const file = modules[path];
    if (!file) return route.fulfill({ status: 404, body: "" });
    return route.fulfill({ contentType: "text/javascript", body: readFileSync(file, "utf8") });
  });
  await page.goto(`${APP_ORIGIN}/`);
  await page.waitForFunction(() => (window as any).ready === true);
}

test("an OpenFeature web client evaluates flags over OFREP and follows changes", async ({ page, browser }) => {
  await signIn(page, "/");
  const origin = new URL(page.url()).origin;
  const write = (method: "post" | "put", path: string, data: unknown) =>
    page.request[method](path, { data, headers: { origin } });

  const key = `shop-checkout-${Date.now()}`;
  const created = await write("post", "/api/v1/flags", {
    key,
    kind: "boolean",
    variants: { on: true, off: false },
    default_variant: "off",
    rules: [
      { users: ["alice"], variant: "on" },
      { conditions: ['plan == "pro"'], variant: "on" },
    ],
  });
  expect(created.status(), await created.text()).toBe(201);
  const token = await write("post", "/api/v1/tokens", { name: `shop-${Date.now()}`, scopes: ["flags:evaluate"] });
  expect(token.status()).toBe(201);
  const secret = (await token.json()).token as string;

  const shop = await browser.newPage();
  const errors: string[] = [];
  shop.on("pageerror", (e) => errors.push(e.message));
  await openShop(shop);
  await shop.evaluate(
    ([base, t]) => (window as any).start(base, t, { targetingKey: "alice" }),
    [baseURL, secret],
  );
  const details = (flag: string) => shop.evaluate((k) => (window as any).details(k, false), flag);

  expect(await details(key)).toMatchObject({ value: true, variant: "on", reason: "TARGETING_MATCH" });
  expect((await details("no-such-flag")).errorCode).toBe("FLAG_NOT_FOUND");

  await shop.evaluate(() => (window as any).setContext({ targetingKey: "bob", plan: "free" }));
  expect(await details(key)).toMatchObject({ value: false, variant: "off", reason: "DEFAULT" });
  await shop.evaluate(() => (window as any).setContext({ targetingKey: "bob", plan: "pro" }));
  expect(await details(key)).toMatchObject({ value: true, reason: "TARGETING_MATCH" });

  // Switched off in Flightdeck: the client's next poll (If-None-Match, then a new ETag) sees it.
  const off = await write("put", `/api/v1/flags/${key}`, { enabled: false, reason: "e2e" });
  expect(off.status()).toBe(200);
  await expect.poll(() => details(key), { timeout: 10_000 }).toMatchObject({ value: false, reason: "DISABLED" });
  expect(errors).toEqual([]);
});
