/**
 * Envelopes the attacker builds from scratch: correctly encrypted for the actuator under a session key of
 * its own, with the signature left for the caller to forge, leave out, or make with a key of its own.
 * @module
 */

import { aesGcmEncrypt, importAesKey } from "../../crypto/aes.ts";
import { toBase64Url } from "../../crypto/codec.ts";
import {
  envelopeAssociatedData,
  type EnvelopeJson,
  envelopeSignedBytes,
  NONCE_BYTES,
  type RandomBytes,
} from "../../crypto/envelope.ts";
import { SESSION_KEY_BYTES, wrapSessionKey } from "../../crypto/rsa.ts";

/** The cleartext fields of an envelope the attacker builds from scratch. */
export interface CraftFields {
  suite: string;
  sender: string;
  counter: number;
  ts: number;
  msgId: string;
  topic: string;
}

/**
 * A well-formed envelope carrying `plaintext`, encrypted under a fresh random session key wrapped to the
 * actuator, with `sig` still empty: returns the JSON and the bytes a signer would sign (PROTOCOL.md).
 * @example
 * ```ts
 * const { json, signed } = await craftUnsigned(fields, reading, { actuatorPublicKey, randomBytes });
 * const sig = await signMessage(ownKey.signingKey, signed);
 * ```
 */
export async function craftUnsigned(
  fields: CraftFields,
  plaintext: Uint8Array,
  keys: { actuatorPublicKey: CryptoKey; randomBytes: RandomBytes },
): Promise<{ json: EnvelopeJson; signed: Uint8Array }> {
  const sessionKey = keys.randomBytes(SESSION_KEY_BYTES);
  const wrappedKey = await wrapSessionKey(keys.actuatorPublicKey, sessionKey);
  const nonce = keys.randomBytes(NONCE_BYTES);
  const aad = envelopeAssociatedData(fields);
  const ciphertext = await aesGcmEncrypt(await importAesKey(sessionKey), nonce, plaintext, aad);
  const signed = envelopeSignedBytes({ ...fields, wrappedKey, nonce, ciphertext });
  return {
    json: {
      v: 1,
      suite: fields.suite,
      sender: fields.sender,
      counter: fields.counter,
      ts: fields.ts,
      msg_id: fields.msgId,
      wrapped_key: toBase64Url(wrappedKey),
      nonce: toBase64Url(nonce),
      ciphertext: toBase64Url(ciphertext),
      sig: "",
    },
    signed,
  };
}
