/**
 * Reads the credentials out of the first packet a client sends: an MQTT CONNECT (MQTT 3.1, 3.1.1 and 5,
 * OASIS MQTT 3.1.1 §3.1). This is what a passive observer of a plaintext connection learns; over TLS the
 * first bytes are a TLS record, not a CONNECT, and nothing is read.
 * @module
 */

import { utf8Decode } from "../../crypto/codec.ts";

/** Bytes of a CONNECT the parser will wait for; a longer one is not worth buffering for a sniffer. */
export const CONNECT_SNIFF_MAX_BYTES = 65_536;

const USERNAME_FLAG = 0x80;
const PASSWORD_FLAG = 0x40;
const WILL_FLAG = 0x04;

/** What the first bytes of a connection gave away. */
export type ConnectReading =
  | { ok: true; clientId: string; username?: string; password?: Uint8Array }
  /** `INCOMPLETE`: more bytes needed; `NOT_CONNECT`: not MQTT in clear (TLS, say); `MALFORMED`: broken. */
  | { ok: false; code: "INCOMPLETE" | "NOT_CONNECT" | "MALFORMED" };

/** A cursor over the packet; every read returns undefined past the end. */
class Reader {
  #at: number;
  constructor(readonly bytes: Uint8Array, at: number) {
    this.#at = at;
  }
  get position(): number {
    return this.#at;
  }
  byte(): number | undefined {
    return this.#at < this.bytes.length ? this.bytes[this.#at++] : undefined;
  }
  skip(n: number): boolean {
    if (this.#at + n > this.bytes.length) return false;
    this.#at += n;
    return true;
  }
  /** A two-byte length followed by that many bytes (§1.5.3, §1.5.6). */
  binary(): Uint8Array | undefined {
    const hi = this.byte(), lo = this.byte();
    if (hi === undefined || lo === undefined) return undefined;
    const n = (hi << 8) | lo;
    if (this.#at + n > this.bytes.length) return undefined;
    const out = this.bytes.slice(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
  /** A variable byte integer (§2.2.3): at most four bytes. */
  varint(): number | undefined {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.byte();
      if (b === undefined) return undefined;
      value += (b & 0x7f) * 128 ** i;
      if ((b & 0x80) === 0) return value;
    }
    return undefined;
  }
}

/**
 * Parses the start of a client→broker stream as a CONNECT and returns its client id, username and
 * password. Call again with more bytes while it answers `INCOMPLETE`.
 * @example
 * ```ts
 * const r = readConnect(firstBytes);
 * if (r.ok && r.password) console.log(r.username, r.password.length);
 * ```
 */
export function readConnect(bytes: Uint8Array): ConnectReading {
  if (bytes.length === 0) return { ok: false, code: "INCOMPLETE" };
  if (bytes[0] !== 0x10) return { ok: false, code: "NOT_CONNECT" };
  const header = new Reader(bytes, 1);
  const remaining = header.varint();
  if (remaining === undefined) {
    return bytes.length >= 5 ? { ok: false, code: "MALFORMED" } : { ok: false, code: "INCOMPLETE" };
  }
  const headerBytes = header.position;
  if (headerBytes + remaining > CONNECT_SNIFF_MAX_BYTES) return { ok: false, code: "MALFORMED" };
  if (bytes.length < headerBytes + remaining) return { ok: false, code: "INCOMPLETE" };
  const r = new Reader(bytes.subarray(0, headerBytes + remaining), headerBytes);
  const name = r.binary();
  if (name === undefined) return { ok: false, code: "MALFORMED" };
  const protocol = utf8Decode(name);
  if (protocol !== "MQTT" && protocol !== "MQIsdp") return { ok: false, code: "NOT_CONNECT" };
  const level = r.byte();
  const flags = r.byte();
  if (level === undefined || flags === undefined || !r.skip(2)) return { ok: false, code: "MALFORMED" };
  const v5 = level === 5;
  if (v5 && !skipProperties(r)) return { ok: false, code: "MALFORMED" };
  const clientId = r.binary();
  if (clientId === undefined) return { ok: false, code: "MALFORMED" };
  if (flags & WILL_FLAG) {
    if (v5 && !skipProperties(r)) return { ok: false, code: "MALFORMED" };
    if (r.binary() === undefined || r.binary() === undefined) return { ok: false, code: "MALFORMED" };
  }
  const username = flags & USERNAME_FLAG ? r.binary() : undefined;
  if (flags & USERNAME_FLAG && username === undefined) return { ok: false, code: "MALFORMED" };
  const password = flags & PASSWORD_FLAG ? r.binary() : undefined;
  if (flags & PASSWORD_FLAG && password === undefined) return { ok: false, code: "MALFORMED" };
  return {
    ok: true,
    clientId: utf8Decode(clientId),
    ...(username !== undefined ? { username: utf8Decode(username) } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** MQTT 5 properties (§2.2.2): a length, then that many bytes this sniffer does not need. */
function skipProperties(r: Reader): boolean {
  const n = r.varint();
  return n !== undefined && r.skip(n);
}
