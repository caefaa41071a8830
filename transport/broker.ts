/**
 * The embedded MQTT 3.1.1 broker (aedes over node:net): no setup, loopback by default, with an optional
 * policy that enforces Mosquitto-style password and ACL files (see auth/). Every connect, subscribe,
 * publish and refusal is logged.
 * @module
 */

import net from "node:net";
import { Aedes } from "aedes";
import type { Log } from "../log/jsonl.ts";
import { SecmqttError } from "../core/errors.ts";

/** What a client may do with a topic. */
export type TopicAccess = "read" | "write" | "subscribe";

/** Authentication and authorisation decisions for the embedded broker. */
export interface BrokerPolicy {
  /** Decides whether a CONNECT with these credentials is accepted. */
  authenticate(
    username: string | undefined,
    password: Uint8Array | undefined,
    clientId: string,
  ): { ok: true } | { ok: false; code: "NOT_AUTHORIZED" | "ANONYMOUS" };
  /** Decides whether `username`/`clientId` may publish to, subscribe to, or receive `topic`. */
  authorize(request: { username?: string; clientId: string; topic: string; access: TopicAccess }): boolean;
}

/** Options for {@link startBroker}. */
export interface BrokerOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 1883. */
  port?: number;
  /** Where broker events go. */
  log: Log;
  /** When given, anonymous clients are refused and the policy decides every connect and topic access. */
  policy?: BrokerPolicy;
  /** Log each routed message (default true; the load test turns it off). */
  logMessages?: boolean;
}

/** A running embedded broker. */
export interface RunningBroker {
  /** Bound host. */
  host: string;
  /** Bound port (the real one when 0 was asked). */
  port: number;
  /** `mqtt://host:port` for clients. */
  url: string;
  /** Stops accepting, disconnects every client and closes the broker. */
  close(): Promise<void>;
}

/** Why the broker could not start; `code` is stable. */
export class BrokerError extends SecmqttError {
  /** Exit-status kind: the port or interface is not available at run time. */
  readonly kind = "state";
  /** `PORT_IN_USE` or `LISTEN_FAILED`. */
  readonly code: "PORT_IN_USE" | "LISTEN_FAILED";
  /** @param code stable code @param message one line */
  constructor(code: "PORT_IN_USE" | "LISTEN_FAILED", message: string) {
    super(message);
    this.name = "BrokerError";
    this.code = code;
  }
}

// deno-lint-ignore no-explicit-any
type AedesClient = any;

/** The aedes hooks we set, typed loosely: aedes' own typings disagree with its documented callbacks. */
interface AedesHooks {
  authenticate: (
    client: AedesClient,
    username: string | undefined,
    password: Uint8Array | undefined,
    done: (e: Error | null, ok: boolean) => void,
  ) => void;
  authorizePublish: (client: AedesClient, packet: { topic: string }, done: (e: Error | null) => void) => void;
  authorizeSubscribe: (
    client: AedesClient,
    sub: { topic: string; qos: number },
    done: (e: Error | null, s: unknown) => void,
  ) => void;
  authorizeForward: (client: AedesClient, packet: { topic: string }) => unknown;
}

/**
 * Starts the embedded broker and resolves once it listens.
 * @example
 * ```ts
 * const broker = await startBroker({ port: 0, log });
 * console.log(broker.url); // mqtt://127.0.0.1:41234
 * await broker.close();
 * ```
 */
export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const host = options.host ?? "127.0.0.1";
  const { log, policy } = options;
  const logMessages = options.logMessages ?? true;
  const aedes = await Aedes.createBroker();
  const hooks = aedes as unknown as AedesHooks;
  const usernames = new WeakMap<object, string | undefined>();

  hooks.authenticate = (client, username, password, done) => {
    if (!policy) {
      usernames.set(client, username);
      return done(null, true);
    }
    const verdict = policy.authenticate(username || undefined, password, client.id);
    if (!verdict.ok) {
      log.event("auth_failed", { client_id: client.id, username: username ?? null, code: verdict.code });
      const error = new Error("not authorized") as Error & { returnCode: number };
      error.returnCode = 5;
      return done(error, false);
    }
    usernames.set(client, username);
    done(null, true);
  };

  hooks.authorizePublish = (client, packet, done) => {
    if (packet.topic.startsWith("$SYS")) return done(new Error("$SYS topics are reserved"));
    if (client && policy) {
      const username = usernames.get(client);
      if (!policy.authorize({ username, clientId: client.id, topic: packet.topic, access: "write" })) {
        log.event("acl_denied", {
          client_id: client.id,
          username: username ?? null,
          topic: packet.topic,
          access: "write",
        });
        // aedes closes the connection on a refused publish; Mosquitto 2 drops it silently. Neither delivers it.
        return done(new Error("publish not authorised"));
      }
    }
    done(null);
  };

  hooks.authorizeSubscribe = (client, sub, done) => {
    if (policy) {
      const username = usernames.get(client);
      if (!policy.authorize({ username, clientId: client.id, topic: sub.topic, access: "subscribe" })) {
        log.event("acl_denied", {
          client_id: client.id,
          username: username ?? null,
          topic: sub.topic,
          access: "subscribe",
        });
        return done(null, null); // SUBACK 0x80, as Mosquitto answers
      }
    }
    log.event("subscribed", { client_id: client.id, filter: sub.topic, qos: sub.qos });
    done(null, sub);
  };

  hooks.authorizeForward = (client, packet) => {
    if (!policy) return packet;
    const username = usernames.get(client);
    if (!policy.authorize({ username, clientId: client.id, topic: packet.topic, access: "read" })) {
      return null;
    }
    return packet;
  };

  aedes.on("client", (client: AedesClient) => {
    log.event("client_connected", { client_id: client.id, username: usernames.get(client) ?? null });
  });
  aedes.on("clientDisconnect", (client: AedesClient) => {
    log.event("client_disconnected", { client_id: client.id });
  });
  if (logMessages) {
    aedes.on("publish", (packet, client: AedesClient) => {
      if (!client) return; // broker-internal ($SYS heartbeats, wills of gone clients)
      log.event("message_routed", {
        client_id: client.id,
        topic: packet.topic,
        bytes: packet.payload.length,
      });
    });
  }

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    drainingReads(socket);
    aedes.handle(socket);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new BrokerError("PORT_IN_USE", `port ${options.port ?? 1883} on ${host} is already in use`)
          : new BrokerError(
            "LISTEN_FAILED",
            `cannot listen on ${host}:${options.port ?? 1883}: ${error.message}`,
          ),
      );
    });
    server.listen(options.port ?? 1883, host, () => resolve((server.address() as net.AddressInfo).port));
  }).catch(async (error) => {
    await new Promise<void>((r) => aedes.close(() => r()));
    throw error;
  });
  log.event("broker_listening", { host, port, secure: policy !== undefined });

  let closed: Promise<void> | undefined;
  return {
    host,
    port,
    url: `mqtt://${host}:${port}`,
    close() {
      closed ??= (async () => {
        const stopped = new Promise<void>((r) => server.close(() => r()));
        for (const socket of sockets) socket.destroy();
        await stopped;
        await new Promise<void>((r) => aedes.close(() => r()));
      })();
      return closed;
    },
  };
}

/**
 * aedes calls `socket.read()` once per 'readable' event and expects the whole buffer, as Node gives it.
 * Deno's node:net may hand back only part, and then no further 'readable' comes while data is still
 * buffered, which stalls a large PUBLISH half-read (seen with payloads over ~128 KiB). Reading until
 * the buffer is empty restores Node's behaviour.
 */
function drainingReads(socket: net.Socket): void {
  const readOnce = socket.read.bind(socket);
  socket.read = ((size?: number) => {
    if (size !== undefined && size !== null) return readOnce(size);
    const chunks: Buffer[] = [];
    for (let chunk = readOnce(); chunk !== null; chunk = readOnce()) chunks.push(chunk);
    return chunks.length === 0 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }) as typeof socket.read;
}
