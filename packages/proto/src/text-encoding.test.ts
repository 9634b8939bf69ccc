import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { SendRequestSchema } from "./index.js";

describe("strings over the wire", () => {
  it.each(["\ufeff", "\ufeffhello", "\ufeff\ufeffx", "a\ufeff", "\u0000", "\u202eשלום", "😀", "x".repeat(20_000)])("round-trip %j exactly", (text) => {
    const request = create(SendRequestSchema, { chat: `${text}:b`, text, sender: text });
    const decoded = fromBinary(SendRequestSchema, toBinary(SendRequestSchema, request));
    expect([decoded.chat, decoded.text, decoded.sender]).toEqual([`${text}:b`, text, text]);
  });

  it.each(["plain", "\ud800", "a\udfffb", "😀\ud83d", "é".repeat(3_000)])("encodes %j to the bytes TextEncoder gives", (text) => {
    const encoded = toBinary(SendRequestSchema, create(SendRequestSchema, { text }));
    const expected = new TextEncoder().encode(text);
    // Field 2, length-delimited: tag, varint length, then the UTF-8 bytes.
    expect(Buffer.from(encoded.subarray(encoded.length - expected.length))).toEqual(Buffer.from(expected));
    expect(fromBinary(SendRequestSchema, encoded).text).toBe(new TextDecoder().decode(expected));
  });
});
