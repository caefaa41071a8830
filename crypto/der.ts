/**
 * A small, strict DER (ITU-T X.690 §10) reader and writer for the handful of types secmqtt needs:
 * INTEGER, SEQUENCE, OBJECT IDENTIFIER, BIT STRING, OCTET STRING and NULL.
 *
 * Strictness is the point: only one encoding of a value is accepted. Indefinite lengths (BER),
 * non-minimal lengths, non-minimal integers, high tag numbers, unused bits in BIT STRING and
 * trailing bytes are all rejected with a {@link DerError}.
 * @module
 */

import { CodedError } from "../core/errors.ts";
import { concatBytes } from "./codec.ts";

/** Reasons a DER input is rejected; stable, so callers can branch on them. */
export type DerErrorCode =
  | "DER_TRUNCATED"
  | "DER_UNEXPECTED_TAG"
  | "DER_BAD_LENGTH"
  | "DER_BAD_INTEGER"
  | "DER_BAD_OID"
  | "DER_BAD_BIT_STRING"
  | "DER_BAD_NULL"
  | "DER_TRAILING_BYTES";

/** Error thrown for any input that is not canonical DER of the expected shape. */
export class DerError extends CodedError<DerErrorCode> {
  /** Exit-status kind: non-canonical DER is bad input. */
  readonly kind = "input";
}

/** Universal tag bytes (X.690 §8; constructed bit set for SEQUENCE). */
export const DER_TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
} as const;

/** Longest length field accepted, in bytes after the 0x8n prefix; 2^32 bytes is far beyond any key. */
const MAX_LENGTH_OCTETS = 4;

/**
 * Reads DER elements one after another from a byte string. Each `read*` method consumes one
 * element of that type or throws {@link DerError}; call {@link DerReader.finish} to insist that
 * nothing follows.
 * @example
 * ```ts
 * const outer = new DerReader(der);
 * const seq = outer.readSequence();
 * outer.finish();
 * const r = seq.readInteger();
 * const s = seq.readInteger();
 * seq.finish();
 * ```
 */
export class DerReader {
  #bytes: Uint8Array;
  #pos = 0;

  /** @param bytes the DER input; it is not copied */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /**
   * True when every byte has been consumed.
   * @example
   * ```ts
   * new DerReader(new Uint8Array()).done; // true
   * ```
   */
  get done(): boolean {
    return this.#pos === this.#bytes.length;
  }

  /**
   * The tag of the next element, or `undefined` at the end.
   * @example
   * ```ts
   * new DerReader(encodeNull()).peekTag(); // 0x05
   * ```
   */
  peekTag(): number | undefined {
    return this.done ? undefined : this.#bytes[this.#pos];
  }

  /**
   * Throws `DER_TRAILING_BYTES` unless every byte has been consumed.
   * @example
   * ```ts
   * const reader = new DerReader(encodeNull());
   * reader.readNull();
   * reader.finish();
   * ```
   */
  finish(): void {
    if (!this.done) {
      throw new DerError(
        "DER_TRAILING_BYTES",
        `expected end of input, got ${this.#bytes.length - this.#pos} more bytes`,
      );
    }
  }

  /**
   * Consumes one element with the given tag and returns its contents (a view, not a copy).
   * @example
   * ```ts
   * new DerReader(encodeOctetString(new Uint8Array([7]))).readElement(0x04); // Uint8Array [7]
   * ```
   */
  readElement(tag: number): Uint8Array {
    const bytes = this.#bytes;
    if (this.#pos >= bytes.length) {
      throw new DerError("DER_TRUNCATED", `expected tag 0x${hex2(tag)}, got end of input`);
    }
    const got = bytes[this.#pos];
    if (got !== tag) {
      throw new DerError("DER_UNEXPECTED_TAG", `expected tag 0x${hex2(tag)}, got 0x${hex2(got)}`);
    }
    let pos = this.#pos + 1;
    if (pos >= bytes.length) throw new DerError("DER_TRUNCATED", "expected a length byte, got end of input");
    const first = bytes[pos++];
    let length: number;
    if (first < 0x80) {
      length = first;
    } else {
      // X.690 §10.1: definite form only, and the fewest length octets possible.
      const count = first & 0x7f;
      if (count === 0) {
        throw new DerError("DER_BAD_LENGTH", "expected a definite length, got indefinite (BER)");
      }
      if (count > MAX_LENGTH_OCTETS) {
        throw new DerError(
          "DER_BAD_LENGTH",
          `expected at most ${MAX_LENGTH_OCTETS} length octets, got ${count}`,
        );
      }
      if (pos + count > bytes.length) throw new DerError("DER_TRUNCATED", "length octets run past the end");
      if (bytes[pos] === 0) {
        throw new DerError("DER_BAD_LENGTH", "expected a minimal length, got a leading zero octet");
      }
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + bytes[pos++];
      if (length < 0x80) throw new DerError("DER_BAD_LENGTH", `expected short-form length for ${length}`);
    }
    if (length > bytes.length - pos) {
      throw new DerError("DER_TRUNCATED", `expected ${length} content bytes, got ${bytes.length - pos}`);
    }
    this.#pos = pos + length;
    return bytes.subarray(pos, pos + length);
  }

  /**
   * Consumes a SEQUENCE and returns a reader over its contents.
   * @example
   * ```ts
   * const inner = new DerReader(encodeSequence(encodeInteger(1n))).readSequence();
   * inner.readInteger(); // 1n
   * ```
   */
  readSequence(): DerReader {
    return new DerReader(this.readElement(DER_TAG.SEQUENCE));
  }

  /**
   * Consumes an INTEGER (two's complement, minimal: X.690 §8.3.2) and returns its value.
   * @example
   * ```ts
   * new DerReader(new Uint8Array([2, 2, 0, 0x80])).readInteger(); // 128n
   * ```
   */
  readInteger(): bigint {
    const content = this.readElement(DER_TAG.INTEGER);
    if (content.length === 0) {
      throw new DerError("DER_BAD_INTEGER", "expected at least one content byte, got none");
    }
    if (
      content.length > 1 &&
      ((content[0] === 0x00 && (content[1] & 0x80) === 0) ||
        (content[0] === 0xff && (content[1] & 0x80) !== 0))
    ) {
      throw new DerError(
        "DER_BAD_INTEGER",
        "expected a minimal integer encoding, got a redundant leading byte",
      );
    }
    let value = 0n;
    for (const b of content) value = (value << 8n) | BigInt(b);
    if (content[0] & 0x80) value -= 1n << BigInt(content.length * 8);
    return value;
  }

  /**
   * Consumes an OBJECT IDENTIFIER and returns it in dotted form.
   * @example
   * ```ts
   * new DerReader(encodeOid("1.2.840.10040.4.1")).readOid(); // "1.2.840.10040.4.1"
   * ```
   */
  readOid(): string {
    const content = this.readElement(DER_TAG.OID);
    if (content.length === 0) throw new DerError("DER_BAD_OID", "expected at least one OID content byte");
    const arcs: number[] = [];
    let value = 0;
    let started = false;
    for (let i = 0; i < content.length; i++) {
      const b = content[i];
      // X.690 §8.19.2: each subidentifier uses the fewest octets, so it never starts with 0x80.
      if (!started && b === 0x80) throw new DerError("DER_BAD_OID", "expected a minimal subidentifier");
      started = true;
      value = value * 128 + (b & 0x7f);
      if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError("DER_BAD_OID", "subidentifier too large");
      if ((b & 0x80) === 0) {
        if (arcs.length === 0) {
          // X.690 §8.19.4: the first subidentifier packs the first two arcs.
          const first = value < 40 ? 0 : value < 80 ? 1 : 2;
          arcs.push(first, value - 40 * first);
        } else {
          arcs.push(value);
        }
        value = 0;
        started = false;
      }
    }
    if (started) {
      throw new DerError("DER_BAD_OID", "expected the last subidentifier to end, got a continuation bit");
    }
    return arcs.join(".");
  }

  /**
   * Consumes a BIT STRING with no unused bits (all secmqtt BIT STRINGs wrap whole bytes) and returns its bytes.
   * @example
   * ```ts
   * new DerReader(encodeBitString(new Uint8Array([9]))).readBitString(); // Uint8Array [9]
   * ```
   */
  readBitString(): Uint8Array {
    const content = this.readElement(DER_TAG.BIT_STRING);
    if (content.length === 0) {
      throw new DerError("DER_BAD_BIT_STRING", "expected an unused-bits byte, got none");
    }
    if (content[0] !== 0) {
      throw new DerError("DER_BAD_BIT_STRING", `expected 0 unused bits, got ${content[0]}`);
    }
    return content.subarray(1);
  }

  /**
   * Consumes an OCTET STRING and returns its bytes.
   * @example
   * ```ts
   * new DerReader(encodeOctetString(new Uint8Array([1, 2]))).readOctetString(); // Uint8Array [1, 2]
   * ```
   */
  readOctetString(): Uint8Array {
    return this.readElement(DER_TAG.OCTET_STRING);
  }

  /**
   * Consumes a NULL (which must have empty contents, X.690 §8.8.2).
   * @example
   * ```ts
   * new DerReader(encodeNull()).readNull();
   * ```
   */
  readNull(): void {
    const content = this.readElement(DER_TAG.NULL);
    if (content.length !== 0) {
      throw new DerError("DER_BAD_NULL", `expected empty NULL, got ${content.length} bytes`);
    }
  }
}

/**
 * Encodes a tag, a minimal definite length and the contents.
 * @example
 * ```ts
 * encodeElement(0x04, new Uint8Array([1])); // Uint8Array [4, 1, 1]
 * ```
 */
export function encodeElement(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  let header: number[];
  if (n < 0x80) {
    header = [tag, n];
  } else {
    const lengthBytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) lengthBytes.unshift(v & 0xff);
    header = [tag, 0x80 | lengthBytes.length, ...lengthBytes];
  }
  const out = new Uint8Array(header.length + n);
  out.set(header);
  out.set(content, header.length);
  return out;
}

/**
 * Encodes a SEQUENCE of already-encoded elements.
 * @example
 * ```ts
 * encodeSequence(encodeInteger(1n), encodeInteger(2n)); // 30 06 02 01 01 02 01 02
 * ```
 */
export function encodeSequence(...elements: Uint8Array[]): Uint8Array {
  return encodeElement(DER_TAG.SEQUENCE, concatBytes(...elements));
}

/**
 * Encodes an INTEGER in minimal two's complement (X.690 §8.3).
 * @example
 * ```ts
 * encodeInteger(128n); // 02 02 00 80
 * ```
 */
export function encodeInteger(value: bigint): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  // Emit bytes until the remaining value is pure sign extension of the top emitted bit.
  while (true) {
    const b = Number(BigInt.asUintN(8, v));
    bytes.unshift(b);
    v >>= 8n;
    if ((v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0)) break;
  }
  return encodeElement(DER_TAG.INTEGER, new Uint8Array(bytes));
}

/**
 * Encodes an OBJECT IDENTIFIER from dotted form.
 * @example
 * ```ts
 * encodeOid("1.2.840.10040.4.1"); // 06 07 2a 86 48 ce 38 04 01
 * ```
 */
export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map((a) => {
    if (!/^(0|[1-9][0-9]*)$/.test(a)) throw new DerError("DER_BAD_OID", `expected a numeric arc, got "${a}"`);
    return Number(a);
  });
  if (
    arcs.length < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) ||
    arcs.some((a) => !Number.isSafeInteger(a))
  ) {
    throw new DerError("DER_BAD_OID", `expected a valid OID, got "${dotted}"`);
  }
  const subids = [arcs[0] * 40 + arcs[1], ...arcs.slice(2)];
  const out: number[] = [];
  for (const id of subids) {
    const chunk = [id % 128];
    for (let v = Math.floor(id / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v % 128));
    out.push(...chunk);
  }
  return encodeElement(DER_TAG.OID, new Uint8Array(out));
}

/**
 * Encodes whole bytes as a BIT STRING with 0 unused bits.
 * @example
 * ```ts
 * encodeBitString(new Uint8Array([9])); // 03 02 00 09
 * ```
 */
export function encodeBitString(bytes: Uint8Array): Uint8Array {
  const content = new Uint8Array(bytes.length + 1);
  content.set(bytes, 1);
  return encodeElement(DER_TAG.BIT_STRING, content);
}

/**
 * Encodes an OCTET STRING.
 * @example
 * ```ts
 * encodeOctetString(new Uint8Array([1, 2])); // 04 02 01 02
 * ```
 */
export function encodeOctetString(bytes: Uint8Array): Uint8Array {
  return encodeElement(DER_TAG.OCTET_STRING, bytes);
}

/**
 * Encodes NULL.
 * @example
 * ```ts
 * encodeNull(); // 05 00
 * ```
 */
export function encodeNull(): Uint8Array {
  return new Uint8Array([DER_TAG.NULL, 0]);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}
