/**
 * The MQTT client every role uses: MQTT.js over TCP, wrapped in a small promise-based
 * {@link MqttTransport}. The only file that imports npm:mqtt.
 * @module
 */

import mqtt from "mqtt";
import { CodedError } from "../core/errors.ts";
import { MqttFrameGuard } from "./frame_guard.ts";

/** Options for {@link connectMqtt}; defaults follow MQTT.js. */
export interface MqttConnectOptions {
  /** `mqtt://host:port`, or `mqtts://host:port` for TLS (the broker's certificate is always verified). */
  url: string;
  /**
   * PEM of the certificate authority that signed the broker's certificate (mosquitto_pub's `--cafile`);
   * without it, `mqtts://` trusts the system's CAs only.
   */
  ca?: string;
  /** Broker username. */
  username?: string;
  /** Broker password. */
  password?: string;
  /** Client id; default `<username>-<random>`, or `secmqtt-<random>` without a username. */
  clientId?: string;
  /** Start a clean session (default true). False keeps QoS 1 subscriptions across reconnects. */
  clean?: boolean;
  /** Ms between reconnect attempts after a lost connection (default 1000; 0 disables). */
  reconnectPeriodMs?: number;
  /** Ms to wait for CONNACK (default 5000). */
  connectTimeoutMs?: number;
  /** Keepalive in seconds (default 30). */
  keepaliveSeconds?: number;
  /**
   * Largest packet accepted from the broker, fixed header included; a bigger one closes the connection
   * as soon as its header arrives, before MQTT.js buffers its body. Default: no limit (Phase I).
   */
  maxPacketBytes?: number;
}

/** How long {@link MqttTransport.close} waits for in-flight messages before closing anyway. */
export const CLOSE_GRACE_MS = 2000;

/**
 * A handler for incoming messages; `payload` is the exact bytes from the wire. A handler that returns a
 * promise applies backpressure: the next message is not read, and this one not acknowledged, until it
 * settles.
 */
export type MessageHandler = (topic: string, payload: Uint8Array) => unknown;

/** A connected client. */
export interface MqttTransport {
  /** The client id in use. */
  readonly clientId: string;
  /** Publishes and resolves when the broker has it (PUBACK for QoS 1, written for QoS 0). */
  publish(
    topic: string,
    payload: Uint8Array | string,
    options?: { qos?: 0 | 1; retain?: boolean },
  ): Promise<void>;
  /** Subscribes; rejects with {@link TransportError} `SUBSCRIBE_REFUSED` when the broker answers 0x80. */
  subscribe(filter: string, options?: { qos?: 0 | 1 }): Promise<void>;
  /** Registers a message handler (several may be registered). */
  onMessage(handler: MessageHandler): void;
  /** Registers a callback for connection state changes. */
  onState(handler: (state: "connected" | "reconnecting" | "offline" | "closed") => void): void;
  /** Disconnects cleanly. */
  close(): Promise<void>;
}

/** Stable codes of {@link TransportError}. */
export type TransportErrorCode =
  | "NOT_AUTHORIZED"
  | "CONNECT_REFUSED"
  | "CONNECT_FAILED"
  | "CONNECT_ABORTED"
  | "SUBSCRIBE_REFUSED"
  | "PUBLISH_FAILED";

/** A transport failure with a stable code. */
export class TransportError extends CodedError<TransportErrorCode> {
  /** Exit-status kind: the broker refused or could not be reached. */
  readonly kind = "state";
}

/**
 * Connects and resolves once the broker accepted the CONNECT; rejects with a {@link TransportError}
 * (`NOT_AUTHORIZED` for return codes 4/5) otherwise.
 * @example
 * ```ts
 * const t = await connectMqtt({ url: "mqtt://127.0.0.1:1883", clientId: "sensor-1" });
 * await t.publish("home/door", '{"event":"open"}', { qos: 1 });
 * await t.close();
 * ```
 */
export function connectMqtt(options: MqttConnectOptions): Promise<MqttTransport> {
  // With a username, in the account's own namespace, as a secure broker requires (auth/client_id.ts).
  const clientId = options.clientId ?? `${options.username ?? "secmqtt"}-${crypto.randomUUID().slice(0, 8)}`;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const client = mqtt.connect(options.url, {
    clientId,
    username: options.username,
    password: options.password,
    clean: options.clean ?? true,
    protocolVersion: 4,
    reconnectPeriod: options.reconnectPeriodMs ?? 1000,
    connectTimeout: connectTimeoutMs,
    keepalive: options.keepaliveSeconds ?? 30,
    // TLS: the broker must prove its name with a certificate from this CA. Never turned off.
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    rejectUnauthorized: true,
  });
  if (options.maxPacketBytes !== undefined) refuseOversizePackets(client, options.maxPacketBytes);
  const stateHandlers: ((s: "connected" | "reconnecting" | "offline" | "closed") => void)[] = [];
  // A resumed session's queued messages arrive right after CONNACK, before the caller can register a
  // handler; they are held here (already acknowledged to the broker) and handed to the first handler.
  const handlers: MessageHandler[] = [];
  const pending: { topic: string; payload: Uint8Array; delivered: () => void }[] = [];
  let delivery: Promise<unknown> = Promise.resolve();
  const deliver = (topic: string, payload: Uint8Array) => Promise.all(handlers.map((h) => h(topic, payload)));
  client.on("message", (topic, payload) => {
    const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
    delivery = handlers.length > 0
      ? deliver(topic, bytes)
      : new Promise<void>((delivered) => pending.push({ topic, payload: bytes, delivered }));
  });
  // MQTT.js calls handleMessage right after emitting 'message', sends the PUBACK and reads the next packet
  // only once its callback runs: waiting for the handlers here is what carries backpressure to the broker.
  client.handleMessage = (_packet, callback) => {
    delivery.then(() => callback(), () => callback());
  };
  client.on("connect", () => stateHandlers.forEach((h) => h("connected")));
  client.on("reconnect", () => stateHandlers.forEach((h) => h("reconnecting")));
  client.on("offline", () => stateHandlers.forEach((h) => h("offline")));
  client.on("close", () => stateHandlers.forEach((h) => h("closed")));
  // Without reconnects, a publish or subscribe still waiting for its acknowledgement when the connection
  // closes (the broker refused it by ACL or retain rule and hung up) would never settle: fail it instead.
  const unacknowledged = new Set<() => void>();
  if ((options.reconnectPeriodMs ?? 1000) === 0) {
    client.on("close", () => {
      for (const fail of unacknowledged) fail();
      unacknowledged.clear();
    });
  }

  const transport: MqttTransport = {
    clientId,
    publish(topic, payload, publishOptions = {}) {
      return new Promise((resolve, reject) => {
        const body = typeof payload === "string" ? payload : toBuffer(payload);
        const fail = () =>
          reject(
            new TransportError(
              "PUBLISH_FAILED",
              `publish to ${topic}: the connection closed before a PUBACK`,
            ),
          );
        unacknowledged.add(fail);
        client.publish(
          topic,
          body,
          { qos: publishOptions.qos ?? 1, retain: publishOptions.retain ?? false },
          (error) => {
            unacknowledged.delete(fail);
            if (error) {
              reject(new TransportError("PUBLISH_FAILED", `publish to ${topic} failed: ${error.message}`));
            } else resolve();
          },
        );
      });
    },
    subscribe(filter, subscribeOptions = {}) {
      return new Promise((resolve, reject) => {
        const fail = () =>
          reject(
            new TransportError("SUBSCRIBE_REFUSED", `subscribe to ${filter}: the connection closed first`),
          );
        unacknowledged.add(fail);
        client.subscribe(filter, { qos: subscribeOptions.qos ?? 1 }, (error, granted) => {
          unacknowledged.delete(fail);
          if (error) {
            return reject(
              new TransportError("SUBSCRIBE_REFUSED", `subscribe to ${filter} failed: ${error.message}`),
            );
          }
          if (granted?.some((g) => g.qos === 128)) {
            return reject(
              new TransportError("SUBSCRIBE_REFUSED", `broker refused subscription to ${filter}`),
            );
          }
          resolve();
        });
      });
    },
    onMessage(handler) {
      handlers.push(handler);
      for (const early of pending.splice(0)) {
        Promise.resolve(handler(early.topic, early.payload)).then(early.delivered, early.delivered);
      }
    },
    onState(handler) {
      stateHandlers.push(handler);
    },
    close() {
      return new Promise((resolve) => {
        // A graceful end waits for in-flight QoS 1 publishes; one the broker dropped would wait forever.
        const force = setTimeout(() => client.end(true, {}, () => resolve()), CLOSE_GRACE_MS);
        client.end(false, {}, () => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };

  return new Promise((resolve, reject) => {
    const onConnect = () => {
      client.off("error", onError);
      client.on("error", () => {}); // later errors surface as state changes; MQTT.js reconnects
      resolve(transport);
    };
    const onError = (error: Error & { code?: number | string }) => {
      client.off("connect", onConnect);
      client.end(true);
      if (error.code === 5 || error.code === 4) {
        reject(new TransportError("NOT_AUTHORIZED", `broker refused the connection: not authorised`));
      } else if (typeof error.code === "number") {
        reject(new TransportError("CONNECT_REFUSED", `broker refused the connection (code ${error.code})`));
      } else {
        reject(new TransportError("CONNECT_FAILED", `cannot connect to ${options.url}: ${error.message}`));
      }
    };
    // A refused TCP connection makes MQTT.js retry quietly; give up after the connect timeout.
    const timer = setTimeout(() => {
      client.off("connect", onConnect);
      client.off("error", onError);
      client.end(true);
      reject(
        new TransportError(
          "CONNECT_FAILED",
          `cannot connect to ${options.url}: no CONNACK within ${connectTimeoutMs} ms`,
        ),
      );
    }, connectTimeoutMs);
    client.once("connect", () => clearTimeout(timer));
    client.once("error", () => clearTimeout(timer));
    client.once("connect", onConnect);
    client.once("error", onError);
  });
}

/**
 * MQTT.js checks packet sizes only for MQTT 5 and only once a packet is parsed, that is after buffering
 * it whole. This looks at each fixed header as the bytes arrive instead, on the current stream and on
 * every stream MQTT.js builds when it reconnects.
 */
function refuseOversizePackets(client: mqtt.MqttClient, maxPacketBytes: number): void {
  type Stream = { prependListener(e: "data", f: (c: Uint8Array) => void): void; destroy(e: Error): void };
  const watch = (stream: Stream) => {
    const guard = new MqttFrameGuard(() => maxPacketBytes, { connectFirst: false });
    stream.prependListener("data", (chunk) => {
      const verdict = guard.feed(chunk);
      if (!verdict.ok) {
        const detail = verdict.code === "PACKET_TOO_LARGE"
          ? `a ${verdict.declaredBytes}-byte packet, over the ${verdict.limitBytes}-byte limit`
          : "a malformed packet length";
        stream.destroy(new Error(`broker sent ${detail}`));
      }
    });
  };
  const holder = client as unknown as { stream: Stream; streamBuilder: (c: unknown) => Stream };
  watch(holder.stream);
  const build = holder.streamBuilder;
  holder.streamBuilder = (c) => {
    const stream = build(c);
    watch(stream);
    return stream;
  };
}

function toBuffer(bytes: Uint8Array) {
  // MQTT.js wants a Node Buffer; wrap without copying.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
