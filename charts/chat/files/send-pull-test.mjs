// `helm test`: sends a message through the edge's Service and pulls it back.
// Runs with plain Node (18+, global fetch); EDGE_URL names the edge, e.g. http://chat-edge:80.
// With EDGE_AUTH_MODE=jwt it first checks that /ping answers and that a send without a token is
// refused (401); it then sends and pulls only when EDGE_TOKEN holds a bearer token, as the
// token's subject, and otherwise says that part was skipped.
const base = (process.env.EDGE_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const deadline = Date.now() + Number(process.env.TEST_TIMEOUT_MS ?? 60_000);
const authMode = process.env.EDGE_AUTH_MODE || "none";
const token = process.env.EDGE_TOKEN || undefined;
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const text = `hello from helm test ${run}`;

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function call(path, init) {
  // Retries until the deadline while the stack settles (connection errors, 502/503/504) and
  // while a rate limit refuses (429, after its Retry-After).
  for (;;) {
    let wait = 1_000;
    try {
      const response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
      const body = await response.text();
      const retryable = response.status >= 502 || response.status === 429;
      if (!retryable || Date.now() > deadline) return { status: response.status, body };
      if (response.status === 429) wait = 1_000 * Math.max(1, Number(response.headers.get("retry-after")) || 1);
      console.log(`${path}: ${response.status}, retrying`);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${path}: ${error.message}`, { cause: error });
      console.log(`${path}: ${error.message}, retrying`);
    }
    await pause(Math.min(wait, Math.max(0, deadline - Date.now()) + 1));
  }
}

function check(condition, message) {
  if (!condition) {
    console.error(`FAIL: ${message}`);
    process.exit(1);
  }
}

/** The `sub` of a JWT, read without verifying it (the edge does that). */
function subjectOf(jwt) {
  try {
    const sub = JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8")).sub;
    if (typeof sub === "string" && sub !== "") return sub;
  } catch {
    // reported below
  }
  check(false, "EDGE_TOKEN is not a JWT with a sub claim");
}

const json = { "content-type": "application/json" };

if (authMode === "jwt") {
  const ping = await call("/ping", { method: "GET" });
  check(ping.status === 200, `GET /ping answered ${ping.status}: ${ping.body}`);
  const anonymous = await call("/api/send", {
    method: "POST",
    headers: json,
    body: JSON.stringify({ chat: "helm-test:nobody", text, sender: "helm-test" }),
  });
  check(anonymous.status === 401, `POST /api/send without a token answered ${anonymous.status}, not 401: ${anonymous.body}`);
  if (token === undefined) {
    console.log("SKIP: send and pull need a bearer token; set tests.tokenSecret to check them too");
    console.log("PASS: /ping answers and a send without a token is refused (401)");
    process.exit(0);
  }
}

const sender = token === undefined ? "helm-test" : subjectOf(token);
const chat = `${sender}:run-${run}`;
const authorization = token === undefined ? {} : { authorization: `Bearer ${token}` };

const sent = await call("/api/send", {
  method: "POST",
  headers: { ...json, ...authorization },
  // The same client_message_id on a retry makes the send idempotent.
  body: JSON.stringify({ chat, text, sender, client_message_id: run }),
});
check(sent.status === 200, `POST /api/send answered ${sent.status}: ${sent.body}`);
check(JSON.parse(sent.body).status === "success", `POST /api/send did not succeed: ${sent.body}`);

const query = new URLSearchParams({ chat, cursor: "0", limit: "10" });
const pulled = await call(`/api/pull?${query}`, { method: "GET", headers: authorization });
check(pulled.status === 200, `GET /api/pull answered ${pulled.status}: ${pulled.body}`);
const messages = JSON.parse(pulled.body).messages ?? [];
check(
  messages.length === 1 && messages[0].text === text && messages[0].sender === sender,
  `GET /api/pull did not return exactly the message sent: ${pulled.body}`,
);
console.log(`PASS: sent and pulled back "${text}" in chat ${chat}`);
