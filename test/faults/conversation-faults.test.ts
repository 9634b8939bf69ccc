import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { MessageService } from "@chat/proto";
import { afterEach, describe, expect, it } from "vitest";
import { chatKeys, memberKeys } from "../../services/message/src/store/redis/keys.js";
import { startRedisCluster, type RedisCluster, type RedisServer } from "../harness/redis.js";
import { startService, type ServiceProcess } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { uniqueMember } from "../support/ids.js";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function service(env: Record<string, string>): Promise<ServiceProcess> {
  const started = await startService("message", env);
  cleanups.push(() => started.stop("SIGKILL"));
  return started;
}

function clientOf(process: ServiceProcess) {
  return createClient(MessageService, createConnectTransport({ baseUrl: process.url, httpVersion: "1.1" }));
}

/** The master serving `slot`, as the cluster's first node sees it. */
async function masterOf(cluster: RedisCluster, key: string): Promise<RedisServer> {
  const slot = Number(await cluster.nodes[0]!.cli("cluster", "keyslot", key));
  for (const line of (await cluster.nodes[0]!.cli("cluster", "nodes")).split("\n")) {
    const fields = line.split(" ");
    if (!fields[2]?.includes("master")) continue;
    for (const range of fields.slice(8)) {
      const [from, to = from] = range.split("-").map(Number);
      if (slot >= from! && slot <= to!) return cluster.nodes.find((node) => node.port === Number(fields[1]!.split(":")[1]!.split("@")[0]))!;
    }
  }
  throw new Error(`no master serves slot ${slot}`);
}

describe("conversations under faults", () => {
  it("repairs both members' lists when the service dies between storing a message and recording it", { timeout: 90_000 }, async () => {
    const cluster = await startRedisCluster();
    cleanups.push(() => cluster.stop());
    const env = { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_COMMAND_TIMEOUT_MS: "20000" };
    // A member whose keys live on another node than the chat's, so that one can be stopped alone.
    const peer = uniqueMember("peer");
    let member = uniqueMember("m");
    let chat = [member, peer].sort().join(":");
    while ((await masterOf(cluster, memberKeys(member).chats)).port === (await masterOf(cluster, chatKeys(chat).messages)).port) {
      member = uniqueMember("m");
      chat = [member, peer].sort().join(":");
    }
    const first = await service(env);
    const before = await clientOf(first).send({ chat, sender: peer, text: "before" });
    // The member's node holds every write: the message is stored, its member record waits.
    // (A client whose connection closes while paused leaves its command unrun.)
    const memberNode = await masterOf(cluster, memberKeys(member).chats);
    await memberNode.cli("client", "pause", "60000", "WRITE");
    let resumed = false;
    cleanups.push(async () => void (resumed || (await memberNode.cli("client", "unpause"))));
    const pending = clientOf(first).send({ chat, sender: peer, text: "during", clientMessageId: "crash-between-writes" }).catch((error: unknown) => error);
    const chatNode = await masterOf(cluster, chatKeys(chat).messages);
    await waitFor("the message to be stored", async () => (await chatNode.cli("xlen", chatKeys(chat).messages)).trim() === "2", { timeoutMs: 10_000, intervalMs: 20 });
    // The service dies between the two writes.
    await first.stop("SIGKILL");
    expect(await pending).toBeInstanceOf(ConnectError);
    await memberNode.cli("client", "unpause");
    resumed = true;
    const second = await service(env);
    const client = clientOf(second);
    const list = async (who: string) => (await client.listChats({ member: who })).chats.find((row) => row.chat === chat)!;
    // The list reads its last message from the chat; the member's own record still lags.
    const stale = await list(member);
    expect(stale.lastMessage!.text).toBe("during");
    expect(await memberNode.cli("zscore", memberKeys(member).chats, chat)).toContain(String(before.message!.sendTime));
    // The retry with the same key stores nothing new and repairs the record.
    const retried = await client.send({ chat, sender: peer, text: "during", clientMessageId: "crash-between-writes" });
    const history = (await client.pull({ chat, limit: 10 })).messages;
    expect(history.map((message) => message.text)).toEqual(["before", "during"]);
    expect(retried.message).toEqual(history[1]);
    expect(await memberNode.cli("zscore", memberKeys(member).chats, chat)).toContain(String(history[1]!.sendTime));
    expect(await list(member)).toMatchObject({ unread: 2, lastMessage: history[1] });
    // The member's log holds each message once, in order.
    const events = await memberNode.cli("xrange", memberKeys(member).events, "-", "+");
    expect(events.match(/^(before|during)$/gm)).toEqual(["before", "during"]);
    const refused = await client.markRead({ chat, member, cursor: 1n }).catch((error: unknown) => error);
    expect((refused as ConnectError).code).toBe(Code.InvalidArgument);
  });
});
