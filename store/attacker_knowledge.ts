/**
 * What the Phase II attacker may know of a secure home (docs/THREAT_MODEL.md): the files keygen makes
 * public — the actuator's RSA public key and the home's DSA domain — and the broker account of its own.
 * It never reads a private key or another device's password. The one loader of that knowledge, for
 * `secmqtt attack --secure` and the demo.
 * @module
 */

import { type DsaDomain, importDomainPem } from "../crypto/dsa.ts";
import { importRsaPublicKeyPem } from "../crypto/rsa.ts";
import { type BrokerCredentials, readCredential } from "./credentials.ts";
import { type HomePaths, keygenFix } from "./home.ts";
import { importKeyFile, KeyFileError } from "./keyfiles.ts";

/** The attacker's knowledge; its fields are those of the same name in the Phase II attacker's deps. */
export interface AttackerKnowledge {
  /** The attacker's own broker account. */
  ownCredentials: BrokerCredentials;
  /** The actuator's RSA-OAEP public key (public in the home). */
  actuatorPublicKey: CryptoKey;
  /** The home's DSA domain (public); undefined in an Ed25519 home, which has none. */
  dsaDomain?: DsaDomain;
}

/** Which accounts and keys the attacker uses. */
export interface AttackerKnowledgeOptions {
  /** The attacker's broker username (keygen's `--attacker NAME`). */
  username: string;
  /** A password given by the user (`--password`, say); default: the home's credential file for `username`. */
  password?: string;
  /** The actuator whose public key the attacker wraps session keys to. */
  actuatorId: string;
}

/**
 * Loads what the attacker may know. A missing or corrupt file is a {@link KeyFileError} naming the file
 * and the fix; only a missing DSA domain is not an error (an Ed25519 home has none).
 * @example
 * ```ts
 * const knowledge = await loadAttackerKnowledge(homePaths("keys"), { username: "mallory", actuatorId: "door-actuator" });
 * await runSecureAttacks(options, { clock, log, transport, connect, ...knowledge });
 * ```
 */
export async function loadAttackerKnowledge(
  paths: HomePaths,
  options: AttackerKnowledgeOptions,
): Promise<AttackerKnowledge> {
  const ownCredentials = options.password !== undefined
    ? { username: options.username, password: options.password }
    : readCredential(paths, options.username, keygenFix(paths.dir, `--attacker ${options.username} --force`));
  const actuatorPublicKey = await importKeyFile(paths.publicKey(options.actuatorId), importRsaPublicKeyPem, {
    label: "actuator public key",
    fix: keygenFix(paths.dir),
  });
  return { ownCredentials, actuatorPublicKey, dsaDomain: await loadDsaDomain(paths) };
}

async function loadDsaDomain(paths: HomePaths): Promise<DsaDomain | undefined> {
  try {
    return await importKeyFile(paths.dsaParams, importDomainPem, {
      label: "DSA domain",
      fix: keygenFix(paths.dir),
    });
  } catch (error) {
    if (error instanceof KeyFileError && error.code === "KEY_FILE_MISSING") return undefined;
    throw error;
  }
}
