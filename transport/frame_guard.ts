/**
 * Reads MQTT fixed headers off a byte stream as it arrives and refuses a packet by its declared size,
 * before anything buffers its body (MQTT 3.1.1 §2.2: one type byte, then the Remaining Length in one to
 * four 7-bit groups). It never holds bytes itself: it counts the body of each packet as it streams past.
 * The broker runs every connection's input through one, so a client that announces a 200 MiB CONNECT
 * is closed after five bytes, as Mosquitto's `max_packet_size` does.
 * @module
 */

/** MQTT control packet type of CONNECT (§2.2.1). */
const CONNECT_TYPE = 1;
/** The Remaining Length takes at most four bytes (§2.2.3). */
const MAX_LENGTH_BYTES = 4;

/** Why {@link MqttFrameGuard.feed} refused the stream; stable codes. */
export type FrameRefusal =
  | { ok: false; code: "PACKET_TOO_LARGE"; declaredBytes: number; limitBytes: number }
  | { ok: false; code: "MALFORMED_LENGTH" }
  | { ok: false; code: "FIRST_NOT_CONNECT"; packetType: number };

/** Outcome of {@link MqttFrameGuard.feed}: `connectReceived` is true on the call that completed the first packet. */
export type FrameVerdict = { ok: true; connectReceived: boolean } | FrameRefusal;

/**
 * A streaming check of MQTT packet sizes. `limitBytes` is read at each new header, so it may change
 * between packets (the broker allows larger packets once a client has logged in).
 * @example
 * ```ts
 * const guard = new MqttFrameGuard(() => 65536);
 * guard.feed(new Uint8Array([0x10, 0xff, 0xff, 0xff, 0x7f])); // { ok: false, code: "PACKET_TOO_LARGE", … }
 * ```
 */
export class MqttFrameGuard {
  #limitBytes: () => number;
  #phase: "type" | "length" | "body" = "type";
  #packetType = 0;
  #length = 0;
  #lengthBytes = 0;
  #bodyLeft = 0;
  #packets = 0;
  #refused: FrameRefusal | undefined;

  #connectFirst: boolean;

  /**
   * @param limitBytes the largest whole packet (fixed header included) accepted, read per packet
   * @param options `connectFirst` (default true) refuses a stream whose first packet is not CONNECT,
   *   as a broker must; a client reading the broker's stream turns it off
   */
  constructor(limitBytes: () => number, options: { connectFirst?: boolean } = {}) {
    this.#limitBytes = limitBytes;
    this.#connectFirst = options.connectFirst ?? true;
  }

  /** Packets seen complete so far. */
  get packets(): number {
    return this.#packets;
  }

  /**
   * Checks the next bytes of the stream. Once refused, every later call returns the same refusal.
   * @example
   * ```ts
   * const verdict = guard.feed(chunk);
   * if (!verdict.ok) socket.destroy();
   * ```
   */
  feed(chunk: Uint8Array): FrameVerdict {
    if (this.#refused) return this.#refused;
    let connectReceived = false;
    let i = 0;
    while (i < chunk.length) {
      if (this.#phase === "body") {
        const take = Math.min(this.#bodyLeft, chunk.length - i);
        i += take;
        this.#bodyLeft -= take;
        if (this.#bodyLeft === 0) connectReceived ||= this.#packetDone();
        continue;
      }
      const byte = chunk[i++];
      if (this.#phase === "type") {
        this.#packetType = byte >> 4;
        // §3.1: the first packet a client sends must be CONNECT.
        if (this.#connectFirst && this.#packets === 0 && this.#packetType !== CONNECT_TYPE) {
          return this.#refuse({ ok: false, code: "FIRST_NOT_CONNECT", packetType: this.#packetType });
        }
        this.#phase = "length";
        this.#length = 0;
        this.#lengthBytes = 0;
        continue;
      }
      // Remaining Length: little-endian base-128 digits, the high bit says another one follows.
      this.#length += (byte & 0x7f) * 128 ** this.#lengthBytes;
      this.#lengthBytes++;
      if (byte & 0x80) {
        if (this.#lengthBytes === MAX_LENGTH_BYTES) {
          return this.#refuse({ ok: false, code: "MALFORMED_LENGTH" });
        }
        continue;
      }
      const declaredBytes = 1 + this.#lengthBytes + this.#length;
      const limitBytes = this.#limitBytes();
      if (declaredBytes > limitBytes) {
        return this.#refuse({ ok: false, code: "PACKET_TOO_LARGE", declaredBytes, limitBytes });
      }
      this.#bodyLeft = this.#length;
      this.#phase = "body";
      if (this.#bodyLeft === 0) connectReceived ||= this.#packetDone();
    }
    return { ok: true, connectReceived };
  }

  #packetDone(): boolean {
    this.#phase = "type";
    this.#packets++;
    return this.#packets === 1;
  }

  #refuse(refusal: FrameRefusal): FrameRefusal {
    this.#refused = refusal;
    return refusal;
  }
}
