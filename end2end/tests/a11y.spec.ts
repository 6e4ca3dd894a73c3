import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { expectLive, signIn } from "./helpers";

// axe-core on every page, in both themes: what a screen-reader or keyboard user would trip on.

const pages = ["/", "/deployments", "/deployments/1", "/health", "/slos", "/alerts", "/audit", "/settings", "/config", "/flags", "/flags/one-page-checkout", "/system", "/builds", "/builds/pipeline?name=acme/shop/ci", "/services/payments-gateway"];

for (const theme of ["dark", "light"] as const) {
  test(`every page passes axe-core in the ${theme} theme`, async ({ page }) => {
    test.setTimeout(120_000);
    await signIn(page, "/");
    if (theme === "light") {
      await page.getByRole("button", { name: "Light theme" }).click();
      await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
    }
    const found: string[] = [];
    for (const path of pages) {
      await page.goto(path);
      await expectLive(page);
      // Let the islands' first data arrive, so what is checked is what people see.
      await page.waitForLoadState("networkidle");
      const results = await new AxeBuilder({ page }).analyze();
      for (const v of results.violations) {
        found.push(`${path}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(" | ")}`);
      }
    }
    expect(found, found.join("\n")).toEqual([]);
  });
}
