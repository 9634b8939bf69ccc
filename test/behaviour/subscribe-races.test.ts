import fc from "fast-check";
import type { Message, SubscribeResponse } from "@chat/proto";
import { afterAll, describe, expect, it } from "vitest";
import type { AppendInput, ChatNotifier, MessageStore, PageQuery } from "../../services/message/src/store/store.js";
import { waitFor } from "../harness/wait.js";
import { uniqueChat } from "../support/ids.js";
import { engineNames, openEngine, serviceClient, type Service } from "./engines.js";
import { subscribe, type LiveStream } from "./live-stream.js";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jitter = (maxMs: number) => pause(Math.random() * maxMs);

/**
 * The real store, with a random pause before each read a subscription makes and before its
 * wake-up subscription takes effect: the moments between subscribing, reading the backlog
 * and going live stretch, and sends fall into them.
 */
function withPauses(store: MessageStore, maxMs: number): MessageStore {
  const notifier: ChatNotifier = {
    watch: async (chatId, wake) => {
      await jitter(maxMs);
      return store.notifier.watch(chatId, wake);
    },
    onMissedWakeUps: (listener) => store.notifier.onMissedWakeUps(listener),
  };
  return {
    notifier,
    append: (chatId: string, input: AppendInput) => store.append(chatId, input),
    page: (chatId: string, query: PageQuery) => store.page(chatId, query),
    after: async (chatId, sendTime, limit) => {
      await jitter(maxMs);
      return store.after(chatId, sendTime, limit);
    },
    newest: async (chatId) => {
      await jitter(maxMs);
      return store.newest(chatId);
    },
    continuity: async (chatId, position) => {
      await jitter(maxMs);
      return store.continuity(chatId, position);
    },
    summary: (chatId, member, readCursor, cap) => store.summary(chatId, member, readCursor, cap),
    members: store.members,
    check: () => store.check(),
    close: () => store.close(),
  };
}

const messagesOf = (events: readonly SubscribeResponse[]) =>
  events.flatMap((response) => (response.event.case === "message" ? [response.event.value] : []));

/** Every message of a chat from `cursor` on, oldest first. */
async function history(client: Service, chat: string, cursor = 0n): Promise<Message[]> {
  const all: Message[] = [];
  for (let page = await client.pull({ chat, cursor, limit: 50 }); ; page = await client.pull({ chat, cursor: page.nextCursor, limit: 50 })) {
    all.push(...page.messages);
    if (!page.hasMore) return all;
  }
}

describe.each(engineNames)("Subscribe under races on the %s engine", (engine) => {
  const stores: MessageStore[] = [];
  const open = async () => {
    const store = openEngine(engine);
    stores.push(store);
    await waitFor(`the ${engine} engine`, () => store.check().then(() => true));
    return store;
  };
  afterAll(() => Promise.all(stores.map((store) => store.close())));

  it("misses nothing when sends fall between subscribing, reading the backlog and going live", async () => {
    const client = await serviceClient(withPauses(await open(), 30));
    try {
      for (let round = 0; round < 5; round++) {
        const { chat, a, b } = uniqueChat();
        const first = (await client.send({ chat, sender: a, text: "first" })).message!;
        let sending = true;
        const sends = (async () => {
          for (let i = 0; sending && i < 200; i++) {
            await client.send({ chat, sender: i % 2 ? a : b, text: `c${i}` });
            await jitter(3);
          }
        })();
        const stream = await subscribe(client, { chats: [{ chat, cursor: first.sendTime }] });
        await pause(100);
        sending = false;
        await sends;
        const stored = await history(client, chat);
        await stream.untilHolds((events) => events.length >= stored.length, `all ${stored.length} messages`);
        await pause(50);
        stream.close();
        expect(messagesOf(stream.events)).toEqual(stored);
      }
    } finally {
      client.close();
    }
  });

  it("delivers within the check interval when every wake-up is lost", async () => {
    const store = await open();
    const deaf: MessageStore = {
      ...withPauses(store, 0),
      notifier: { watch: async () => () => {}, onMissedWakeUps: () => () => {} },
    };
    const client = await serviceClient(deaf, { subscribe: { checkIntervalMs: 300 } });
    try {
      const { chat, a } = uniqueChat();
      const stream = await subscribe(client, { chats: [{ chat }] });
      const sent = (await client.send({ chat, sender: a, text: "unannounced" })).message!;
      const started = Date.now();
      await stream.untilHolds((events) => events.length === 1, "the message without a wake-up", 5_000);
      stream.close();
      expect(messagesOf(stream.events)).toEqual([sent]);
      // The check runs every 300 ms; a busy machine gets a generous margin.
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      client.close();
    }
  });

  it("property: random sends into a few chats while the client drops and resumes its stream: every message once, in order per chat", async () => {
    const client = await serviceClient(await open());
    const step = fc.oneof(
      fc.record({ kind: fc.constant("send" as const), chat: fc.nat(2), count: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant("drop" as const), afterMs: fc.integer({ min: 0, max: 20 }) }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 16 }), async (steps) => {
          const chats = [uniqueChat(), uniqueChat(), uniqueChat()];
          const request = { chats: chats.map(({ chat }) => ({ chat })) };
          const received: Message[] = [];
          let stream: LiveStream = await subscribe(client, request);
          // Everything counts from the first subscription's start: the chats are new.
          const resume = async (afterMs: number) => {
            await pause(afterMs);
            stream.close();
            received.push(...messagesOf(stream.events));
            const token = stream.events.at(-1)?.resumeToken ?? stream.readyToken;
            stream = await subscribe(client, { ...request, resumeToken: token });
          };
          for (const next of steps) {
            if (next.kind === "drop") await resume(next.afterMs);
            else {
              const { chat, a } = chats[next.chat]!;
              for (let i = 0; i < next.count; i++) await client.send({ chat, sender: a, text: `${received.length}-${i}` });
            }
          }
          const histories = await Promise.all(chats.map(({ chat }) => history(client, chat)));
          const total = histories.flat().length;
          await stream.untilHolds((events) => received.length + messagesOf(events).length >= total, `${total} messages`);
          stream.close();
          received.push(...messagesOf(stream.events));
          for (const [index, { chat }] of chats.entries()) {
            expect(received.filter((message) => message.chat === chat)).toEqual(histories[index]);
          }
          expect(received).toHaveLength(total);
        }),
        { numRuns: 12 },
      );
    } finally {
      client.close();
    }
  }, 120_000);
});
