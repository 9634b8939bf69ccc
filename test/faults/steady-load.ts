import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request } from "undici";
import { waitFor } from "../harness/wait.js";

/** What happened to one message a client tried to send. */
export interface SendRecord {
  readonly text: string;
  /** HTTP status of every attempt, or "connection" when no response came. */
  readonly attempts: (number | "connection")[];
  /** Milliseconds each attempt took. */
  readonly durations: number[];
  /** send_time from the 200 that acknowledged it, if one did. */
  sendTime?: number;
}

export interface SteadyLoadOptions {
  readonly baseUrl: () => string;
  readonly chat: string;
  readonly sender: string;
  readonly concurrency: number;
  /** Checked before each new message; the load ends when it returns true. */
  readonly done: () => boolean;
  /** Hard cap on messages, so the loop is bounded whatever `done` says. */
  readonly maxMessages: number;
  /** Attempts per message (first included) on 503, 504 or a connection error. */
  readonly maxAttempts?: number;
  readonly retryPauseMs?: number;
  /** Send without an Idempotency-Key, trying each message once: only the edge's own retries protect it. */
  readonly keyless?: boolean;
}

/**
 * Whether `error` is the network failing (refused, reset, cut, timed out), which a client
 * retries, rather than a bug in this code or in what the server answered.
 */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string" || code === "UND_ERR_INVALID_ARG") return false;
  return code.startsWith("UND_ERR_") || /^E[A-Z]+$/.test(code);
}

/** The send_time a 200 answered; throws when the answer is not the acknowledged message. */
function acknowledgedSendTime(body: string): number {
  const sendTime = (JSON.parse(body) as { message?: { send_time?: unknown } }).message?.send_time;
  if (typeof sendTime !== "number") throw new Error(`a 200 without message.send_time: ${body}`);
  return sendTime;
}

/**
 * Clients that each send one message at a time into one chat, each message with its own
 * Idempotency-Key, retrying the same key on retryable failures as a well-behaved client does
 * (or, `keyless`, sending each once without a key). Anything other than an answer or a connection error stops every client and rejects (the
 * rejection counts as handled until the caller awaits it: pass the promise to waitForStored).
 */
export function steadySends(options: SteadyLoadOptions): Promise<SendRecord[]> {
  const load = runClients(options);
  load.catch(() => {});
  return load;
}

async function runClients(options: SteadyLoadOptions): Promise<SendRecord[]> {
  const dispatcher = new Agent({ connections: options.concurrency, connectTimeout: 2_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
  const records: SendRecord[] = [];
  const maxAttempts = options.keyless ? 1 : (options.maxAttempts ?? 60);
  const pause = options.retryPauseMs ?? 100;
  let next = 0;
  let failure: unknown;

  async function attempt(record: SendRecord, key: string): Promise<{ status: number; body: string } | undefined> {
    const started = performance.now();
    try {
      const reply = await request(`${options.baseUrl()}/api/send`, {
        method: "POST",
        dispatcher,
        headers: { "content-type": "application/json", ...(options.keyless ? {} : { "idempotency-key": key }) },
        body: JSON.stringify({ chat: options.chat, sender: options.sender, text: record.text }),
      });
      const body = await reply.body.text();
      record.attempts.push(reply.statusCode);
      record.durations.push(performance.now() - started);
      return { status: reply.statusCode, body };
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      record.attempts.push("connection");
      record.durations.push(performance.now() - started);
      return undefined;
    }
  }

  async function send(record: SendRecord, key: string): Promise<void> {
    for (let tries = 0; tries < maxAttempts && failure === undefined; tries++) {
      const reply = await attempt(record, key);
      if (reply?.status === 200) {
        record.sendTime = acknowledgedSendTime(reply.body);
        return;
      }
      if (reply !== undefined && reply.status !== 503 && reply.status !== 504) return;
      await sleep(pause);
    }
  }

  async function client(): Promise<void> {
    try {
      while (failure === undefined && !options.done() && next < options.maxMessages) {
        const id = next++;
        const record: SendRecord = { text: `message ${id}`, attempts: [], durations: [] };
        records.push(record);
        await send(record, `load-${options.chat}-${id}`);
      }
    } catch (error) {
      failure ??= error;
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, client));
  await dispatcher.close();
  if (failure !== undefined) throw failure;
  return records;
}

export interface StoredMessage {
  readonly text: string;
  readonly send_time: number;
}

interface Page {
  messages: StoredMessage[];
  has_more: boolean;
  next_cursor: number;
}

/** One page, retried on 503 as a client would while the system heals. */
async function pullPage(baseUrl: string, chat: string, cursor: number): Promise<Page> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const reply = await request(`${baseUrl}/api/pull?chat=${encodeURIComponent(chat)}&limit=100&cursor=${cursor}`);
    const body = (await reply.body.json()) as Page;
    if (reply.statusCode === 200) return body;
    if (reply.statusCode !== 503) throw new Error(`pull answered ${reply.statusCode}: ${JSON.stringify(body)}`);
    await sleep(100);
  }
  throw new Error("pull kept answering 503");
}

/** Every message of a chat, oldest first, following next_cursor. */
export async function pullAll(baseUrl: string, chat: string): Promise<StoredMessage[]> {
  const stored: StoredMessage[] = [];
  let cursor = 0;
  for (let page = 0; page < 10_000; page++) {
    const body = await pullPage(baseUrl, chat, cursor);
    stored.push(...body.messages);
    if (!body.has_more) return stored;
    cursor = body.next_cursor;
  }
  throw new Error("pagination did not end");
}

/**
 * Waits until a chat holds at least `count` messages: steady traffic is flowing. A failure of
 * `load` ends the wait with its own error.
 */
export async function waitForStored(baseUrl: string, chat: string, count: number, load: Promise<unknown>): Promise<void> {
  const stored = waitFor(`${count} messages stored`, async () => (await pullAll(baseUrl, chat)).length >= count, {
    timeoutMs: 20_000,
    intervalMs: 100,
  });
  await Promise.race([stored, load.then(() => stored)]);
}

/** The counts a fault test reports, and what it asserts on. */
export function tally(records: readonly SendRecord[], stored: readonly StoredMessage[]) {
  const acknowledged = records.filter((record) => record.sendTime !== undefined);
  const storedByText = new Map<string, StoredMessage[]>();
  for (const message of stored) storedByText.set(message.text, [...(storedByText.get(message.text) ?? []), message]);
  const statuses = records.flatMap((record) => record.attempts);
  return {
    sent: records.length,
    acknowledged: acknowledged.length,
    stored: stored.length,
    lost: acknowledged.filter((record) => !storedByText.has(record.text)).length,
    duplicated: [...storedByText.values()].filter((copies) => copies.length > 1).length,
    /** Acknowledged with a send_time other than the stored one: a retry stored a copy. */
    wrongSendTime: acknowledged.filter((record) => storedByText.get(record.text)?.[0]?.send_time !== record.sendTime).length,
    retried: records.filter((record) => record.attempts.length > 1).length,
    unexpectedStatuses: statuses.filter((status) => status !== 200 && status !== 503 && status !== "connection"),
    failedStatuses: statuses.filter((status) => status !== 200).length,
    outOfOrder: stored.filter((message, i) => i > 0 && message.send_time <= stored[i - 1]!.send_time).length,
  };
}

/** The p-th percentile (0–100) of some numbers; there is none of no numbers. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error(`no values to take the ${p}th percentile of`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
