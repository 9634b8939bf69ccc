import type { Retention } from "../retention.js";
import { maxRetryScan, retryClockAllowanceMs, retryRecordMs } from "../retry-keys.js";
import type { AppendInput } from "../store.js";
import { chatKeys } from "./keys.js";

/** What send.lua needs besides the message: retention, and how long client ids are remembered. */
export interface SendSettings {
  readonly retention: Retention;
  /** Length of one client-id generation, in seconds: ids are remembered one to two of them. */
  readonly idempotencyWindowSeconds: number;
}

/** KEYS then ARGV of send.lua (see its docblock), in order. */
export type SendScriptArgs = [
  stream: string,
  previousIds: string,
  currentIds: string,
  nextIds: string,
  retryRecord: string,
  wake: string,
  sender: string,
  text: string,
  clientMessageId: string,
  idsExpireAtMs: number,
  retryKey: string,
  sinceFirstAttemptMs: number,
  retryAllowanceMs: number,
  maxRetryScan: number,
  retryRecordMs: number,
  maxMessages: number,
  maxAgeMs: number,
];

export const sendScriptKeyCount = 6;

/** The arguments of send.lua for one append, with generations taken from `nowMs`. */
export function sendScriptArgs(chatId: string, input: AppendInput, settings: SendSettings, nowMs = Date.now()): SendScriptArgs {
  const keys = chatKeys(chatId);
  const windowMs = settings.idempotencyWindowSeconds * 1000;
  const generation = Math.floor(nowMs / windowMs);
  const retry = input.retryKey;
  return [
    keys.messages,
    keys.clientIds(generation - 1),
    keys.clientIds(generation),
    keys.clientIds(generation + 1),
    keys.retryRecord(retry?.key ?? ""),
    keys.wake,
    input.sender,
    input.text,
    input.clientMessageId,
    (generation + 2) * windowMs,
    retry?.key ?? "",
    retry?.sinceFirstAttemptMs ?? 0,
    retryClockAllowanceMs,
    maxRetryScan,
    retryRecordMs,
    settings.retention.maxMessages,
    settings.retention.maxAgeSeconds * 1000,
  ];
}
