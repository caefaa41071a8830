/**
 * `secmqtt keygen`: creates a secure home — device identities, the actuator's trust list and the broker's
 * password and ACL files — and revokes senders.
 * @module
 */

import { mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { type AclFile, formatAcl } from "../auth/acl.ts";
import { SecmqttError } from "../core/errors.ts";
import { createPasswordFile } from "../auth/passwd.ts";
import { toBase64Url } from "../crypto/codec.ts";
import { type DsaDomain, exportDomainPem, generateDomain, importDomainPem } from "../crypto/dsa.ts";
import { type Suite, SUITE_DSA, SUITE_ED25519, SUITE_SIGNATURE_SCHEME } from "../crypto/envelope.ts";
import { exportRsaPrivateKeyPem, exportRsaPublicKeyPem, generateRsaKeyPair } from "../crypto/rsa.ts";
import { exportSigningKeyPem, exportVerifyingKeyPem, generateSignatureKeyPair } from "../crypto/signature.ts";
import { homePaths } from "../store/home.ts";
import { currentUserName, writeHomeTls } from "../store/tls.ts";
import { isIpAddress } from "../crypto/x509.ts";
import { ReplayStore } from "../store/replay.ts";
import { KeyFileError, readKeyFileText, writePublicFile, writeSecretFile } from "../store/keyfiles.ts";
import {
  addSender,
  emptyTrustList,
  formatTrustList,
  loadTrustList,
  revoke,
  saveTrustList,
} from "../store/trust.ts";
import { SECURE_TOPIC_FILTER, secureTopicFor } from "./door.ts";

/** What a home holds. */
export interface HomeOptions {
  /** Directory to create. */
  outDir: string;
  /** Sensor ids. */
  sensors: string[];
  /** Actuator id. */
  actuatorId: string;
  /** Signature suite of every sensor. */
  suite: Suite;
  /** Also create a broker account for an attacker who holds credentials of its own (the demo's "mallory"). */
  attacker?: string;
  /** Overwrite an existing home. */
  force: boolean;
  /** Reuse this DSA domain instead of generating one (generation takes about a second). */
  dsaDomain?: DsaDomain;
  /**
   * Extra DNS names or IP addresses the broker's TLS certificate carries (`--broker-host`), besides
   * localhost and 127.0.0.1.
   */
  brokerHosts?: readonly string[];
  /**
   * Broker accounts for the actuator's instances behind a shared subscription (default 1): `<id>`,
   * `<id>-2` … `<id>-N`, each with the actuator's read rights and its own password.
   */
  actuatorAccounts?: number;
}

/** What {@link createHome} wrote. */
export interface HomeSummary {
  dir: string;
  sensors: string[];
  actuatorId: string;
  suite: Suite;
  accounts: string[];
  files: number;
}

/**
 * Ids keygen accepts for sensors, the actuator and the attacker account. They become file names in the
 * home and broker usernames, so nothing that could leave the directory (`/`, `..`) or surprise a
 * Mosquitto file (`:`, spaces, upper case next to lower case) gets through.
 */
export const HOME_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** An id or host name given to keygen is unusable; the CLI prints it as one line and exits 2. */
export class HomeIdError extends SecmqttError {
  /** Exit-status kind: a value the user gave on the command line. */
  readonly kind = "usage";
  /** Stable code. */
  readonly code = "CONFIG_INVALID_ID";
}

/**
 * Checks every id of a home before anything is written: each must match {@link HOME_ID_PATTERN}, and
 * no two may be equal (they would share key files or a broker account). Throws {@link HomeIdError}.
 * @example
 * ```ts
 * checkHomeIds({ sensors: ["../escaped"], actuatorId: "door-actuator" }); // throws HomeIdError
 * ```
 */
export function checkHomeIds(
  ids: Pick<HomeOptions, "sensors" | "actuatorId" | "attacker" | "actuatorAccounts">,
): void {
  const named: [flag: string, id: string][] = [
    ...ids.sensors.map((id): [string, string] => ["--sensor", id]),
    ["--actuator", ids.actuatorId],
    ...extraActuatorAccounts(ids.actuatorId, ids.actuatorAccounts).map((id): [string, string] => [
      "--actuator-accounts",
      id,
    ]),
    ...(ids.attacker !== undefined ? [["--attacker", ids.attacker] as [string, string]] : []),
  ];
  const seen = new Map<string, string>();
  for (const [flag, id] of named) {
    if (!HOME_ID_PATTERN.test(id)) {
      throw new HomeIdError(
        `${flag} ${JSON.stringify(id)} is not a valid id: use 1 to 63 of a-z, 0-9, '_' and '-', ` +
          `starting with a letter or digit`,
      );
    }
    const first = seen.get(id);
    if (first !== undefined) {
      throw new HomeIdError(
        `${flag} ${JSON.stringify(id)} is already used by ${first}: give every device its own id`,
      );
    }
    seen.set(id, flag);
  }
}

/** A DNS name as a certificate's subjectAltName carries it: dot-separated labels of a-z, 0-9 and '-'. */
const DNS_NAME_PATTERN =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * Checks every `--broker-host` before anything is written: each must be a DNS name or an IP address,
 * the two things a TLS client matches against the certificate's subjectAltName. Throws {@link HomeIdError}.
 * @example
 * ```ts
 * checkBrokerHosts(["broker", "192.168.1.10"]); // passes
 * checkBrokerHosts(["http://broker"]); // throws HomeIdError
 * ```
 */
export function checkBrokerHosts(hosts: readonly string[]): void {
  for (const host of hosts) {
    if (!DNS_NAME_PATTERN.test(host) && !isIpAddress(host)) {
      throw new HomeIdError(
        `--broker-host ${JSON.stringify(host)} is not a host name or IP address: give the name clients ` +
          `put in --broker mqtts://NAME:8883, such as broker or 192.168.1.10`,
      );
    }
  }
}

/**
 * The broker accounts of an actuator's further instances: `<id>-2` … `<id>-N` (the first instance is
 * `<id>` itself). Each lies in `<id>`'s client-id namespace only by prefix, and is an account of its own,
 * so auth/client_id.ts gives `<id>-2` (and its `<id>-2-…` ids) to that instance alone.
 * @example
 * ```ts
 * extraActuatorAccounts("door-actuator", 3); // ["door-actuator-2", "door-actuator-3"]
 * ```
 */
export function extraActuatorAccounts(actuatorId: string, count = 1): string[] {
  return Array.from({ length: Math.max(0, count - 1) }, (_, i) => `${actuatorId}-${i + 2}`);
}

/** Broker password length in random bytes (base64url-encoded into the credential file). */
export const BROKER_PASSWORD_BYTES = 24;

/**
 * The ACL of a home. One pattern line lets every account write only its own device topic
 * (`pattern write home/secure/%u/door`, docs/THREAT_MODEL.md); the actuator may read every device topic
 * (`home/secure/+/door`); the attacker account (if any) may read `home/#` and write every device topic:
 * the broad-rights model (an open or compromised broker) under which the Phase II envelope attacks reach
 * the actuator on the victim's own topic. Sensors need no lines of their own.
 * @example
 * ```ts
 * homeAcl(["door-sensor-1"], "door-actuator", "mallory").users.length; // 2
 * ```
 */
export function homeAcl(
  _sensors: string[],
  actuatorId: string,
  attacker?: string,
  actuatorAccounts: string[] = [],
): AclFile {
  const users: AclFile["users"] = [
    ...[actuatorId, ...actuatorAccounts].map((username) => ({
      username,
      rules: [{ access: "read" as const, topic: SECURE_TOPIC_FILTER }],
    })),
  ];
  if (attacker) {
    users.push({
      username: attacker,
      rules: [{ access: "read", topic: "home/#" }, { access: "write", topic: SECURE_TOPIC_FILTER }],
    });
  }
  return { anonymous: [], users, patterns: [{ access: "write", topic: secureTopicFor("%u") }] };
}

/**
 * Creates a home directory. Refuses to touch an existing home unless `force`. Every id is checked before
 * anything is written, and the home is built in a staging directory and then renamed into place, so a
 * failure leaves no half-written home behind.
 * @example
 * ```ts
 * await createHome({ outDir: "keys", sensors: ["door-sensor-1"], actuatorId: "door-actuator", suite: SUITE_DSA, force: false });
 * ```
 */
export async function createHome(options: HomeOptions): Promise<HomeSummary> {
  checkHomeIds(options);
  checkBrokerHosts(options.brokerHosts ?? []);
  const out = options.outDir;
  const trustPath = homePaths(out).trust;
  if (!options.force) {
    try {
      Deno.statSync(trustPath);
      throw new KeyFileError(
        "KEY_FILE_EXISTS",
        trustPath,
        `${trustPath} exists; use --force to replace the home`,
      );
    } catch (error) {
      if (error instanceof KeyFileError) throw error;
    }
  }
  const exists = isDirectory(out);
  // Beside --out when it is new, so one rename installs it; inside it when it exists (it may be a
  // mount point, as the compose stack's /keys is, which cannot be replaced by a rename).
  const suffix = toBase64Url(crypto.getRandomValues(new Uint8Array(6)));
  if (!exists) mkdirSync(dirname(out), { recursive: true });
  const staging = exists
    ? join(out, `.keygen-${suffix}`)
    : join(dirname(out), `.${basename(out)}.keygen-${suffix}`);
  mkdirSync(staging, { mode: 0o700 });
  try {
    const summary = await writeHome(staging, resolve(out), options);
    installHome(staging, out, exists);
    return { ...summary, dir: out };
  } finally {
    // Gone after a whole-directory rename; what is left of a failed build goes with it.
    removeIfPresent(staging);
  }
}

function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Moves a finished home from `staging` to `out`: one rename when `out` is new, else entry by entry. */
function installHome(staging: string, out: string, outExists: boolean): void {
  if (!outExists) {
    Deno.renameSync(staging, out);
    return;
  }
  for (const entry of Deno.readDirSync(staging)) {
    const target = join(out, entry.name);
    // A stale write-ahead log of the replaced replay database must not be applied to the new one.
    if (entry.name.endsWith(".replay.sqlite")) {
      for (const sidecar of [`${target}-wal`, `${target}-shm`]) removeIfPresent(sidecar);
    }
    // A rename replaces a file but not a non-empty directory (credentials/ of the replaced home).
    if (entry.isDirectory && isDirectory(target)) Deno.removeSync(target, { recursive: true });
    Deno.renameSync(join(staging, entry.name), target);
  }
  Deno.chmodSync(out, 0o700);
}

/** Writes every file of a home into the fresh directory `dir`, which will be installed at `installedAt`. */
async function writeHome(dir: string, installedAt: string, options: HomeOptions): Promise<HomeSummary> {
  const paths = homePaths(dir);
  const force = false; // `dir` is new and empty
  mkdirSync(paths.credentialsDir, { recursive: true, mode: 0o700 });
  Deno.chmodSync(paths.dir, 0o700);
  let files = 0;

  let domain: DsaDomain | undefined = options.dsaDomain;
  if (options.suite === SUITE_DSA) {
    domain ??= await generateDomain("2048-256");
    writePublicFile(paths.dsaParams, exportDomainPem(domain), { force });
    files++;
  }

  let trust = emptyTrustList();
  for (const sensor of options.sensors) {
    const scheme = SUITE_SIGNATURE_SCHEME[options.suite];
    const pair = await generateSignatureKeyPair(scheme, domain);
    writeSecretFile(paths.privateKey(sensor), await exportSigningKeyPem(pair.signingKey), { force });
    const publicPem = await exportVerifyingKeyPem(pair.verifyingKey);
    writePublicFile(paths.publicKey(sensor), publicPem, { force });
    trust = addSender(trust, sensor, { suite: options.suite, publicKeyPem: publicPem });
    files += 2;
  }

  const rsa = await generateRsaKeyPair();
  writeSecretFile(paths.privateKey(options.actuatorId), await exportRsaPrivateKeyPem(rsa.privateKey), {
    force,
  });
  writePublicFile(paths.publicKey(options.actuatorId), await exportRsaPublicKeyPem(rsa.publicKey), { force });
  writePublicFile(paths.trust, formatTrustList(trust), { force });
  files += 3;
  // The actuator's replay state is made with the home, so an actuator that finds it missing knows it was
  // lost and refuses to start (issue 11 item 5); its creation time is the floor of acceptable timestamps.
  ReplayStore.open(paths.replayDb(options.actuatorId)).close();
  files++;

  const extraActuators = extraActuatorAccounts(options.actuatorId, options.actuatorAccounts);
  const accounts = [
    ...options.sensors,
    options.actuatorId,
    ...extraActuators,
    ...(options.attacker ? [options.attacker] : []),
  ];
  const users = accounts.map((username) => ({
    username,
    password: toBase64Url(crypto.getRandomValues(new Uint8Array(BROKER_PASSWORD_BYTES))),
  }));
  for (const { username, password } of users) {
    writeSecretFile(paths.credential(username), password + "\n", { force });
    files++;
  }
  // Salted hashes, but a readable one invites offline guessing: 0600, like the keys. A Mosquitto that
  // drops to its own user needs a copy it owns (the compose stack's broker-auth service makes one).
  writeSecretFile(paths.passwd, createPasswordFile(users), { force });
  writePublicFile(
    paths.acl,
    formatAcl(homeAcl(options.sensors, options.actuatorId, options.attacker, extraActuators)),
    {
      force,
    },
  );
  files += 2;
  files += await writeHomeTls(paths, {
    brokerHosts: options.brokerHosts ?? [],
    nowMs: Date.now(),
    installedAt: homePaths(installedAt),
    mosquittoUser: currentUserName(),
  });
  return {
    dir: paths.dir,
    sensors: options.sensors,
    actuatorId: options.actuatorId,
    suite: options.suite,
    accounts,
    files,
  };
}

/**
 * Marks a sender revoked in the home's trust list (the actuator refuses it from its next start).
 * @example
 * ```ts
 * revokeSender("keys", "door-sensor-2");
 * ```
 */
export function revokeSender(dir: string, sensorId: string): void {
  const paths = homePaths(dir);
  saveTrustList(paths.trust, revoke(loadTrustList(paths.trust), sensorId));
}

/**
 * Reads a DSA domain file (for `--dsa-params`, to reuse one domain across homes).
 * @example
 * ```ts
 * const domain = readDomainFile("tests/fixtures/dsa2048_256_params.pem");
 * ```
 */
export function readDomainFile(path: string): DsaDomain {
  return importDomainPem(readKeyFileText(path));
}

/** Suites by the short names the CLI accepts. */
export const SUITE_BY_NAME: Readonly<Record<string, Suite>> = { dsa: SUITE_DSA, ed25519: SUITE_ED25519 };
