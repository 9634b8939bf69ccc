// `helm test`: sends a message through the edge's Service and pulls it back.
// Runs with plain Node (18+, global fetch); EDGE_URL names the edge, e.g. http://chat-edge:80.
const base = (process.env.EDGE_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const deadline = Date.now() + Number(process.env.TEST_TIMEOUT_MS ?? 60_000);
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const chat = `helm-test:run-${run}`;
const text = `hello from helm test ${run}`;

async function call(path, init) {
  // Retries until the deadline while the stack settles (connection errors, 502/503/504).
  for (;;) {
    try {
      const response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
      const body = await response.text();
      if (response.status < 502 || Date.now() > deadline) return { status: response.status, body };
      console.log(`${path}: ${response.status}, retrying`);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${path}: ${error.message}`, { cause: error });
      console.log(`${path}: ${error.message}, retrying`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

function check(condition, message) {
  if (!condition) {
    console.error(`FAIL: ${message}`);
    process.exit(1);
  }
}

const sent = await call("/api/send", {
  method: "POST",
  headers: { "content-type": "application/json" },
  // The same client_message_id on a retry makes the send idempotent.
  body: JSON.stringify({ chat, text, sender: "helm-test", client_message_id: run }),
});
check(sent.status === 200, `POST /api/send answered ${sent.status}: ${sent.body}`);
check(JSON.parse(sent.body).status === "success", `POST /api/send did not succeed: ${sent.body}`);

const query = new URLSearchParams({ chat, cursor: "0", limit: "10" });
const pulled = await call(`/api/pull?${query}`, { method: "GET" });
check(pulled.status === 200, `GET /api/pull answered ${pulled.status}: ${pulled.body}`);
const messages = JSON.parse(pulled.body).messages ?? [];
check(
  messages.length === 1 && messages[0].text === text && messages[0].sender === "helm-test",
  `GET /api/pull did not return exactly the message sent: ${pulled.body}`,
);
console.log(`PASS: sent and pulled back "${text}" in chat ${chat}`);
