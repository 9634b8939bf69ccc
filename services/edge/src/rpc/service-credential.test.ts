import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { parseServiceKey, type ServiceKey } from "@chat/runtime";
import { loadServiceCredentialConfig } from "./credential-config.js";
import { createServiceCredential, ServiceCredential, type SigningKey } from "./service-credential.js";

const key = (id: string) => parseServiceKey(`${id}=${randomBytes(32).toString("base64url")}`, "K");
const start = Date.UTC(2026, 0, 1);

/** A fixed signing key that counts how often a new assertion was signed. */
function countingKey(signing: ServiceKey): SigningKey & { mints: number } {
  return {
    mints: 0,
    get current() {
      return signing;
    },
    refresh() {
      this.mints++;
      return undefined;
    },
  };
}

const tokenOf = async (header: string | Promise<string>) => (await header).replace(/^Bearer /, "");

describe("ServiceCredential", () => {
  it("mints an HS256 assertion from chat-edge to chat-message, valid 60 s, naming its key", async () => {
    const signing = key("2026-01");
    const clock = { ms: start };
    const token = await tokenOf(new ServiceCredential(countingKey(signing), { now: () => clock.ms }).header());
    const { payload, protectedHeader } = await jwtVerify(token, signing.secret, {
      issuer: "chat-edge",
      audience: "chat-message",
      algorithms: ["HS256"],
      currentDate: new Date(clock.ms),
    });
    expect(protectedHeader).toMatchObject({ alg: "HS256", kid: "2026-01" });
    expect(payload.iat).toBe(start / 1000);
    expect(payload.exp).toBe(start / 1000 + 60);
  });

  it("reuses one assertion until half its lifetime has passed, then mints the next in the background", async () => {
    const clock = { ms: start };
    const signing = countingKey(key("k"));
    const credential = new ServiceCredential(signing, { now: () => clock.ms });
    const first = await credential.header();
    expect(signing.mints).toBe(1);
    clock.ms += 29_999;
    expect(credential.header()).toBe(first);
    expect(signing.mints).toBe(1);
    clock.ms += 1;
    // Past half-life: this call still gets the valid assertion at once, and a new one is minted.
    expect(credential.header()).toBe(first);
    expect(signing.mints).toBe(2);
    await expect.poll(() => credential.header()).not.toBe(first);
    const second = credential.header();
    expect(typeof second).toBe("string");
    expect((await jwtVerify(await tokenOf(second), signing.current.secret, { currentDate: new Date(clock.ms) })).payload.iat).toBe(start / 1000 + 30);
    expect(signing.mints).toBe(2);
  });

  it("makes a call wait for a new assertion once the old one is about to expire, minting once for many calls", async () => {
    const clock = { ms: start };
    const signing = countingKey(key("k"));
    const credential = new ServiceCredential(signing, { now: () => clock.ms });
    const first = await credential.header();
    clock.ms += 56_000;
    const waiting = [credential.header(), credential.header(), credential.header()];
    expect(waiting.every((header) => header instanceof Promise)).toBe(true);
    const headers = await Promise.all(waiting);
    expect(new Set(headers).size).toBe(1);
    expect(headers[0]).not.toBe(first);
    expect(signing.mints).toBe(2);
  });

  it("signs with the key file's new key from the next assertion on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "service-credential-"));
    try {
      const file = join(dir, "signing-key");
      const [old, next] = [key("old"), key("next")];
      const encode = (k: ServiceKey) => `${k.id}=${Buffer.from(k.secret).toString("base64url")}\n`;
      writeFileSync(file, encode(old));
      const config = loadServiceCredentialConfig({ SERVICE_AUTH_KEY_FILE: file })!;
      expect(config.key.id).toBe("old");
      const clock = { ms: start };
      const credential = createServiceCredential(config, pino({ level: "silent" }), () => clock.ms);
      const kid = async () => decodeProtectedHeader(await tokenOf(credential.header())).kid;
      expect(await kid()).toBe("old");
      writeFileSync(file, encode(next));
      clock.ms += 29_000;
      expect(await kid()).toBe("old");
      clock.ms += 1_000;
      await expect.poll(kid).toBe("next");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
