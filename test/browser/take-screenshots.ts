// Takes the screenshots in docs/screenshots/ from a real stack and a real Chromium:
//   npm run build && npx tsx test/browser/take-screenshots.ts
// A short conversation between two people, shown at desktop width in the light scheme and
// at phone width in the dark one.
import { mkdirSync } from "node:fs";
import { startService } from "../harness/services.js";
import { launchChromium } from "../support/browser.js";
import { restClient } from "../support/http.js";

const out = new URL("../../docs/screenshots/", import.meta.url);
mkdirSync(out, { recursive: true });
const message = await startService("message");
const edge = await startService("edge", { MESSAGE_SERVICE_URL: message.url });
const browser = await launchChromium();
try {
  const api = restClient(edge.url);
  const say = (chat: string, sender: string, text: string) => api.call("POST", "/api/send", { json: { chat, sender, text } });
  await say("alice:carol", "carol", "Slides are in the shared folder.");
  await say("alice:dave", "dave", "Running 5 min late, start without me");
  for (const [sender, text] of [
    ["bob", "Hi Alice! Are we still on for lunch?"],
    ["alice", "Yes! 12:30 at the usual place?"],
    ["bob", "Perfect. I'll book a table."],
    ["bob", "They have a new dessert menu, by the way"],
  ] as const) {
    await say("alice:bob", sender, text);
  }
  await api.close();
  for (const { name, viewport, colorScheme } of [
    { name: "desktop-light", viewport: { width: 1100, height: 680 }, colorScheme: "light" as const },
    { name: "phone-dark", viewport: { width: 390, height: 780 }, colorScheme: "dark" as const },
  ]) {
    const context = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(edge.url);
    await page.getByLabel("Your id").fill("alice");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    await page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: "bob" }).click();
    await page.getByRole("log", { name: "Messages" }).getByText("dessert menu").waitFor();
    await page.getByLabel("Message", { exact: true }).fill("Can't wait");
    await page.screenshot({ path: new URL(`${name}.png`, out).pathname });
    await context.close();
    console.log(`wrote docs/screenshots/${name}.png`);
  }
} finally {
  await browser.close();
  await edge.stop();
  await message.stop();
}
