import { afterAll } from "vitest";
import type { MessageStore } from "../../services/message/src/store/store.js";
import { waitFor } from "../harness/wait.js";
import { openEngine, serviceClient, type EngineName, type EngineOptions, type Service, type ServiceClientOptions } from "./engines.js";
import { subscribe, type LiveStream } from "./live-stream.js";

export type { Service };

/**
 * What one describe block of the behaviour suite opens against an engine (stores, their
 * service clients, subscriptions), all closed once its tests are done. Call it inside the block.
 */
export function engineSuite(engine: EngineName) {
  const opened: { store: MessageStore; client: Service }[] = [];
  const streams: LiveStream[] = [];
  afterAll(async () => {
    for (const stream of streams) stream.close();
    for (const { client, store } of opened) {
      client.close();
      await store.close();
    }
  });
  return {
    /** A store of the engine, once it is ready, and a service client over the real routes. */
    async open(engineOptions: EngineOptions = {}, clientOptions: ServiceClientOptions = {}) {
      const store = openEngine(engine, engineOptions);
      await waitFor(`the ${engine} engine to be ready`, () => store.check().then(() => true));
      const client = await serviceClient(store, clientOptions);
      opened.push({ store, client });
      return { store, client };
    },
    /** A subscription, read in the background until the block ends. */
    async watch(client: Service, request: Parameters<typeof subscribe>[1]) {
      const stream = await subscribe(client, request);
      streams.push(stream);
      return stream;
    },
  };
}
