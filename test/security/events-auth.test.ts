import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startStack, type Stack } from "../harness/services.js";
import { openEventStream, type EventStream } from "../support/event-stream.js";
import { restClient, type RestClient } from "../support/http.js";
import { uniqueChat } from "../support/ids.js";
import { serviceKey } from "../support/service-keys.js";
import { bearer, signToken, testAudience, testIssuer, testSecret } from "../support/tokens.js";

describe("GET /api/events with bearer tokens (AUTH_MODE=jwt, caller authentication on)", () => {
  let stack: Stack;
  let api: RestClient;
  const streams: EventStream[] = [];
  const key = serviceKey("events-test");

  beforeAll(async () => {
    stack = await startStack(
      { REDIS_URL: inject("redisUrl"), AUTH_REQUIRE_USER: "true", SERVICE_AUTH_KEYS: key.entry },
      { AUTH_MODE: "jwt", AUTH_ISSUER: testIssuer, AUTH_AUDIENCE: testAudience, AUTH_JWT_SECRET: testSecret, SERVICE_AUTH_KEY: key.entry },
    );
    api = restClient(stack.edge.url);
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await api?.close();
    await stack?.stop();
  });

  it("streams a member's chat with the token in the Authorization header or in access_token", async () => {
    const { chat, a, b } = uniqueChat();
    const token = await signToken(b);
    const byHeader = await openEventStream(`${stack.edge.url}/api/events?chat=${chat}`, bearer(token));
    const byQuery = await openEventStream(`${stack.edge.url}/api/events?chat=${chat}&access_token=${token}`);
    streams.push(byHeader, byQuery);
    const sent = await api.call("POST", "/api/send", { json: { chat, sender: a, text: "to b" }, headers: bearer(await signToken(a)) });
    expect(sent.status).toBe(200);
    for (const stream of [byHeader, byQuery]) expect((await stream.until(1))[0]!.data).toEqual(sent.body.message);
  });

  it("refuses a stream without a token (401), with a bad one (401), and of a chat the user is not in (403)", async () => {
    const { chat } = uniqueChat();
    const none = await api.call("GET", `/api/events?chat=${chat}`);
    expect(none.status).toBe(401);
    expect(none.body.error.message).toMatch(/\?access_token=<token>/);
    const forged = await api.call("GET", `/api/events?chat=${chat}&access_token=${await signToken("x", {}, new TextEncoder().encode("another-secret-of-at-least-32-bytes!"))}`);
    expect(forged.status).toBe(401);
    const outsider = await api.call("GET", `/api/events?chat=${chat}`, { headers: bearer(await signToken("mallory")) });
    expect(outsider.status).toBe(403);
    expect(outsider.body.error).toEqual({ code: "permission_denied", message: `you are not a member of chat "${chat}"` });
  });

  it("never writes the access_token into its logs", async () => {
    const { chat, a } = uniqueChat();
    const token = await signToken(a);
    const stream = await openEventStream(`${stack.edge.url}/api/events?chat=${chat}&access_token=${token}`);
    stream.close();
    await api.call("GET", `/api/events?chat=${chat}:x&access_token=${token}`);
    const logged = JSON.stringify([...stack.edge.logs, ...stack.message.logs]);
    expect(logged).toContain("/api/events");
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(token.split(".")[2]!);
  });
});
