import { Code } from "@connectrpc/connect";

/** The snake_case name of a Connect code, as the Connect protocol writes it: "invalid_argument". */
export function rpcCodeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (letter, at: number) => (at ? "_" : "") + letter.toLowerCase());
}
