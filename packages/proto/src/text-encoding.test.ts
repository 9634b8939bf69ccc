import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { SendRequestSchema } from "./index.js";

describe("strings over the wire", () => {
  it.each(["\ufeff", "\ufeffhello", "\ufeff\ufeffx", "a\ufeff", "\u0000", "\u202eשלום", "😀"])("round-trip %j exactly", (text) => {
    const request = create(SendRequestSchema, { chat: `${text}:b`, text, sender: text });
    const decoded = fromBinary(SendRequestSchema, toBinary(SendRequestSchema, request));
    expect([decoded.chat, decoded.text, decoded.sender]).toEqual([`${text}:b`, text, text]);
  });
});
