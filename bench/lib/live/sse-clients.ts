import * as http from "node:http";

/** One server-sent event as the bench reads it. */
export interface BenchEvent {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

/** A stream of GET /api/events held by the bench, with the last id it received. */
export interface BenchStream {
  lastId: string;
  readonly opened: Promise<void>;
  close(): void;
}

/**
 * Opens one event stream with plain node:http (no agent: each stream its own connection, as
 * browsers and proxies give them) and a minimal parser, light enough to hold thousands of
 * streams in the bench process. `onEvent` sees every message and reset event.
 */
export function openBenchStream(url: string, onEvent: (event: BenchEvent, stream: BenchStream) => void, lastEventId = ""): BenchStream {
  let request: http.ClientRequest | undefined;
  let buffered = "";
  let resolveOpen: () => void = () => {};
  let rejectOpen: (error: Error) => void = () => {};
  const stream: BenchStream = {
    lastId: lastEventId,
    opened: new Promise<void>((resolve, reject) => {
      resolveOpen = resolve;
      rejectOpen = reject;
    }),
    close: () => request?.destroy(),
  };
  stream.opened.catch(() => {});
  request = http.get(url, { agent: false, headers: lastEventId ? { "last-event-id": lastEventId } : {} }, (response) => {
    if (response.statusCode !== 200) {
      rejectOpen(new Error(`GET ${url} answered ${response.statusCode}`));
      response.resume();
      return;
    }
    resolveOpen();
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      buffered += chunk;
      let end = buffered.indexOf("\n\n");
      while (end >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf("\n\n");
        let id = "";
        let event = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("id:")) id = line.slice(3).trimStart();
          else if (line.startsWith("event:")) event = line.slice(6).trimStart();
          else if (line.startsWith("data:")) data = line.slice(5).trimStart();
        }
        if (data === "") continue; // a comment (heartbeat) or the retry hint
        stream.lastId = id;
        onEvent({ id, event, data }, stream);
      }
    });
  });
  request.on("error", (error) => rejectOpen(error));
  return stream;
}
