import { expect, Page, test } from "@playwright/test";
import { existsSync, readFileSync } from "node:fs";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { baseURL } from "../playwright.config";
import { signIn } from "./helpers";

// A real OpenFeature client evaluates Flightdeck's flags: the web SDK with its OFREP provider,
// from npm, loaded into a page of another origin (an app's own site), so the cross-origin
// requests, the bearer token and the ETag polling are exercised as an app would use them.

const require_ = createRequire(__filename);

/** The package's directory, found from its entry point (not every package exports package.json). */
function packageRoot(name: string, from?: string): string {
  let dir = dirname(require_.resolve(name, { paths: from ? [from] : undefined }));
  while (!(basename(dir) === name.split("/")[1] && existsSync(join(dir, "package.json")))) {
    dir = dirname(dir);
  }
  return dir;
}

function packageFile(name: string, file: string, from?: string): string {
  return join(packageRoot(name, from), file);
}

const providerDir = packageRoot("@openfeature/ofrep-web-provider");
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

/** The shop's own web server, on a loopback address like Flightdeck here (Chromium keeps pages
 * it cannot place from calling local addresses, which a real deployment would not meet). */
async function startShop(): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://shop").pathname;
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end(page_html);
      return;
    }
    const file = modules[path];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(file, "utf8"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://localhost:${port}`, server };
}

async function openShop(page: Page, origin: string) {
  await page.goto(`${origin}/`);
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
  const { origin: shopOrigin, server } = await startShop();
  await openShop(shop, shopOrigin);
  await shop.evaluate(
    ([base, t]) => (window as any).start(base, t, { targetingKey: "alice" }),
    [baseURL, secret],
  );
  const details = (flag: string) => shop.evaluate((k) => (window as any).details(k, false), flag);

  expect(await details(key)).toMatchObject({ value: true, variant: "on", reason: "TARGETING_MATCH" });
  expect((await details("no-such-flag")).errorCode).toBe("FLAG_NOT_FOUND");

  // The provider answers a changed context from its local cache first (reason CACHED) and
  // refreshes in the background: wait for the server's answer.
  await shop.evaluate(() => (window as any).setContext({ targetingKey: "bob", plan: "free" }));
  await expect.poll(() => details(key)).toMatchObject({ value: false, variant: "off", reason: "DEFAULT" });
  await shop.evaluate(() => (window as any).setContext({ targetingKey: "bob", plan: "pro" }));
  await expect.poll(() => details(key)).toMatchObject({ value: true, reason: "TARGETING_MATCH" });

  // Switched off in Flightdeck: the client's next poll (If-None-Match, then a new ETag) sees it.
  const off = await write("put", `/api/v1/flags/${key}`, { enabled: false, reason: "e2e" });
  expect(off.status()).toBe(200);
  await expect.poll(() => details(key), { timeout: 10_000 }).toMatchObject({ value: false, reason: "DISABLED" });
  expect(errors).toEqual([]);
  server.close();
});
