import { Agent, request } from "undici";

export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The body parsed as JSON (undefined when empty). */
  readonly body: any;
}

export interface RequestOptions {
  /** Sent as JSON with Content-Type application/json (GET included, as the seed clients do). */
  readonly json?: unknown;
  /** Sent as is. */
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

/** A small REST client for the edge; undici can send a body with GET, which fetch cannot. */
export function restClient(baseUrl: string, options: { connections?: number } = {}) {
  const dispatcher = new Agent({ connections: options.connections ?? 16, pipelining: 1 });
  return {
    async call(method: string, path: string, init: RequestOptions = {}): Promise<HttpReply> {
      const headers: Record<string, string> = { ...init.headers };
      let body = init.body;
      if (init.json !== undefined) {
        body = JSON.stringify(init.json);
        headers["content-type"] ??= "application/json";
      }
      const reply = await request(`${baseUrl}${path}`, { method: method as "GET", headers, body, dispatcher });
      const text = await reply.body.text();
      return { status: reply.statusCode, headers: reply.headers, body: text === "" ? undefined : JSON.parse(text) };
    },
    close: () => dispatcher.close(),
  };
}

export type RestClient = ReturnType<typeof restClient>;
