import type { Context, Next } from "koa";

/** A Koa middleware, as the edge's pieces hand them to each other. */
export type Middleware = (ctx: Context, next: Next) => Promise<void>;

/** What a request does, for its authentication and rate limit: list is GET /api/chats, read is POST /api/read. */
export type ApiAction = "send" | "pull" | "list" | "read" | "events";
