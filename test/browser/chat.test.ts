import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { freePort } from "../harness/ports.js";
import { startService, startStack, type ServiceProcess } from "../harness/services.js";
import { serviceKey } from "../support/service-keys.js";
import { signToken, testAudience, testIssuer, testSecret } from "../support/tokens.js";
import { launchChromium } from "../support/browser.js";
import { restClient } from "../support/http.js";
import { uniqueMember } from "../support/ids.js";

// A real Chromium against the real edge and message service, the page served by the edge
// from the client's build (services/web/dist, made by npm run build).
let browser: Browser;
let message: ServiceProcess;
let edge: ServiceProcess;
let edgePort: number;
const contexts: BrowserContext[] = [];

async function startEdge(): Promise<ServiceProcess> {
  return startService("edge", { MESSAGE_SERVICE_URL: message.url, PORT: String(edgePort), SHUTDOWN_TIMEOUT_MS: "2000" });
}

beforeAll(async () => {
  browser = await launchChromium();
  message = await startService("message", { MAX_TEXT_LENGTH: "200" });
  edgePort = await freePort();
  edge = await startEdge();
}, 60_000);
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});
afterAll(async () => {
  await browser?.close();
  await edge?.stop();
  await message?.stop();
});

/** Retries `check` until it passes (the page updates on its own time), for up to `timeout` ms. */
function eventually(check: () => Promise<void>, timeout = 15_000): Promise<void> {
  return vi.waitFor(check, { timeout, interval: 50 });
}

const textOf = async (locator: Locator) => ((await locator.count()) === 0 ? undefined : (await locator.first().innerText()).trim());
const hasText = (locator: Locator, text: string, timeout?: number) => eventually(async () => expect(await textOf(locator)).toBe(text), timeout);
const contains = (locator: Locator, text: string, timeout?: number) => eventually(async () => expect(await textOf(locator)).toContain(text), timeout);

/** A page signed in as `member`, its member stream live. */
async function signedIn(member: string, viewport = { width: 1200, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(edge.url);
  await page.getByLabel("Your id").fill(member);
  await page.getByRole("button", { name: "Sign in" }).click();
  await hasText(page.getByRole("status"), "Live");
  return page;
}

async function openChatWith(page: Page, other: string): Promise<void> {
  await page.getByLabel("Chat with").fill(other);
  await page.getByRole("button", { name: "Open chat" }).click();
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel("Message", { exact: true }).fill(text);
  await page.getByLabel("Message", { exact: true }).press("Enter");
}

/** The texts of the open chat's log, oldest first. */
const texts = (page: Page) => page.getByRole("log", { name: "Messages" }).locator(".message__text").allTextContents();

describe("the chat page in Chromium", () => {
  it("lets two people chat live: unread badge, cleared on opening, read receipt", { timeout: 60_000 }, async () => {
    const [alice, bob] = [uniqueMember("alice"), uniqueMember("bob")];
    const [alicePage, bobPage] = [await signedIn(alice), await signedIn(bob)];
    await openChatWith(alicePage, bob);
    await send(alicePage, "Hi Bob");
    await send(alicePage, "Lunch at noon?");
    await contains(alicePage.getByRole("log", { name: "Messages" }), "Lunch at noon?");
    await hasText(alicePage.locator(".message__receipt"), "Sent");
    // Bob's list shows the new chat live, with two unread.
    const bobList = bobPage.getByRole("list", { name: "Conversations" });
    const row = bobList.getByRole("listitem").filter({ hasText: alice });
    await contains(row, "Lunch at noon?");
    await hasText(row.locator(".badge"), "2 unread");
    await row.getByRole("button", { name: alice }).click();
    expect(await texts(bobPage)).toEqual(["Hi Bob", "Lunch at noon?"]);
    await eventually(async () => expect(await row.locator(".badge").count()).toBe(0));
    // Alice sees that Bob read it, then his answer arrives live.
    await hasText(alicePage.locator(".message__receipt"), "Read");
    // After a reload, the receipt comes from the list.
    await alicePage.reload();
    await hasText(alicePage.getByRole("status"), "Live");
    await alicePage.getByRole("list", { name: "Conversations" }).getByRole("button", { name: bob }).click();
    await hasText(alicePage.locator(".message__receipt"), "Read");
    await send(bobPage, "Yes!");
    await contains(alicePage.getByRole("log", { name: "Messages" }), "Yes!");
    expect(await texts(alicePage)).toEqual(["Hi Bob", "Lunch at noon?", "Yes!"]);
  });

  it("pages back through 200 messages by scrolling up, each once, in order", { timeout: 90_000 }, async () => {
    const [carol, dave] = [uniqueMember("carol"), uniqueMember("dave")];
    const chat = [carol, dave].sort().join(":");
    const api = restClient(edge.url);
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      const text = `history ${String(i).padStart(3, "0")}`;
      const reply = await api.call("POST", "/api/send", { json: { chat, sender: i % 2 ? carol : dave, text } });
      expect(reply.status).toBe(200);
      sent.push(text);
    }
    await api.close();
    const page = await signedIn(carol);
    await page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: dave }).click();
    const log = page.getByRole("log", { name: "Messages" });
    await contains(log, "history 199");
    await eventually(async () => {
      await log.evaluate((element) => (element.scrollTop = 0));
      expect(await texts(page)).toEqual(sent);
    }, 30_000);
    await contains(log, "This is the beginning of the conversation.");
  });

  it("shows Reconnecting… while the edge restarts, then Live, with what was sent meanwhile once", { timeout: 90_000 }, async () => {
    const [erin, frank] = [uniqueMember("erin"), uniqueMember("frank")];
    const page = await signedIn(erin);
    await openChatWith(page, frank);
    await send(page, "before the restart");
    await hasText(page.locator(".message__receipt"), "Sent");
    await edge.stop("SIGTERM");
    await hasText(page.getByRole("status"), "Reconnecting…");
    // Sent while this page's edge is away, through another edge on the same service.
    const other = await startService("edge", { MESSAGE_SERVICE_URL: message.url });
    const api = restClient(other.url);
    const chat = [erin, frank].sort().join(":");
    for (const text of ["while away 1", "while away 2"]) {
      expect((await api.call("POST", "/api/send", { json: { chat, sender: frank, text } })).status).toBe(200);
    }
    await api.close();
    await other.stop();
    edge = await startEdge();
    await hasText(page.getByRole("status"), "Live", 30_000);
    await contains(page.getByRole("log", { name: "Messages" }), "while away 2");
    await send(page, "after the restart");
    await contains(page.getByRole("log", { name: "Messages" }), "after the restart");
    expect(await texts(page)).toEqual(["before the restart", "while away 1", "while away 2", "after the restart"]);
  });

  it("shows a message with HTML and script in it as text", async () => {
    const [gina, hal] = [uniqueMember("gina"), uniqueMember("hal")];
    const page = await signedIn(gina);
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await openChatWith(page, hal);
    const hostile = `<img src=x onerror="alert('img')"><script>alert('script')</script><b>bold</b>`;
    await send(page, hostile);
    await contains(page.getByRole("log", { name: "Messages" }), "<b>bold</b>");
    expect(await texts(page)).toEqual([hostile]);
    expect(await page.getByRole("log", { name: "Messages" }).locator("img, script, b").count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it("shows an API refusal in words and keeps the message to retry", async () => {
    const [ivy, jack] = [uniqueMember("ivy"), uniqueMember("jack")];
    const page = await signedIn(ivy);
    await openChatWith(page, jack);
    await send(page, "x".repeat(201));
    const alert = page.getByRole("log", { name: "Messages" }).getByRole("alert");
    await contains(alert, "text is longer than 200 characters");
    expect(await alert.innerText()).not.toContain("invalid_argument");
    expect(await page.getByRole("button", { name: "Retry" }).isVisible()).toBe(true);
  });

  it("fits a phone: the list, then the chat with a way back", async () => {
    const [kim, lee] = [uniqueMember("kim"), uniqueMember("lee")];
    const page = await signedIn(kim, { width: 390, height: 844 });
    await openChatWith(page, lee);
    await send(page, "on the phone");
    await contains(page.getByRole("log", { name: "Messages" }), "on the phone");
    await page.getByRole("button", { name: "Back" }).click();
    await contains(page.getByRole("list", { name: "Conversations" }), "on the phone");
  });

  it("signs in with a token when the edge requires one, and acts as the token's user", { timeout: 60_000 }, async () => {
    const key = serviceKey("browser-test");
    const stack = await startStack(
      { AUTH_REQUIRE_USER: "true", SERVICE_AUTH_KEYS: key.entry },
      { AUTH_MODE: "jwt", AUTH_ISSUER: testIssuer, AUTH_AUDIENCE: testAudience, AUTH_JWT_SECRET: testSecret, SERVICE_AUTH_KEY: key.entry },
    );
    try {
      const [mia, ned] = [uniqueMember("mia"), uniqueMember("ned")];
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(stack.edge.url);
      expect(await page.getByLabel("Your id").count()).toBe(0);
      await page.getByLabel("Token").fill(await signToken(mia));
      await page.getByRole("button", { name: "Sign in" }).click();
      await hasText(page.getByRole("status"), "Live");
      await openChatWith(page, ned);
      await send(page, "signed in with a token");
      await hasText(page.locator(".message__receipt"), "Sent");
      const api = restClient(stack.edge.url);
      const pulled = await api.call("GET", `/api/pull?chat=${[mia, ned].sort().join(":")}`, { headers: { authorization: `Bearer ${await signToken(ned)}` } });
      await api.close();
      expect(pulled.body.messages.map((m: { sender: string; text: string }) => [m.sender, m.text])).toEqual([[mia, "signed in with a token"]]);
    } finally {
      await stack.stop();
    }
  });
});
