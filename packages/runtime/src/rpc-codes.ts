// The Connect protocol's own tables, from the Connect library rather than copied: the
// snake_case name of a code ("invalid_argument") and the HTTP status that carries it.
export {
  codeToHttpStatus as httpStatusOfCode,
  codeToString as rpcCodeName,
} from "@connectrpc/connect/protocol-connect";
