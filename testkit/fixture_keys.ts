/**
 * The committed key set of `tests/fixtures/envelope_v1/` (made with OpenSSL; the DSA key uses the fixture
 * domain), imported once for every test and bench that needs real keys without generating any.
 * @module
 */

import { type OpenDeps, type Suite, SUITE_DSA, SUITE_ED25519 } from "../crypto/envelope.ts";
import { importRsaPrivateKeyPem, importRsaPublicKeyPem } from "../crypto/rsa.ts";
import {
  importSigningKeyPem,
  importVerifyingKeyPem,
  type SigningKey,
  type VerifyingKey,
} from "../crypto/signature.ts";
import { FIXTURES_DIR } from "./fixtures.ts";

const FIXTURES = new URL("envelope_v1/", FIXTURES_DIR);

/**
 * Reads one file of the fixture key set as text.
 * @example
 * ```ts
 * const pem = await readEnvelopeFixture("dsa_public.pem");
 * ```
 */
export function readEnvelopeFixture(name: string): Promise<string> {
  return Deno.readTextFile(new URL(name, FIXTURES));
}

/** One fixture sender: its id, signing key and verifying key (and the latter's PEM for trust lists). */
export interface FixtureSender {
  sender: string;
  signingKey: SigningKey;
  publicKey: VerifyingKey;
  publicKeyPem: string;
}

/** The whole fixture key set. */
export interface FixtureKeys {
  rsaPublic: CryptoKey;
  rsaPrivate: CryptoKey;
  /** One sender per suite: `sensor-dsa` and `sensor-ed`. */
  senders: Record<Suite, FixtureSender>;
}

/**
 * Imports the fixture key set.
 * @example
 * ```ts
 * const { rsaPublic, senders } = await loadEnvelopeFixtureKeys();
 * senders[SUITE_DSA].signingKey.scheme; // "dsa-2048"
 * ```
 */
export async function loadEnvelopeFixtureKeys(): Promise<FixtureKeys> {
  const [rsaPublicPem, rsaPrivatePem, dsaPrivatePem, dsaPublicPem, edPrivatePem, edPublicPem] = await Promise
    .all(
      [
        "rsa_public.pem",
        "rsa_private.pem",
        "dsa_private.pem",
        "dsa_public.pem",
        "ed25519_private.pem",
        "ed25519_public.pem",
      ].map(readEnvelopeFixture),
    );
  return {
    rsaPublic: await importRsaPublicKeyPem(rsaPublicPem),
    rsaPrivate: await importRsaPrivateKeyPem(rsaPrivatePem),
    senders: {
      [SUITE_DSA]: {
        sender: "sensor-dsa",
        signingKey: await importSigningKeyPem("dsa-2048", dsaPrivatePem),
        publicKey: await importVerifyingKeyPem("dsa-2048", dsaPublicPem),
        publicKeyPem: dsaPublicPem,
      },
      [SUITE_ED25519]: {
        sender: "sensor-ed",
        signingKey: await importSigningKeyPem("ed25519", edPrivatePem),
        publicKey: await importVerifyingKeyPem("ed25519", edPublicPem),
        publicKeyPem: edPublicPem,
      },
    },
  };
}

/**
 * A receiver's trust in the fixture senders: each active, under its own suite; anyone else unknown.
 * @example
 * ```ts
 * const { senders } = await loadEnvelopeFixtureKeys();
 * fixtureTrust(senders).lookup("sensor-ed"); // { publicKey, suite: SUITE_ED25519, status: "active" }
 * ```
 */
export function fixtureTrust(senders: Record<Suite, FixtureSender>): OpenDeps["trust"] {
  return {
    lookup: (sender) => {
      for (const suite of [SUITE_DSA, SUITE_ED25519] as const) {
        if (senders[suite].sender === sender) {
          return { publicKey: senders[suite].publicKey, suite, status: "active" };
        }
      }
      return undefined;
    },
  };
}
