/**
 * Attacks from the network, without an account: an unauthenticated connection that announces a huge
 * CONNECT and streams into it (does the broker buffer it before login?), and reading the credentials
 * an on-path relay (relay.ts) saw go by.
 * @module
 */

import type { AttackContext } from "./context.ts";
import { waitAtMost } from "./account.ts";
import type { AttackRecipe, ProbeOutcome } from "./recipe.ts";

/** The size the oversize CONNECT's fixed header announces (200 MiB). */
export const PREAUTH_DECLARED_BYTES = 200 * 1024 * 1024;
/** The most the attacker streams into it: a few MiB show whether the broker buffers, without hurting it. */
export const PREAUTH_BUDGET_BYTES = 4 * 1024 * 1024;
/** How long the attacker keeps streaming (and then waits) for the broker to close before calling it held. */
export const PREAUTH_WINDOW_MS = 5_000;
/** How long `credential-sniff` waits for a device to connect through the relay. */
export const SNIFF_WAIT_MS = 5_000;
const CHUNK_BYTES = 64 * 1024;
const SNIFF_POLL_MS = 50;

/**
 * The fixed header of a CONNECT announcing `bytes` of remaining length (MQTT 3.1.1 §2.2.3).
 * @example
 * ```ts
 * connectHeader(321); // Uint8Array [0x10, 0xc1, 0x02]
 * ```
 */
export function connectHeader(bytes: number): Uint8Array {
  const out = [0x10];
  let rest = bytes;
  do {
    const digit = rest % 128;
    rest = Math.floor(rest / 128);
    out.push(rest > 0 ? digit | 0x80 : digit);
  } while (rest > 0);
  return new Uint8Array(out);
}

/**
 * Opens a raw byte stream to a broker URL: TCP for `mqtt://`, verified TLS for `mqtts://` (with `ca`).
 * @example
 * ```ts
 * const conn = await openBrokerStream("mqtts://127.0.0.1:8883", caPem);
 * ```
 */
export async function openBrokerStream(url: string, ca?: string): Promise<Deno.Conn> {
  const parsed = new URL(url);
  const hostname = parsed.hostname.replace(/^\[|\]$/g, "");
  if (parsed.protocol === "mqtts:") {
    const port = Number(parsed.port || 8883);
    return await Deno.connectTls({ hostname, port, ...(ca !== undefined ? { caCerts: [ca] } : {}) });
  }
  return await Deno.connect({ hostname, port: Number(parsed.port || 1883) });
}

/**
 * `preauth-oversize`: an unauthenticated connection whose CONNECT announces 200 MiB, followed by at most
 * {@link PREAUTH_BUDGET_BYTES} of it. Blocked when the broker closes the connection early (checking the
 * fixed header against its packet cap); the record says how many bytes it took before that.
 * @example
 * ```ts
 * const outcome = await preauthOversize.build(ctx, "connect-200mib", 1).run();
 * ```
 */
export const preauthOversize: AttackRecipe = {
  level: "probe",
  plan: (ctx) => ctx.openStream !== undefined ? ["connect-200mib"] : [],
  build: (ctx) => ({
    expect: "PACKET_TOO_LARGE",
    run: () => streamOversizeConnect(ctx),
  }),
};

async function streamOversizeConnect(ctx: AttackContext): Promise<ProbeOutcome> {
  const fields = (written: number) => ({ declared_bytes: PREAUTH_DECLARED_BYTES, bytes_written: written });
  let conn: Deno.Conn;
  try {
    conn = await ctx.openStream!();
  } catch {
    return { succeeded: false, code: "CONNECT_FAILED", fields: fields(0) };
  }
  let closedByBroker = false;
  let closedByUs = false;
  const brokerClosed = () => {
    if (!closedByUs) closedByBroker = true;
  };
  const reading = (async () => {
    const buffer = new Uint8Array(1024);
    try {
      while (await conn.read(buffer) !== null) { /* the broker has nothing to say before CONNACK */ }
    } catch {
      // a reset ends it as a close does
    }
    brokerClosed();
  })();
  let written = 0;
  const sending = (async () => {
    try {
      const header = connectHeader(PREAUTH_DECLARED_BYTES);
      for (let at = 0; at < header.length;) at += await conn.write(header.subarray(at));
      const zeros = new Uint8Array(CHUNK_BYTES);
      while (!closedByBroker && written < PREAUTH_BUDGET_BYTES) {
        written += await conn.write(zeros.subarray(0, Math.min(CHUNK_BYTES, PREAUTH_BUDGET_BYTES - written)));
      }
      // Everything sent and still open: give the broker the rest of the window to close it.
      await reading;
    } catch {
      brokerClosed(); // a reset or a broken pipe: the broker closed its end
    }
  })();
  await waitAtMost(ctx, PREAUTH_WINDOW_MS, sending);
  closedByUs = true;
  try {
    conn.close();
  } catch {
    // already closed
  }
  await Promise.all([reading, sending]);
  return closedByBroker
    ? { succeeded: false, code: "CLOSED_BEFORE_LOGIN", fields: fields(written) }
    : { succeeded: true, fields: fields(written) };
}

/**
 * `credential-sniff`: looks at what the on-path relay read from the connections a device made through
 * it. Plaintext MQTT gives away the username and password; over TLS the relay sees only ciphertext.
 * Planned only when the run has a relay. The password itself is never logged, only its length
 * (`credential_bytes`).
 * @example
 * ```ts
 * const outcome = await credentialSniff.build(ctx, "through-relay", 1).run();
 * ```
 */
export const credentialSniff: AttackRecipe = {
  level: "probe",
  plan: (ctx) => ctx.relay !== undefined ? ["through-relay"] : [],
  build: (ctx) => ({
    expect: "TLS",
    async run(): Promise<ProbeOutcome> {
      const relay = ctx.relay!;
      const deadline = ctx.clock.now() + SNIFF_WAIT_MS;
      while (relay.observations().length === 0 && ctx.clock.now() < deadline) {
        await ctx.clock.sleep(SNIFF_POLL_MS);
      }
      const seen = relay.observations();
      const read = seen.find((o) => o.readable && o.password !== undefined);
      if (read !== undefined) {
        return {
          succeeded: true,
          fields: {
            connections: seen.length,
            username: read.username ?? null,
            credentials_read: true,
            credential_bytes: read.password!.length,
          },
        };
      }
      const code = seen.length === 0
        ? "NO_TRAFFIC"
        : seen.some((o) => o.readable)
        ? "NO_CREDENTIALS"
        : "NOT_READABLE";
      return { succeeded: false, code, fields: { connections: seen.length } };
    },
  }),
};
