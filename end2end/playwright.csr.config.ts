import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// The client-side-rendered build served by `trunk serve` (port 8080), proxying /api and /ws to a
// release `flightdeck serve` on port 3000, exactly as Trunk.toml sets it up for UI work.
export default defineConfig({
  ...base,
  testDir: "./csr",
  use: { ...base.use, baseURL: "http://127.0.0.1:8080" },
  webServer: [
    {
      command: "bash ../scripts/e2e-server.sh 3000 http://127.0.0.1:8080",
      url: "http://127.0.0.1:3000/api/health",
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: "cd .. && trunk serve --release --no-autoreload",
      url: "http://127.0.0.1:8080/",
      reuseExistingServer: false,
      timeout: 600_000,
    },
  ],
});
