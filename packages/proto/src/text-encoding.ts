import { configureTextEncoding } from "@bufbuild/protobuf/wire";

/**
 * protobuf-es decodes strings with a default TextDecoder, which takes a leading U+FEFF for a
 * byte order mark and drops it: a text or member id starting with it would arrive one
 * character short. Decoding with `ignoreBOM` keeps every string exactly as it was encoded.
 * Applied when this package is loaded, before any message is decoded.
 */
export function keepStringsExact(): void {
  const encoder = new TextEncoder();
  const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
  const strict = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
  configureTextEncoding({
    encodeUtf8: (text) => encoder.encode(text),
    decodeUtf8: (bytes, isStrict) => (isStrict ? strict : lenient).decode(bytes),
    checkUtf8(text) {
      try {
        encodeURIComponent(text);
        return true;
      } catch {
        return false;
      }
    },
  });
}

keepStringsExact();
