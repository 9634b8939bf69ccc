import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Where Debian's Chromium lives (`apt-get install -y chromium`); CHROMIUM_PATH overrides it. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Whether a Chromium is installed to drive; the browser tests need one. */
export const hasChromium = existsSync(chromiumPath);

/**
 * Launches the installed Chromium headless, kept off the network: no sandbox (CI runs as
 * root), no GPU, no QUIC, and none of its background fetches, updates or sync.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
