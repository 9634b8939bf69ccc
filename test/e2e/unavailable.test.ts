import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../harness/ports.js";
import { startService, type ServiceProcess } from "../harness/services.js";
import { restClient, type RestClient } from "../support/http.js";

let edge: ServiceProcess;
let api: RestClient;

beforeAll(async () => {
  // Nothing listens on this port: the message service is down.
  edge = await startService("edge", { MESSAGE_SERVICE_URL: `http://127.0.0.1:${await freePort()}` });
  api = restClient(edge.url);
});
afterAll(async () => {
  await api?.close();
  await edge?.stop();
});

it("answers 503 with Retry-After, not 500, while the message service is unreachable", async () => {
  for (const [method, path, json] of [
    ["POST", "/api/send", { chat: "a:b", text: "x", sender: "a" }],
    ["GET", "/api/pull", { chat: "a:b" }],
  ] as const) {
    const reply = await api.call(method, path, { json });
    expect(reply.status).toBe(503);
    expect(reply.headers["retry-after"]).toBe("1");
    expect(reply.body.error).toEqual({ code: "unavailable", message: expect.stringMatching(/retry/) });
  }
  expect((await api.call("GET", "/ping")).status).toBe(200);
});
