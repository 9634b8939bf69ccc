import type { Redis } from "ioredis";
import type { BenchConfig } from "./config.js";
import type { RequestShape } from "./load.js";
import { fillChat, fillMemberChats, type FilledChat } from "./prefill.js";

/** One measured workload; a scenario's cases run back to back within each round. */
export interface Case {
  /** Row label in the table, e.g. "pull-50 @1e6". */
  readonly label: string;
  readonly method: "GET" | "POST";
  readonly request: (n: number) => RequestShape;
  /** request(n) repeats with this period (wrk gets the whole cycle up front). */
  readonly distinct: number;
  /** Closed loop at BENCH_CONNECTIONS, or open loop at a fixed rate. */
  readonly load: { kind: "closed"; connections: number } | { kind: "fixed-rate"; rate: number };
  /** What a correct answer looks like; checked once per variant before any load. */
  readonly expect: (status: number, body: unknown) => string | undefined;
  /** Only the stack serves it (the baseline does sends and pulls only): no ratio. */
  readonly stackOnly?: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Builds the cases, filling Redis as needed (before any variant runs). */
  prepare(redis: Redis, config: BenchConfig): Promise<Case[]>;
}

const sendText = "hello from the bench"; // 20 bytes, like the memory scenario's messages

function sendBody(chat: string, sender: string): string {
  return JSON.stringify({ chat, text: sendText, sender });
}

function expectSent(status: number, body: unknown): string | undefined {
  const reply = body as { status?: unknown; message?: { send_time?: unknown } };
  if (status !== 200 || reply.status !== "success" || typeof reply.message?.send_time !== "number") {
    return `send answered ${status} ${JSON.stringify(body)}`;
  }
  return undefined;
}

function expectPage(pageSize: number) {
  return (status: number, body: unknown): string | undefined => {
    const page = body as { messages?: unknown[]; has_more?: unknown };
    if (status !== 200 || page.messages?.length !== pageSize || page.has_more !== true) {
      return `pull answered ${status} with ${page.messages?.length ?? "no"} messages, has_more ${String(page.has_more)}`;
    }
    return undefined;
  };
}

/** 1,000 distinct chats "rN:sN", one after the other across all connections. */
function rotatingSends(chats: number): (n: number) => RequestShape {
  const bodies = Array.from({ length: chats }, (_, k) => sendBody(`r${k}:s${k}`, `r${k}`));
  return (n) => ({ path: "/api/send", body: bodies[n % chats] });
}

/** Pages of `pageSize` starting at `spots` ids spread evenly over the chat (each page full). */
const pullSpots = 1_000;

function spreadPulls(filled: FilledChat, pageSize: number, spots = pullSpots): (n: number) => RequestShape {
  const usable = Math.max(1, filled.count - pageSize - 1);
  const paths = Array.from({ length: spots }, (_, k) => {
    const cursor = filled.sendTime(Math.floor((k * usable) / spots));
    return `/api/pull?chat=${encodeURIComponent(filled.chat)}&cursor=${cursor}&limit=${pageSize}&reverse=false`;
  });
  return (n) => ({ path: paths[n % spots] as string });
}

function historyLabel(count: number): string {
  const exponent = Math.log10(count);
  return Number.isInteger(exponent) ? `1e${exponent}` : String(count);
}

export const scenarios: readonly Scenario[] = [
  {
    name: "send-rotating",
    description: "POST /api/send, each request to the next of BENCH_CHATS chats, closed loop at BENCH_CONNECTIONS",
    async prepare(_redis, config) {
      return [
        {
          label: `send ${config.rotatingChats} chats`,
          method: "POST",
          request: rotatingSends(config.rotatingChats),
          distinct: config.rotatingChats,
          load: { kind: "closed", connections: config.connections },
          expect: expectSent,
        },
      ];
    },
  },
  {
    name: "send-hot",
    description: "POST /api/send, every request to one chat (both members in turn), closed loop",
    async prepare(_redis, config) {
      const bodies = [sendBody("hot1:hot2", "hot1"), sendBody("hot1:hot2", "hot2")];
      return [
        {
          label: "send 1 hot chat",
          method: "POST",
          request: (n) => ({ path: "/api/send", body: bodies[n % 2] }),
          distinct: 2,
          load: { kind: "closed", connections: config.connections },
          expect: expectSent,
        },
      ];
    },
  },
  {
    name: "pull",
    description: "GET /api/pull of BENCH_PAGE messages from a chat of BENCH_PULL_HISTORY, cursors spread over it",
    async prepare(redis, config) {
      const filled = await fillChat(redis, "pull0:reader", config.pullHistory);
      return [
        {
          label: `pull-${config.pageSize} @${historyLabel(config.pullHistory)}`,
          method: "GET",
          request: spreadPulls(filled, config.pageSize),
          distinct: pullSpots,
          load: { kind: "closed", connections: config.connections },
          expect: expectPage(config.pageSize),
        },
      ];
    },
  },
  {
    name: "pull-scaling",
    description: "the same pull against a small and a large history, back to back in each round",
    async prepare(redis, config) {
      const cases: Case[] = [];
      for (const [index, history] of config.scalingHistories.entries()) {
        const filled = await fillChat(redis, `scale${index}:reader`, history);
        cases.push({
          label: `pull-${config.pageSize} @${historyLabel(history)}`,
          method: "GET",
          request: spreadPulls(filled, config.pageSize),
          distinct: pullSpots,
          load: { kind: "closed", connections: config.connections },
          expect: expectPage(config.pageSize),
        });
      }
      return cases;
    },
  },
  {
    name: "list",
    description: "GET /api/chats: the first page (20) of the list of a member with BENCH_LIST_CHATS chats, with last messages and unread counts",
    async prepare(redis, config) {
      await fillMemberChats(redis, "lister", config.listChats);
      return [
        {
          label: `list 20 of ${config.listChats} chats`,
          method: "GET",
          request: () => ({ path: "/api/chats?member=lister&limit=20" }),
          distinct: 1,
          load: { kind: "closed", connections: config.connections },
          stackOnly: true,
          expect(status, body) {
            const page = body as { chats?: { unread?: unknown }[]; has_more?: unknown };
            if (status !== 200 || page.chats?.length !== 20 || page.has_more !== true || page.chats[0]?.unread !== 1) {
              return `list answered ${status} ${JSON.stringify(body).slice(0, 300)}`;
            }
            return undefined;
          },
        },
      ];
    },
  },
  {
    name: "fixed-rate",
    description: "POST /api/send at BENCH_RATE/s on a fixed schedule (open loop), rotating chats",
    async prepare(_redis, config) {
      return [
        {
          label: `send @${config.fixedRate}/s`,
          method: "POST",
          request: rotatingSends(config.rotatingChats),
          distinct: config.rotatingChats,
          load: { kind: "fixed-rate", rate: config.fixedRate },
          expect: expectSent,
        },
      ];
    },
  },
];

export const scenarioNames = [...scenarios.map((scenario) => scenario.name), "live", "memory"];
