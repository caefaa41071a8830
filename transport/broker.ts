/**
 * The embedded MQTT 3.1.1 broker (aedes over node:net, or node:tls when given a certificate): no setup,
 * loopback by default, with an optional policy that enforces Mosquitto-style password and ACL files (see
 * auth/). Every connect, subscribe, publish and refusal is logged.
 *
 * With `tls` it speaks MQTT only inside TLS (as Mosquitto's `listener 8883` with certfile/keyfile): a
 * plaintext client fails the handshake before a byte of MQTT is read, so no password ever crosses the
 * wire in clear. The limits below apply to the decrypted stream the same way.
 *
 * With a policy (secure mode) the broker also bounds what a connection can cost before it has logged in:
 * packet sizes are checked from each fixed header before aedes buffers a byte of the body
 * (transport/frame_guard.ts), a connection must deliver its CONNECT within a timeout, connections are
 * capped in total and while they are still logging in (in total and per remote address), and every
 * refused login is answered late (auth/login_throttle.ts). It refuses a client id that is not the
 * account's own, and retained publishes (Mosquitto's `retain_available false`). Without a policy
 * (Phase I) none of this applies: the insecure broker stays the deliberately open baseline.
 * @module
 */

import net from "node:net";
import tls from "node:tls";
import { Aedes } from "aedes";
import type { Log } from "../log/jsonl.ts";
import { CodedError } from "../core/errors.ts";
import { LoginThrottle, type LoginThrottleOptions } from "../auth/login_throttle.ts";
import { MqttFrameGuard } from "./frame_guard.ts";
import { KeyedTokenBuckets, type RateLimit } from "../core/token_bucket.ts";

/** What a client may do with a topic. */
export type TopicAccess = "read" | "write" | "subscribe";

/** Why the policy refused a CONNECT; `owner` names the account whose client id was asked for. */
export type AuthRefusal =
  | { ok: false; code: "NOT_AUTHORIZED" | "ANONYMOUS" }
  | { ok: false; code: "CLIENT_ID_NOT_OWNED"; owner: string | undefined };

/** Authentication and authorisation decisions for the embedded broker. */
export interface BrokerPolicy {
  /** Decides whether a CONNECT with these credentials and this client id is accepted. */
  authenticate(
    username: string | undefined,
    password: Uint8Array | undefined,
    clientId: string,
  ): { ok: true } | AuthRefusal;
  /** Decides whether `username`/`clientId` may publish to, subscribe to, or receive `topic`. */
  authorize(request: { username?: string; clientId: string; topic: string; access: TopicAccess }): boolean;
}

/** Largest packet a client may send before it has logged in: Mosquitto's `max_packet_size` in broker-config/mosquitto.secure.conf. */
export const MAX_PACKET_BYTES_BEFORE_LOGIN = 65_536;

/**
 * Largest packet a logged-in client may send. An envelope is at most 8 KiB; this leaves room for the
 * secure attack suite's 64 KiB `malformed/oversize` probe, which must reach the actuator to be refused
 * there, and still stops the 100 MiB publishes a device account could otherwise push.
 */
export const MAX_PACKET_BYTES_AFTER_LOGIN = 256 * 1024;

/** Limits of a secure broker; see {@link DEFAULT_BROKER_LIMITS}. */
export interface BrokerLimits {
  /** Largest whole packet (fixed header included) before login. */
  maxPacketBytesBeforeLogin: number;
  /** Largest whole packet after login. */
  maxPacketBytesAfterLogin: number;
  /** A connection that has not delivered its whole CONNECT within this is closed. */
  connectTimeoutMs: number;
  /** Open connections, logged in or not. */
  maxConnections: number;
  /** Connections that have not logged in yet. */
  maxPendingConnections: number;
  /**
   * Connections from one remote address that have not logged in yet. Logged-in connections are not
   * capped per address: the lab runs every device on loopback, and a fleet behind one NAT is normal.
   */
  maxPendingPerAddress: number;
  /** Backoff of refused logins. */
  loginThrottle: LoginThrottleOptions;
  /**
   * PUBLISH packets per account (username), as a token bucket; undefined turns the limit off. An
   * over-limit publish is acknowledged as usual and delivered to no one (MQTT 3.1.1 has no way to say
   * "slow down"), counted, and logged once per episode as `broker_denied` with code `RATE_LIMITED`.
   */
  publishRate: RateLimit | undefined;
}

/**
 * The default per-account publish limit: 200 a second with a burst of 2 000. A door sensor sends a few
 * messages a minute and the Phase II attack suite about a thousand in a burst; a flooding account is cut
 * to 200 a second (docs/RELIABILITY.md, "Flood").
 */
export const DEFAULT_PUBLISH_RATE: RateLimit = { ratePerS: 200, burst: 2000 };

/** An account quiet (no over-limit publish) this long ends its rate-limit episode; the next one is logged. */
export const RATE_LIMIT_EPISODE_QUIET_MS = 10_000;

/** The limits a secure broker uses unless told otherwise. */
export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxPacketBytesBeforeLogin: MAX_PACKET_BYTES_BEFORE_LOGIN,
  maxPacketBytesAfterLogin: MAX_PACKET_BYTES_AFTER_LOGIN,
  connectTimeoutMs: 10_000,
  maxConnections: 10_000,
  maxPendingConnections: 256,
  maxPendingPerAddress: 64,
  loginThrottle: {},
  publishRate: DEFAULT_PUBLISH_RATE,
};

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
  /** Overrides of {@link DEFAULT_BROKER_LIMITS}; they apply only with a policy. */
  limits?: Partial<BrokerLimits>;
  /** Serve MQTT over TLS only, with this certificate chain and key (PEM); see store/tls.ts. */
  tls?: BrokerTls;
}

/** The broker's TLS identity. */
export interface BrokerTls {
  /** `-----BEGIN CERTIFICATE-----` of the broker (signed by the home's CA). */
  certPem: string;
  /** Its private key, PKCS#8 PEM. */
  keyPem: string;
}

/** Oldest TLS version the broker accepts (Mosquitto's `tls_version tlsv1.2` in the home's config). */
export const MIN_TLS_VERSION = "TLSv1.2";

/** A running embedded broker. */
export interface RunningBroker {
  /** Bound host. */
  host: string;
  /** Bound port (the real one when 0 was asked). */
  port: number;
  /** `mqtt://host:port`, or `mqtts://host:port` with TLS, for clients. */
  url: string;
  /** Publishes dropped by the per-account rate limit so far, by username. */
  readonly rateLimited: Readonly<Record<string, number>>;
  /** Stops accepting, disconnects every client and closes the broker. */
  close(): Promise<void>;
}

/** Why the broker could not start; `code` is stable. */
export class BrokerError extends CodedError<"PORT_IN_USE" | "LISTEN_FAILED"> {
  /** Exit-status kind: the port or interface is not available at run time. */
  readonly kind = "state";
}

// deno-lint-ignore no-explicit-any
type AedesClient = any;

/** What the secure broker tracks per connection until it closes. */
interface ConnectionState {
  address: string;
  loggedIn: boolean;
  /** Whether it has left the not-yet-logged-in count. */
  released: boolean;
  connectTimer: ReturnType<typeof setTimeout> | undefined;
}

/** The aedes hooks we set, typed loosely: aedes' own typings disagree with its documented callbacks. */
interface AedesHooks {
  authenticate: (
    client: AedesClient,
    username: string | undefined,
    password: Uint8Array | undefined,
    done: (e: Error | null, ok: boolean) => void,
  ) => void;
  authorizePublish: (
    client: AedesClient,
    packet: { topic: string; retain?: boolean; payload: object },
    done: (e: Error | null) => void,
  ) => void;
  authorizeSubscribe: (
    client: AedesClient,
    sub: { topic: string; qos: number },
    done: (e: Error | null, s: unknown) => void,
  ) => void;
  authorizeForward: (client: AedesClient, packet: { topic: string; payload: object }) => unknown;
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
  const limits: BrokerLimits = { ...DEFAULT_BROKER_LIMITS, ...options.limits };
  // aedes has its own CONNECT timer; ours closes first and logs, aedes' stays as a backstop.
  const aedes = await Aedes.createBroker(policy ? { connectTimeout: limits.connectTimeoutMs * 2 } : {});
  const hooks = aedes as unknown as AedesHooks;
  const usernames = new WeakMap<object, string | undefined>();
  const connections = new WeakMap<object, ConnectionState>();
  const throttle = new LoginThrottle(limits.loginThrottle);
  const pendingByAddress = new Map<string, number>();
  let pendingTotal = 0;
  const publishBuckets = limits.publishRate ? new KeyedTokenBuckets(limits.publishRate) : undefined;
  const rateLimited: Record<string, number> = {};
  /** When each account last had a publish dropped: an episode is one record, not one per message. */
  const lastDropMs = new Map<string, number>();
  /** Payloads of dropped publishes: aedes keeps the payload object when it wraps the packet for delivery. */
  const droppedPayloads = new WeakSet<object>();
  /** Refusals waiting out their login backoff; dropped on close (aedes closes their clients anyway). */
  const heldRefusals = new Set<ReturnType<typeof setTimeout>>();

  const loggedIn = (socket: net.Socket) => {
    const state = connections.get(socket);
    if (!state || state.loggedIn) return;
    state.loggedIn = true;
    clearTimeout(state.connectTimer);
    release(state);
  };
  const release = (state: ConnectionState) => {
    if (state.released) return;
    state.released = true;
    pendingTotal--;
    const left = (pendingByAddress.get(state.address) ?? 1) - 1;
    if (left === 0) pendingByAddress.delete(state.address);
    else pendingByAddress.set(state.address, left);
  };

  hooks.authenticate = (client, username, password, done) => {
    if (!policy) {
      usernames.set(client, username);
      return done(null, true);
    }
    const address = connections.get(client.conn)?.address ?? null;
    const verdict = policy.authenticate(username || undefined, password, client.id);
    if (!verdict.ok) {
      const delayMs = throttle.recordFailure(
        [`address:${address}`, ...(username ? [`user:${username}`] : [])],
        Date.now(),
      );
      if (verdict.code === "CLIENT_ID_NOT_OWNED") {
        // A takeover attempt by an account that knows its own password: refused before aedes would
        // close the owner's connection and hand its session over.
        log.event("broker_denied", {
          code: verdict.code,
          client_id: client.id,
          username: username ?? null,
          owner: verdict.owner ?? null,
          address,
          delay_ms: delayMs,
        });
      } else {
        log.event("auth_failed", {
          client_id: client.id,
          username: username ?? null,
          code: verdict.code,
          address,
          delay_ms: delayMs,
        });
      }
      const error = new Error("not authorized") as Error & { returnCode: number };
      // 2 = identifier rejected, 5 = not authorised (MQTT 3.1.1 §3.2.2.3).
      error.returnCode = verdict.code === "CLIENT_ID_NOT_OWNED" ? 2 : 5;
      const timer = setTimeout(() => {
        heldRefusals.delete(timer);
        done(error, false);
      }, delayMs);
      heldRefusals.add(timer);
      return;
    }
    usernames.set(client, username);
    loggedIn(client.conn);
    done(null, true);
  };

  hooks.authorizePublish = (client, packet, done) => {
    if (packet.topic.startsWith("$SYS")) return done(new Error("$SYS topics are reserved"));
    if (client && policy) {
      const username = usernames.get(client);
      if (packet.retain) {
        // A retained message would reach every later subscriber, the actuator after each restart
        // included; Mosquitto's `retain_available false` disconnects the client, and so does aedes here.
        log.event("broker_denied", {
          code: "RETAIN_REFUSED",
          client_id: client.id,
          username: username ?? null,
          topic: packet.topic,
          address: connections.get(client.conn)?.address ?? null,
        });
        return done(new Error("retained messages are not available"));
      }
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
      const account = username ?? `client:${client.id}`;
      const now = Date.now();
      if (publishBuckets && !publishBuckets.take(account, now)) {
        rateLimited[account] = (rateLimited[account] ?? 0) + 1;
        const last = lastDropMs.get(account);
        if (last === undefined || now - last >= RATE_LIMIT_EPISODE_QUIET_MS) {
          log.event("broker_denied", {
            code: "RATE_LIMITED",
            client_id: client.id,
            username: username ?? null,
            topic: packet.topic,
            rate_per_s: limits.publishRate!.ratePerS,
            burst: limits.publishRate!.burst,
            dropped_so_far: rateLimited[account],
          });
        }
        lastDropMs.delete(account); // re-inserted: the map's order is recency, oldest forgotten first
        lastDropMs.set(account, now);
        if (lastDropMs.size > 10_000) lastDropMs.delete(lastDropMs.keys().next().value!);
        // Acknowledged (the client sees no error, as with an ACL refusal on Mosquitto) but forwarded to no one.
        droppedPayloads.add(packet.payload);
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
    if (droppedPayloads.has(packet.payload)) return null;
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
      if (droppedPayloads.has(packet.payload as object)) return; // over the account's rate: routed to no one
      log.event("message_routed", {
        client_id: client.id,
        topic: packet.topic,
        bytes: packet.payload.length,
      });
    });
  }

  const sockets = new Set<net.Socket>();
  const handshaking = new Set<net.Socket>();
  const admit = (socket: net.Socket): boolean => {
    const address = socket.remoteAddress ?? "unknown";
    const refusal = sockets.size >= limits.maxConnections
      ? { code: "TOO_MANY_CONNECTIONS", limit: limits.maxConnections }
      : pendingTotal >= limits.maxPendingConnections
      ? { code: "TOO_MANY_PENDING", limit: limits.maxPendingConnections }
      : (pendingByAddress.get(address) ?? 0) >= limits.maxPendingPerAddress
      ? { code: "TOO_MANY_PENDING_FROM_ADDRESS", limit: limits.maxPendingPerAddress }
      : undefined;
    if (refusal) {
      log.event("broker_denied", { ...refusal, address });
      socket.destroy();
      return false;
    }
    const state: ConnectionState = { address, loggedIn: false, released: false, connectTimer: undefined };
    connections.set(socket, state);
    pendingTotal++;
    pendingByAddress.set(address, (pendingByAddress.get(address) ?? 0) + 1);
    state.connectTimer = setTimeout(() => {
      log.event("broker_denied", { code: "CONNECT_TIMEOUT", address, limit_ms: limits.connectTimeoutMs });
      socket.destroy();
    }, limits.connectTimeoutMs);
    socket.on("close", () => {
      clearTimeout(state.connectTimer);
      release(state);
    });
    const guard = new MqttFrameGuard(() =>
      state.loggedIn ? limits.maxPacketBytesAfterLogin : limits.maxPacketBytesBeforeLogin
    );
    guardedReads(socket, (chunk) => {
      const verdict = guard.feed(chunk);
      if (verdict.ok) {
        if (verdict.connectReceived) clearTimeout(state.connectTimer);
        return true;
      }
      log.event("broker_denied", {
        code: verdict.code,
        address,
        logged_in: state.loggedIn,
        ...(verdict.code === "PACKET_TOO_LARGE"
          ? { declared_bytes: verdict.declaredBytes, limit_bytes: verdict.limitBytes }
          : verdict.code === "FIRST_NOT_CONNECT"
          ? { packet_type: verdict.packetType }
          : {}),
      });
      socket.destroy();
      return false;
    });
    return true;
  };

  const onConnection = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    if (policy) {
      if (!admit(socket)) return;
    } else {
      drainingReads(socket);
    }
    aedes.handle(socket);
  };
  const server = options.tls
    ? tls.createServer({
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      minVersion: MIN_TLS_VERSION,
      // A connection that never finishes its handshake costs as much as one that never sends CONNECT.
      handshakeTimeout: limits.connectTimeoutMs,
    }, onConnection)
    : net.createServer(onConnection);
  if (options.tls) {
    // Plaintext MQTT, a client that does not trust the certificate, a scanner: the handshake fails and
    // the socket is closed by node:tls before any MQTT is parsed.
    server.on("tlsClientError", (_error: Error, socket: tls.TLSSocket) => socket.destroy());
    // Connections still in their handshake are not in `sockets` yet; close() must not wait for them.
    server.on("connection", (raw: net.Socket) => {
      handshaking.add(raw);
      raw.on("close", () => handshaking.delete(raw));
    });
  }
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
    url: `${options.tls ? "mqtts" : "mqtt"}://${host}:${port}`,
    rateLimited,
    close() {
      closed ??= (async () => {
        for (const socket of sockets) clearTimeout(connections.get(socket)?.connectTimer);
        for (const timer of heldRefusals) clearTimeout(timer);
        const stopped = new Promise<void>((r) => server.close(() => r()));
        for (const socket of sockets) socket.destroy();
        for (const raw of handshaking) raw.destroy();
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
  guardedReads(socket, () => true);
}

/**
 * {@link drainingReads}, with every chunk shown to `inspect` before aedes gets it: this is the one place
 * all input passes through, so a refused chunk (false) is never parsed or buffered by aedes.
 */
function guardedReads(socket: net.Socket, inspect: (chunk: Uint8Array) => boolean): void {
  const readOnce = socket.read.bind(socket);
  socket.read = ((size?: number) => {
    const chunks: Buffer[] = [];
    if (size !== undefined && size !== null) {
      const chunk = readOnce(size);
      if (chunk !== null) chunks.push(chunk);
    } else {
      for (let chunk = readOnce(); chunk !== null; chunk = readOnce()) chunks.push(chunk);
    }
    for (const chunk of chunks) if (!inspect(chunk)) return null;
    return chunks.length === 0 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }) as typeof socket.read;
}
