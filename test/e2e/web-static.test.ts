import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startService, startStack, type ServiceProcess, type Stack } from "../harness/services.js";
import { restClient, type HttpReply } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { rawExchange } from "../support/raw-http.js";
import { testAudience, testIssuer, testSecret } from "../support/tokens.js";

const pagePolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** What a browser sends when it navigates to a page. */
const navigation = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };
const indexHtml = '<!doctype html><html><head><script type="module" src="/assets/app-1a2b3c4d.js"></script></head><body><div id="app"></div></body></html>\n';
const script = 'document.getElementById("app").textContent = "hi";\n';
const stylesheet = "body { margin: 0; }\n";
/** A file beside WEB_ROOT, never inside it: no request may read it. */
const secret = "TOP-SECRET-beside-the-web-root";

interface TextReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

async function fetchText(baseUrl: string, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<TextReply> {
  const reply = await request(`${baseUrl}${path}`, { method: method as "GET", headers });
  return { status: reply.statusCode, headers: reply.headers, text: await reply.body.text() };
}

/** Sends `path` byte for byte (no client-side normalisation of `..`), and answers status and body. */
async function rawGet(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; head: string; body: string }> {
  const lines = [`GET ${path} HTTP/1.1`, `host: ${new URL(baseUrl).host}`, "connection: close", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  const raw = await rawExchange(baseUrl, `${lines.join("\r\n")}\r\n\r\n`);
  const [head = "", body = ""] = raw.split("\r\n\r\n", 2);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), head: head.toLowerCase(), body };
}

function expectNotFoundJson(reply: TextReply | { status: number; head: string; body: string }) {
  expect(reply.status).toBe(404);
  const text = "text" in reply ? reply.text : reply.body;
  expect(JSON.parse(text).error.code).toBe("not_found");
  if ("headers" in reply) {
    expect(reply.headers["content-type"]).toMatch(/^application\/json/);
    expect(reply.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
  }
}

/** The security headers every API answer had before the page existed. */
function expectApiHeaders(reply: HttpReply | TextReply) {
  expect(reply.headers["x-content-type-options"]).toBe("nosniff");
  expect(reply.headers["cache-control"]).toBe("no-store");
  expect(reply.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(reply.headers["x-frame-options"]).toBe("DENY");
  expect(reply.headers["referrer-policy"]).toBe("no-referrer");
}

function expectPageHeaders(reply: TextReply) {
  expect(reply.headers["content-security-policy"]).toBe(pagePolicy);
  expect(reply.headers["x-content-type-options"]).toBe("nosniff");
  expect(reply.headers["referrer-policy"]).toBe("no-referrer");
  expect(reply.headers["last-modified"]).toEqual(expect.any(String));
}

let scratch: string;
let webRoot: string;
let stack: Stack;
let api: ReturnType<typeof restClient>;
const extraEdges: ServiceProcess[] = [];

async function startEdge(env: Record<string, string>): Promise<ServiceProcess> {
  const edge = await startService("edge", { MESSAGE_SERVICE_URL: stack.message.url, ...env });
  extraEdges.push(edge);
  return edge;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "chat-web-"));
  webRoot = join(scratch, "site");
  mkdirSync(join(webRoot, "assets"), { recursive: true });
  writeFileSync(join(webRoot, "index.html"), indexHtml);
  writeFileSync(join(webRoot, "assets/app-1a2b3c4d.js"), script);
  writeFileSync(join(webRoot, "assets/app-1a2b3c4d.css"), stylesheet);
  writeFileSync(join(webRoot, ".env"), `SECRET=${secret}\n`);
  writeFileSync(join(webRoot, "assets/.hidden.js"), secret);
  writeFileSync(join(scratch, "secret.txt"), secret);
  stack = await startStack({ REDIS_URL: inject("redisUrl") }, { WEB_ROOT: webRoot });
  api = restClient(stack.edge.url);
});
afterAll(async () => {
  await api?.close();
  for (const edge of extraEdges) await edge.stop();
  await stack?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("the web client's files", () => {
  it("serves index.html at / with its type, no-cache, and the page's own security headers", async () => {
    const reply = await fetchText(stack.edge.url, "/", navigation);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(indexHtml);
    expect(reply.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(reply.headers["cache-control"]).toBe("no-cache");
    expectPageHeaders(reply);
    expect((await fetchText(stack.edge.url, "/index.html")).headers["cache-control"]).toBe("no-cache");
  });

  it("serves hashed scripts and stylesheets with their types, cached for a year as immutable", async () => {
    const js = await fetchText(stack.edge.url, "/assets/app-1a2b3c4d.js", { accept: "*/*" });
    expect(js.status).toBe(200);
    expect(js.text).toBe(script);
    expect(js.headers["content-type"]).toMatch(/^(text|application)\/javascript; charset=utf-8$/);
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expectPageHeaders(js);
    const css = await fetchText(stack.edge.url, "/assets/app-1a2b3c4d.css", { accept: "text/css,*/*;q=0.1" });
    expect(css.status).toBe(200);
    expect(css.text).toBe(stylesheet);
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    expect(css.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expectPageHeaders(css);
  });

  it("answers HEAD with the headers of GET and no body", async () => {
    for (const path of ["/", "/assets/app-1a2b3c4d.js", "/chats/alice:bob"]) {
      const get = await fetchText(stack.edge.url, path, navigation);
      const head = await fetchText(stack.edge.url, path, navigation, "HEAD");
      expect(head.status).toBe(200);
      expect(head.text).toBe("");
      for (const name of ["content-type", "content-length", "cache-control", "content-security-policy", "last-modified"]) {
        expect(head.headers[name], `${path} ${name}`).toBe(get.headers[name]);
      }
    }
  });

  it("answers a revalidation of an unchanged file with 304", async () => {
    const first = await fetchText(stack.edge.url, "/");
    const again = await fetchText(stack.edge.url, "/", { "if-modified-since": String(first.headers["last-modified"]) });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
  });

  it("answers index.html for a client route a browser navigates to, and nothing else", async () => {
    const route = await fetchText(stack.edge.url, "/chats/alice:bob?x=1", navigation);
    expect(route.status).toBe(200);
    expect(route.text).toBe(indexHtml);
    expect(route.headers["cache-control"]).toBe("no-cache");
    expectPageHeaders(route);
    // A script or fetch (Accept */*) gets the 404 it would get for any missing file.
    expectNotFoundJson(await fetchText(stack.edge.url, "/chats/alice:bob", { accept: "*/*" }));
    expectNotFoundJson(await fetchText(stack.edge.url, "/chats/alice:bob"));
  });

  it("answers 404 JSON for a missing asset, even to a browser", async () => {
    expectNotFoundJson(await fetchText(stack.edge.url, "/assets/app-00000000.js", { accept: "*/*" }));
    expectNotFoundJson(await fetchText(stack.edge.url, "/assets/app-00000000.js", navigation));
    expectNotFoundJson(await fetchText(stack.edge.url, "/assets/", navigation));
  });

  it("serves no dotfile", async () => {
    for (const path of ["/.env", "/assets/.hidden.js", "/.env/"]) {
      for (const headers of [{}, navigation]) {
        const reply = await fetchText(stack.edge.url, path, headers);
        expectNotFoundJson(reply);
        expect(reply.text).not.toContain(secret);
      }
    }
  });

  it("never serves a file outside WEB_ROOT, however the path is encoded", async () => {
    const attempts = [
      "/..%2fsecret.txt",
      "/..%2f..%2fetc/passwd",
      "/assets/../../package.json",
      "/assets/../../secret.txt",
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/%2E%2E%2Fsecret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
      "/..%5csecret.txt",
      "/%252e%252e/secret.txt",
      "/index.html%00.js",
      "/%c0%ae%c0%ae/secret.txt",
      "/%ff",
      `/${encodeURIComponent(join(scratch, "secret.txt"))}`,
      `/${"..%2f".repeat(12)}etc%2fpasswd`,
    ];
    const packageJson = readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8");
    for (const path of attempts) {
      const reply = await rawGet(stack.edge.url, path);
      expect(reply.status, path).toBe(404);
      expect(JSON.parse(reply.body).error.code, path).toBe("not_found");
      for (const leaked of [secret, "root:", packageJson.slice(0, 40)]) expect(reply.body, path).not.toContain(leaked);
    }
    // A browser gets no page for them either: they are no client route.
    for (const path of attempts.filter((attempt) => !attempt.includes("%25"))) {
      const reply = await rawGet(stack.edge.url, path, navigation);
      expect(reply.status, path).toBe(404);
      expect(reply.body, path).not.toContain(secret);
    }
  });

  it("labels the page's requests in the request log", async () => {
    await fetchText(stack.edge.url, "/assets/app-1a2b3c4d.css");
    expect(stack.edge.logs.some((line) => line.msg === "request" && line.route === "web client" && line.status === 200)).toBe(true);
  });
});

describe("the API beside the page", () => {
  it("keeps answering unknown /api routes, and the probes, as before, even to a browser", async () => {
    for (const headers of [{}, navigation]) {
      const unknown = await fetchText(stack.edge.url, "/api/nothing", headers);
      expectNotFoundJson(unknown);
      expectApiHeaders(unknown);
      expectNotFoundJson(await fetchText(stack.edge.url, "/api", headers));
      expectNotFoundJson(await fetchText(stack.edge.url, "/metrics", headers));
      const ping = await fetchText(stack.edge.url, "/ping", headers);
      expect(JSON.parse(ping.text)).toEqual({ message: "pong" });
      expectApiHeaders(ping);
      expect(JSON.parse((await fetchText(stack.edge.url, "/healthz", headers)).text)).toEqual({ status: "ok" });
      expect(JSON.parse((await fetchText(stack.edge.url, "/readyz", headers)).text)).toEqual({ status: "ready" });
    }
    // Wrong methods keep their 405, and other methods on the page's paths their 404.
    expect((await api.call("GET", "/api/send")).status).toBe(405);
    expect((await api.call("POST", "/")).status).toBe(404);
  });

  it("sends and pulls as before, with the API's security headers", async () => {
    const { chat, a } = uniqueChat();
    const sent = await api.call("POST", "/api/send", { json: { chat, text: "hello", sender: a }, headers: navigation });
    expect(sent.status).toBe(200);
    expect(sent.body.message.text).toBe("hello");
    expectApiHeaders(sent);
    const pulled = await api.call("GET", `/api/pull?chat=${encodeURIComponent(chat)}`, { headers: navigation });
    expect(pulled.status).toBe(200);
    expect(pulled.body.messages.map((m: { text: string }) => m.text)).toEqual(["hello"]);
    expectApiHeaders(pulled);
  });

  it("tells the page the authentication mode at /api/client-config, uncached", async () => {
    const reply = await api.call("GET", "/api/client-config");
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ auth_mode: "none" });
    expectApiHeaders(reply);
  });

  it("does not count the page's files against the rate limits", async () => {
    const edge = await startEdge({ WEB_ROOT: webRoot, RATE_LIMIT_PULL_PER_MINUTE: "1" });
    for (let i = 0; i < 5; i++) expect((await fetchText(edge.url, "/chats/alice:bob", navigation)).status).toBe(200);
    const client = restClient(edge.url);
    try {
      const { chat } = uniqueChat();
      expect((await client.call("GET", `/api/pull?chat=${encodeURIComponent(chat)}`)).status).toBe(200);
      expect((await client.call("GET", `/api/pull?chat=${encodeURIComponent(chat)}`)).status).toBe(429);
      expect((await fetchText(edge.url, "/", navigation)).status).toBe(200);
    } finally {
      await client.close();
    }
  });
});

describe("switched off or missing", () => {
  it("serves no page with WEB_UI=false: / is a 404 like any unknown route, the API unchanged", async () => {
    const edge = await startEdge({ WEB_ROOT: webRoot, WEB_UI: "false" });
    for (const path of ["/", "/index.html", "/assets/app-1a2b3c4d.js", "/chats/alice:bob"]) {
      const reply = await fetchText(edge.url, path, navigation);
      expectNotFoundJson(reply);
      expectApiHeaders(reply);
    }
    expect(JSON.parse((await fetchText(edge.url, "/api/client-config")).text)).toEqual({ auth_mode: "none" });
  });

  it("warns once and serves no page when WEB_ROOT has no index.html, the API working", async () => {
    const empty = mkdtempSync(join(scratch, "empty-"));
    const edge = await startEdge({ WEB_ROOT: empty });
    expectNotFoundJson(await fetchText(edge.url, "/", navigation));
    expect(JSON.parse((await fetchText(edge.url, "/ping")).text)).toEqual({ message: "pong" });
    const warnings = edge.logs.filter((line) => typeof line.msg === "string" && line.msg.startsWith("web client:"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, root: empty });
  });
});

describe("with authentication and the default WEB_ROOT", () => {
  let edge: ServiceProcess;
  beforeAll(async () => {
    edge = await startEdge({ AUTH_MODE: "jwt", AUTH_ISSUER: testIssuer, AUTH_AUDIENCE: testAudience, AUTH_JWT_SECRET: testSecret });
  });

  it("tells the page to sign in with a token, asking none for it", async () => {
    const reply = await fetchText(edge.url, "/api/client-config");
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ auth_mode: "jwt" });
    expectApiHeaders(reply);
    // The API itself still asks for one.
    expect((await fetchText(edge.url, "/api/pull?chat=a:b")).status).toBe(401);
  });

  const builtIndex = fileURLToPath(new URL("../../services/web/dist/index.html", import.meta.url));
  it.skipIf(!existsSync(builtIndex))("serves the built services/web/dist by default", async () => {
    const reply = await fetchText(edge.url, "/", navigation);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(readFileSync(builtIndex, "utf8"));
    expectPageHeaders(reply);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(reply.text)?.[1];
    expect(script).toBeDefined();
    const js = await fetchText(edge.url, script!);
    expect(js.status).toBe(200);
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
  });
});
