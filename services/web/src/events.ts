// The member's event stream (GET /api/events?member=…) behind one small interface.
// EventSource reconnects by itself and resumes with Last-Event-ID; when the server refuses a
// connection (e.g. 503) it gives up, and this opens a new one that resumes with last_event_id.
import { decodeMessage, decodeReadReceipt } from "./decode.js";
import type { Session } from "./session.js";
import type { Message, ReadReceipt } from "./types.js";

/** What the stream tells the page. `reset`: events may have been missed; reload what is shown. */
export type MemberEvent =
  | { kind: "message"; message: Message }
  | { kind: "read"; receipt: ReadReceipt }
  | { kind: "reset" }
  | { kind: "live"; live: boolean };

export type MemberEventListener = (event: MemberEvent) => void;

/** How long to wait before replacing a refused stream: 2 to 5 s, spread so clients do not come back at once. */
function reopenDelayMs(): number {
  return 2000 + Math.random() * 3000;
}

// Enough to catch a repeat across any reconnect; the server promises none, this is a seatbelt.
const rememberedMessages = 2000;

export class MemberStream {
  readonly #session: Session;
  readonly #listeners = new Set<MemberEventListener>();
  readonly #seen = new Set<string>();
  #source: EventSource | null = null;
  #reopenTimer: ReturnType<typeof setTimeout> | undefined;
  #lastEventId = "";
  #live = false;

  constructor(session: Session) {
    this.#session = session;
  }

  get live(): boolean {
    return this.#live;
  }

  subscribe(listener: MemberEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    if (this.#source === null && this.#reopenTimer === undefined) this.#open();
  }

  stop(): void {
    clearTimeout(this.#reopenTimer);
    this.#reopenTimer = undefined;
    this.#source?.close();
    this.#source = null;
    this.#setLive(false);
  }

  #url(): string {
    const params = new URLSearchParams({ member: this.#session.member });
    if (this.#session.token) params.set("access_token", this.#session.token);
    if (this.#lastEventId !== "") params.set("last_event_id", this.#lastEventId);
    return `/api/events?${params.toString()}`;
  }

  #open(): void {
    this.#reopenTimer = undefined;
    const source = new EventSource(this.#url());
    this.#source = source;
    source.addEventListener("open", () => {
      this.#setLive(true);
      // Without a resume point a stream starts now: what came before it must be reloaded.
      if (this.#lastEventId === "") this.#emit({ kind: "reset" });
    });
    source.addEventListener("error", () => {
      this.#setLive(false);
      if (source.readyState !== EventSource.CLOSED || this.#source !== source) return;
      source.close();
      this.#source = null;
      this.#reopenTimer = setTimeout(() => this.#open(), reopenDelayMs());
    });
    source.addEventListener("message", (event) => this.#receive(event, "message"));
    source.addEventListener("read", (event) => this.#receive(event, "read"));
    source.addEventListener("reset", (event) => this.#receive(event, "reset"));
  }

  #receive(event: MessageEvent<unknown>, kind: "message" | "read" | "reset"): void {
    if (event.lastEventId !== "") this.#lastEventId = event.lastEventId;
    if (kind === "reset") return this.#emit({ kind: "reset" });
    const data = parse(event.data);
    try {
      if (kind === "read") return this.#emit({ kind: "read", receipt: decodeReadReceipt(data) });
      const message = decodeMessage(data);
      if (this.#firstSight(message)) this.#emit({ kind: "message", message });
    } catch (error) {
      console.warn(`ignoring a ${kind} event this page does not understand`, error);
    }
  }

  #firstSight(message: Message): boolean {
    const key = `${message.send_time} ${message.chat}`;
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > rememberedMessages) {
      const oldest = this.#seen.values().next();
      if (oldest.done !== true) this.#seen.delete(oldest.value);
    }
    return true;
  }

  #setLive(live: boolean): void {
    if (live === this.#live) return;
    this.#live = live;
    this.#emit({ kind: "live", live });
  }

  #emit(event: MemberEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
}

function parse(data: unknown): unknown {
  if (typeof data !== "string") return undefined;
  try {
    const value: unknown = JSON.parse(data);
    return value;
  } catch {
    return undefined;
  }
}
