/**
 * Byte encodings used at the edges of secmqtt: UTF-8, hex, base64, base64url and PEM armour.
 * Everything inside the crypto layer is a `Uint8Array`; conversions happen only here.
 * @module
 */

import { SecmqttError } from "../core/errors.ts";

const textEncoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Error thrown when a textual encoding does not parse; `code` is always `"ENCODING"`. */
export class EncodingError extends SecmqttError {
  /** Exit-status kind: text that does not decode is bad input. */
  readonly kind = "input";
  /** Stable error code. */
  readonly code = "ENCODING";
}

/**
 * Encodes a string as UTF-8.
 * @example
 * ```ts
 * utf8Encode("hi"); // Uint8Array [104, 105]
 * ```
 */
export function utf8Encode(text: string): Uint8Array {
  return textEncoder.encode(text);
}

/**
 * Decodes strict UTF-8; invalid sequences throw {@link EncodingError} instead of becoming U+FFFD.
 * @example
 * ```ts
 * utf8Decode(new Uint8Array([104, 105])); // "hi"
 * ```
 */
export function utf8Decode(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new EncodingError("expected valid UTF-8, got an invalid byte sequence");
  }
}

/**
 * Lower-case hex of bytes.
 * @example
 * ```ts
 * toHex(new Uint8Array([1, 255])); // "01ff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * Parses hex (either case, even length) to bytes.
 * @example
 * ```ts
 * fromHex("01ff"); // Uint8Array [1, 255]
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new EncodingError(`expected an even-length hex string, got ${hex.length} characters`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Standard base64 with padding.
 * @example
 * ```ts
 * toBase64(new Uint8Array([1, 2, 3])); // "AQID"
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/**
 * Parses standard base64 (padding required, no whitespace).
 * @example
 * ```ts
 * fromBase64("AQID"); // Uint8Array [1, 2, 3]
 * ```
 */
export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new EncodingError("expected padded base64");
  }
  return Uint8Array.fromBase64(text);
}

/**
 * base64url without padding (RFC 4648 §5), the encoding of every binary envelope field.
 * @example
 * ```ts
 * toBase64Url(new Uint8Array([251, 255])); // "-_8"
 * ```
 */
export function toBase64Url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/**
 * Parses canonical unpadded base64url. Strict: padding, `+`, `/`, whitespace, or non-zero
 * trailing bits are errors, so every byte string has exactly one accepted encoding.
 * @example
 * ```ts
 * fromBase64Url("-_8"); // Uint8Array [251, 255]
 * ```
 */
export function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new EncodingError("expected unpadded base64url");
  }
  try {
    // "strict" wants the padding, and refuses non-zero bits after the last byte.
    return Uint8Array.fromBase64(text + "===".slice((text.length + 3) % 4), {
      alphabet: "base64url",
      lastChunkHandling: "strict",
    });
  } catch {
    throw new EncodingError("expected canonical base64url (non-zero trailing bits)");
  }
}

/**
 * Wraps DER bytes in PEM armour with the given label (RFC 7468), 64 characters a line.
 * @example
 * ```ts
 * toPem("PUBLIC KEY", der); // "-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----\n"
 * ```
 */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = toBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Extracts the DER bytes of the first PEM block with the given label.
 * @example
 * ```ts
 * const der = fromPem("PUBLIC KEY", pemText);
 * ```
 */
export function fromPem(label: string, pem: string): Uint8Array {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const start = pem.indexOf(begin);
  const stop = pem.indexOf(end, start + begin.length);
  if (start < 0 || stop < 0) throw new EncodingError(`expected a PEM block labelled "${label}"`);
  const body = pem.slice(start + begin.length, stop).replace(/\s+/g, "");
  return fromBase64(body);
}

/**
 * Concatenates byte arrays.
 * @example
 * ```ts
 * concatBytes(new Uint8Array([1]), new Uint8Array([2])); // Uint8Array [1, 2]
 * ```
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
