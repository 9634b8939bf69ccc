import { Code, ConnectError } from "@connectrpc/connect";
import { encodeChatUser, type Message, type SubscribeResponse } from "@chat/proto";
import { describe, expect, it } from "vitest";
import { createRedisClient } from "@chat/runtime";
import { chatKeys } from "../../services/message/src/store/redis/keys.js";
import { systemClock } from "../../services/message/src/store/clock.js";
import { waitFor } from "../harness/wait.js";
import { uniqueChat, uniqueMember as uniqueId } from "../support/ids.js";
import { engineNames, redisTarget } from "./engines.js";
import { subscribe } from "./live-stream.js";
import { engineSuite } from "./suite.js";

/** What a member stream's events say, in a form easy to compare. */
function summarize(events: readonly SubscribeResponse[]): string[] {
  return events.map(({ event }) => {
    if (event.case === "message") return `message ${event.value.chat} ${event.value.sendTime} ${event.value.text}`;
    if (event.case === "read") return `read ${event.value.chat} ${event.value.member} ${event.value.readCursor}`;
    return `${event.case} ${JSON.stringify(event.value)}`;
  });
}

describe.each(engineNames)("Conversations on the %s engine", (engine) => {
  const { open, watch } = engineSuite(engine);

  it("lists a member's chats most recently active first, with the last message as pull returns it", async () => {
    const { client } = await open();
    const me = uniqueId("me");
    const others = Array.from({ length: 5 }, (_, i) => uniqueId(`o${i}`));
    const last = new Map<string, Message>();
    for (const [i, other] of others.entries()) {
      for (let n = 0; n <= i; n++) {
        const sent = await client.send({ chat: `${other}:${me}`, sender: n % 2 ? me : other, text: `${other} ${n}` });
        last.set(sent.message!.chat, sent.message!);
      }
    }
    // The first chat becomes the most recent again.
    const again = await client.send({ chat: `${me}:${others[0]}`, sender: others[0]!, text: "again" });
    last.set(again.message!.chat, again.message!);
    const { chats, hasMore, nextCursor } = await client.listChats({ member: me });
    expect(hasMore).toBe(false);
    expect(nextCursor).toBe("");
    const order = [others[0], others[4], others[3], others[2], others[1]].map((other) => [me, other].sort().join(":"));
    expect(chats.map((row) => row.chat)).toEqual(order);
    for (const row of chats) {
      const newest = (await client.pull({ chat: row.chat, limit: 1, reverse: true })).messages[0];
      expect(row.lastMessage).toEqual(newest);
      expect(row.lastMessage).toEqual(last.get(row.chat));
    }
  });

  it("gives a member with no chats an empty list, and refuses bad requests with InvalidArgument", async () => {
    const { client } = await open();
    expect(await client.listChats({ member: uniqueId("nobody") })).toMatchObject({ chats: [], hasMore: false, nextCursor: "" });
    for (const [request, message] of [
      [{ member: "" }, /member is required/],
      [{ member: "a:b" }, /must not contain/],
      [{ member: "alice", limit: -1 }, /limit must be between 0 and 100/],
      [{ member: "alice", cursor: "not a cursor!" }, /cursor is malformed/],
      [{ member: "alice", cursor: Buffer.from("12.bob:carol").toString("base64url") }, /cursor is malformed/],
    ] as const) {
      const error = await client.listChats(request).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.InvalidArgument);
      expect((error as ConnectError).rawMessage).toMatch(message);
    }
  });

  it("pages by activity and chat id: no chat twice, none that stays quiet skipped, while messages reorder the list", async () => {
    const { client } = await open();
    const me = uniqueId("pager");
    const chats = Array.from({ length: 23 }, (_, i) => [me, uniqueId(`p${i}`)].sort().join(":"));
    for (const chat of chats) await client.send({ chat, sender: me, text: "hello" });
    const seen: string[] = [];
    let cursor = "";
    let moved: string | undefined;
    for (let page = 0; ; page++) {
      const reply = await client.listChats({ member: me, limit: 5, cursor });
      seen.push(...reply.chats.map((row) => row.chat));
      if (page === 1) {
        // A chat already listed becomes active again: it moves above the cursor.
        moved = seen[0]!;
        await client.send({ chat: moved, sender: me, text: "moved up" });
      }
      if (!reply.hasMore) break;
      expect(reply.chats).toHaveLength(5);
      cursor = reply.nextCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...chats].sort());
    expect(seen).toEqual([...chats].reverse());
    const fresh = await client.listChats({ member: me, limit: 1 });
    expect(fresh.chats[0]!.chat).toBe(moved);
  });

  it("counts the other member's messages after the read cursor as unread, never one's own, up to a cap of 100", async () => {
    const { client } = await open();
    const { chat, a, b } = uniqueChat();
    for (let i = 0; i < 3; i++) await client.send({ chat, sender: b, text: `from b ${i}` });
    const row = async (member: string) => (await client.listChats({ member })).chats.find((each) => each.chat === chat)!;
    expect(await row(a)).toMatchObject({ unread: 3, unreadCapped: false, readCursor: 0n });
    // b's own messages are not unread for b, and sending moved b's cursor to its last one.
    const bRow = await row(b);
    expect(bRow).toMatchObject({ unread: 0, unreadCapped: false });
    expect(bRow.readCursor).toBe(bRow.lastMessage!.sendTime);
    // a answers: what a answered after is read.
    await client.send({ chat, sender: a, text: "from a" });
    expect(await row(a)).toMatchObject({ unread: 0 });
    expect(await row(b)).toMatchObject({ unread: 1 });
    await Promise.all(Array.from({ length: 105 }, (_, i) => client.send({ chat, sender: b, text: `burst ${i}` })));
    expect(await row(a)).toMatchObject({ unread: 100, unreadCapped: true });
  });

  it("drops a chat from the list once all its messages are past retention by age", async () => {
    const later = { us: 0n };
    const { client } = await open({ retention: { maxMessages: 0, maxAgeSeconds: 60 }, clock: () => systemClock() + later.us });
    const { chat, a, b } = uniqueChat();
    await client.send({ chat, sender: b, text: "soon gone" });
    expect((await client.listChats({ member: a })).chats.map((row) => row.chat)).toEqual([chat]);
    // Two minutes on (as the store's reads by age see it), the chat's message is past its age.
    later.us = 120_000_000n;
    expect((await client.pull({ chat })).messages).toEqual([]);
    expect((await client.listChats({ member: a })).chats).toEqual([]);
    expect((await client.listChats({ member: b })).chats).toEqual([]);
  });

  it("moves read cursors forward only, answers the unread count, and refuses cursors that name no message of the chat", async () => {
    const { client } = await open();
    const { chat, a, b } = uniqueChat();
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push((await client.send({ chat, sender: b, text: `m${i}` })).message!);
    expect(await client.markRead({ chat, member: a, cursor: sent[2]!.sendTime })).toMatchObject({ readCursor: sent[2]!.sendTime, unread: 2, unreadCapped: false });
    // An older cursor changes nothing and is no error.
    expect(await client.markRead({ chat: `${b}:${a}`, member: a, cursor: sent[0]!.sendTime })).toMatchObject({ readCursor: sent[2]!.sendTime, unread: 2 });
    const other = uniqueChat();
    const elsewhere = (await client.send({ chat: other.chat, sender: other.a, text: "elsewhere" })).message!;
    for (const [request, message] of [
      [{ chat, member: a, cursor: sent[4]!.sendTime + 1_000_000n }, /is not the send_time of a message in chat/],
      [{ chat, member: a, cursor: elsewhere.sendTime }, /is not the send_time of a message in chat/],
      [{ chat, member: a, cursor: sent[4]!.sendTime / 1_000_000n }, /is not the send_time of a message in chat/],
      [{ chat, member: a, cursor: 0n }, /cursor is required/],
      [{ chat, member: other.a, cursor: sent[4]!.sendTime }, /is not a member of chat/],
      [{ chat: other.chat.replace(":", "::"), member: a, cursor: 1n }, /exactly two member ids/],
      [{ chat: uniqueChat().chat, member: a, cursor: 5n }, /is not a member of chat|holds no messages/],
    ] as const) {
      const error = await client.markRead(request).catch((caught: unknown) => caught);
      expect((error as ConnectError).code, String(error)).toBe(Code.InvalidArgument);
      expect((error as ConnectError).rawMessage).toMatch(message);
    }
    const row = (await client.listChats({ member: a })).chats.find((each) => each.chat === chat)!;
    expect(row).toMatchObject({ readCursor: sent[2]!.sendTime, unread: 2, otherReadCursor: 0n });
    // b's list carries a's receipt.
    expect((await client.listChats({ member: b })).chats.find((each) => each.chat === chat)).toMatchObject({ otherReadCursor: sent[2]!.sendTime });
    expect(await client.markRead({ chat, member: a, cursor: sent[4]!.sendTime })).toMatchObject({ readCursor: sent[4]!.sendTime, unread: 0 });
  });

  it("lets an authenticated user list, mark and watch only as themselves", async () => {
    const { client } = await open({}, { requireUser: true });
    const { chat, a, b } = uniqueChat();
    const as = (user: string) => ({ headers: { "chat-user": encodeChatUser(user) } });
    const sent = (await client.send({ chat, sender: b, text: "hi" }, as(b))).message!;
    expect((await client.listChats({ member: a }, as(a))).chats.map((row) => row.chat)).toEqual([chat]);
    for (const call of [
      () => client.listChats({ member: a }, as(b)),
      () => client.markRead({ chat, member: a, cursor: sent.sendTime }, as(b)),
      () => subscribe({ ...client, subscribe: (request, options) => client.subscribe(request, { ...options, ...as(b) }) }, { member: a }),
    ]) {
      const error = await call().catch((caught: unknown) => caught);
      expect((error as ConnectError).code).toBe(Code.PermissionDenied);
    }
    expect((await client.listChats({ member: a }, as(a))).chats[0]!.readCursor).toBe(0n);
  });

  it("streams a member's messages in every chat, chats created after it opened included, and both members' read receipts", async () => {
    const { client } = await open();
    const me = uniqueId("watcher");
    const [old, later] = [uniqueId("old"), uniqueId("new")];
    const oldChat = [me, old].sort().join(":");
    const newChat = [me, later].sort().join(":");
    await client.send({ chat: oldChat, sender: old, text: "before the stream" });
    const stream = await watch(client, { member: me });
    const first = (await client.send({ chat: oldChat, sender: old, text: "one" })).message!;
    const second = (await client.send({ chat: newChat, sender: later, text: "two" })).message!;
    const mine = (await client.send({ chat: newChat, sender: me, text: "three" })).message!;
    await client.markRead({ chat: oldChat, member: me, cursor: first.sendTime });
    await client.markRead({ chat: newChat, member: later, cursor: mine.sendTime });
    await stream.until(5);
    expect(summarize(stream.events)).toEqual([
      `message ${oldChat} ${first.sendTime} one`,
      `message ${newChat} ${second.sendTime} two`,
      `message ${newChat} ${mine.sendTime} three`,
      `read ${oldChat} ${me} ${first.sendTime}`,
      `read ${newChat} ${later} ${mine.sendTime}`,
    ]);
    // A mark that moves nothing tells nobody.
    await client.markRead({ chat: oldChat, member: me, cursor: first.sendTime });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stream.events).toHaveLength(5);
  });

  it("refuses a member stream that also names chats, or a bad member id", async () => {
    const { client } = await open();
    const refused: [Parameters<typeof subscribe>[1], RegExp][] = [
      [{ member: "alice", chats: [{ chat: "alice:bob" }] }, /set chats or member, not both/],
      [{ member: "al ice" }, /must not contain/],
    ];
    for (const [request, message] of refused) {
      const error = await subscribe(client, request).catch((caught: unknown) => caught);
      expect((error as ConnectError).code).toBe(Code.InvalidArgument);
      expect((error as ConnectError).rawMessage).toMatch(message);
    }
  });

  it("resumes a member stream exactly after its last event across chats whose clocks differ by an hour", async () => {
    const skew = { us: 0n };
    const { client } = await open(engine === "memory" ? { clock: () => systemClock() + skew.us } : {});
    const me = uniqueId("skewed");
    const [aheadPeer, behindPeer] = [uniqueId("ahead"), uniqueId("behind")];
    const [ahead, behind] = [[me, aheadPeer].sort().join(":"), [me, behindPeer].sort().join(":")];
    const hour = 3_600_000_000n;
    // One chat's clock runs an hour ahead: on Redis, as a node whose clock is ahead would
    // leave it (send.lua stores past the chat's newest message); in memory, by the clock.
    if (engine === "memory") {
      skew.us = hour;
      await client.send({ chat: ahead, sender: me, text: "ahead 0" });
      skew.us = 0n;
    } else {
      const redis = createRedisClient(redisTarget(engine), { username: undefined, password: undefined, tls: undefined }, {
        commandTimeoutMs: 5_000,
        connectTimeoutMs: 5_000,
        maxRetriesPerRequest: 1,
      });
      await waitFor("a Redis connection", () => redis.ping().then(() => true));
      await redis.xadd(chatKeys(ahead).messages, `${systemClock() + hour}-0`, "s", me, "t", "ahead 0", "k", "");
      redis.disconnect();
      // The member's list takes the chat's history in on its next send, before the stream opens.
      await client.send({ chat: ahead, sender: aheadPeer, text: "ahead warm" });
    }
    const sendBoth = async (round: number) => {
      const sent = [];
      for (const chat of [ahead, behind]) {
        if (engine === "memory") skew.us = chat === ahead ? hour : 0n;
        const peer = chat === ahead ? aheadPeer : behindPeer;
        sent.push((await client.send({ chat, sender: peer, text: `${chat === ahead ? "ahead" : "behind"} ${round}` })).message!);
      }
      skew.us = 0n;
      return sent;
    };
    const first = await watch(client, { member: me });
    const beforeDrop = await sendBoth(1);
    await first.until(2);
    expect(beforeDrop[0]!.sendTime - beforeDrop[1]!.sendTime).toBeGreaterThan(hour / 2n);
    const token = first.lastToken();
    first.close();
    const whileAway = [...(await sendBoth(2)), ...(await sendBoth(3))];
    const resumed = await watch(client, { member: me, resumeToken: token });
    const afterResume = await sendBoth(4);
    await resumed.until(6);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(summarize(resumed.events)).toEqual([...whileAway, ...afterResume].map((message) => `message ${message.chat} ${message.sendTime} ${message.text}`));
  });

  it("repairs a member's list and log on the retry, or the next send, when their write failed after the message was stored", async () => {
    const { store, client } = await open();
    const me = uniqueId("repaired");
    const [older, newer] = [uniqueChat(), uniqueChat()].map(({ a }) => [me, a].sort().join(":")) as [string, string];
    const peerOf = (chat: string) => chat.split(":").find((member) => member !== me)!;
    await client.send({ chat: older, sender: peerOf(older), text: "older 0" });
    await client.send({ chat: newer, sender: peerOf(newer), text: "newer 0" });
    const stream = await watch(client, { member: me });
    // The message write succeeds and the members' records do not, as if the service died
    // between the two writes (the fault test stops a real process there).
    const failRecords = () => {
      const record = store.members.record;
      store.members.record = async () => {
        throw new ConnectError("member storage is unavailable", Code.Unavailable);
      };
      return () => void (store.members.record = record);
    };
    const order = async () => (await client.listChats({ member: me })).chats.map((row) => row.chat);
    let restore = failRecords();
    const failed = await client.send({ chat: older, sender: peerOf(older), text: "older 1", clientMessageId: "repair-key-1" }).catch((caught: unknown) => caught);
    restore();
    expect((failed as ConnectError).code).toBe(Code.Unavailable);
    const stored = (await client.pull({ chat: older, limit: 10 })).messages;
    expect(stored.map((message) => message.text)).toEqual(["older 0", "older 1"]);
    // The list reads its last message and unread count from the chat, so those are right;
    // the order and the member's log lag until the repair.
    expect(await order()).toEqual([newer, older]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stream.events).toHaveLength(0);
    // The retry with the same key stores nothing new and brings the list and log up to date.
    expect((await client.send({ chat: older, sender: peerOf(older), text: "older 1", clientMessageId: "repair-key-1" })).message).toEqual(stored[1]);
    expect(await order()).toEqual([older, newer]);
    // Without a retry, the chat's next send repairs: the log takes the missed message first.
    restore = failRecords();
    await client.send({ chat: newer, sender: peerOf(newer), text: "newer 1" }).catch(() => {});
    restore();
    await client.send({ chat: newer, sender: peerOf(newer), text: "newer 2" });
    const newerStored = (await client.pull({ chat: newer, limit: 10 })).messages;
    await stream.until(3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(summarize(stream.events)).toEqual([stored[1]!, ...newerStored.slice(1)].map((message) => `message ${message.chat} ${message.sendTime} ${message.text}`));
    expect(await order()).toEqual([newer, older]);
  });
});

describe.each(engineNames)("a member's record of a chat on the %s engine", (engine) => {
  const { open } = engineSuite(engine);
  const message = (sendTime: bigint, text: string) => ({ sendTime, sender: "x", text });
  const logged = async (store: Awaited<ReturnType<typeof open>>["store"], member: string) =>
    (await store.members.log.after(member, 0n, 100)).flatMap((event) => (event.kind === "message" ? [event.message.text] : []));

  it("takes messages when it stands where they start or later (a concurrent send moved it on), each once and in order", async () => {
    const { store } = await open();
    const member = uniqueId("m");
    const { chat } = uniqueChat();
    expect(await store.members.record(member, chat, [message(10n, "one")], 0n)).toEqual({ recorded: true });
    // The caller read the chat from 0 on; the record already holds "one": only "two" and "three" are new.
    expect(await store.members.record(member, chat, [message(10n, "one"), message(20n, "two"), message(30n, "three")], 0n)).toEqual({ recorded: true });
    // A send that knew only its predecessor, after the record had moved past it.
    expect(await store.members.record(member, chat, [message(40n, "four")], 20n)).toEqual({ recorded: true });
    expect(await logged(store, member)).toEqual(["one", "two", "three", "four"]);
  });

  it("refuses, changing nothing, when it stands before where the messages start or the caller does not know", async () => {
    const { store } = await open();
    const member = uniqueId("m");
    const { chat } = uniqueChat();
    expect(await store.members.record(member, chat, [message(10n, "one")], 0n)).toEqual({ recorded: true });
    // "two" at 20 is missing from what the caller gives: taking "three" would leave a gap.
    expect(await store.members.record(member, chat, [message(30n, "three")], 20n)).toEqual({ recorded: false, at: 10n });
    // A replay does not know what precedes its message.
    expect(await store.members.record(member, chat, [message(30n, "three")], -1n)).toEqual({ recorded: false, at: 10n });
    // Already held: nothing to do, whatever the caller knew.
    expect(await store.members.record(member, chat, [message(10n, "one")], -1n)).toEqual({ recorded: true });
    expect(await logged(store, member)).toEqual(["one"]);
  });
});
