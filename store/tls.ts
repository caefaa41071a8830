/**
 * The home's TLS files on disk: keygen writes the CA certificate, the broker's certificate and key and
 * the home's Mosquitto config (store/home.ts names them); the broker reads its certificate and key, and
 * every client reads the CA certificate. Missing or unreadable files surface as {@link KeyFileError}s
 * whose one line names the file and the keygen command that makes it.
 *
 * The CA's private key is not kept. Its only use is to sign this one broker certificate, and the home
 * directory is mounted into every device's container: a CA key there would let whoever takes one device
 * mint a certificate for any name, trusted by every device for the CA's ten years. Without it, renewing
 * the broker certificate means running keygen again (a new CA), which the lab's devices pick up by
 * reading `tls/ca.crt` from the home at start.
 * @module
 */

import { mkdirSync } from "node:fs";
import { issueHomeTls } from "../crypto/x509.ts";
import { formatHomeMosquittoConf } from "../auth/mosquitto_conf.ts";
import { type HomePaths, keygenFix } from "./home.ts";
import { readKeyFileText, writePublicFile, writeSecretFile } from "./keyfiles.ts";

/** Host names every broker certificate carries: the lab runs clients and broker on one host. */
export const DEFAULT_BROKER_HOSTS: readonly string[] = ["localhost", "127.0.0.1"];

/** What {@link writeHomeTls} writes into the new home. */
export interface HomeTlsSpec {
  /** Extra DNS names or IP addresses of the broker (keygen's `--broker-host`), added to the defaults. */
  brokerHosts: readonly string[];
  /** Start of the certificates' validity, ms since the epoch. */
  nowMs: number;
  /** Where the home will finally live (absolute): the Mosquitto config names its files by these paths. */
  installedAt: HomePaths;
  /** The user Mosquitto drops to when started as root (see auth/mosquitto_conf.ts). */
  mosquittoUser?: string;
}

/**
 * Issues the home's CA and broker certificate and writes `tls/ca.crt`, `tls/broker.crt`,
 * `tls/broker.key` (0600), `mosquitto.conf` and the empty `mosquitto-data/` into `paths` (a fresh
 * staging directory). Returns the number of files written.
 * @example
 * ```ts
 * await writeHomeTls(homePaths(staging), { brokerHosts: ["broker"], nowMs: Date.now(), installedAt: homePaths("/srv/keys") });
 * ```
 */
export async function writeHomeTls(paths: HomePaths, spec: HomeTlsSpec): Promise<number> {
  const hosts = [...new Set([...DEFAULT_BROKER_HOSTS, ...spec.brokerHosts])];
  const tls = await issueHomeTls({ homeName: "secmqtt home", brokerHosts: hosts, nowMs: spec.nowMs });
  mkdirSync(paths.tlsDir, { mode: 0o700 });
  writePublicFile(paths.caCert, tls.ca.certPem);
  writePublicFile(paths.brokerCert, tls.broker.certPem);
  writeSecretFile(paths.brokerKey, tls.broker.keyPem);
  // Mosquitto saves its database here; 0700 like the rest of the home.
  mkdirSync(paths.mosquittoDataDir, { mode: 0o700 });
  const home = spec.installedAt;
  writePublicFile(
    paths.mosquittoConf,
    formatHomeMosquittoConf({
      homeDir: home.dir,
      certFile: home.brokerCert,
      keyFile: home.brokerKey,
      passwordFile: home.passwd,
      aclFile: home.acl,
      dataDir: home.mosquittoDataDir,
      user: spec.mosquittoUser,
    }),
  );
  return 4;
}

/**
 * Reads the home's CA certificate (PEM), the trust anchor clients verify the broker with.
 * @example
 * ```ts
 * const ca = readHomeCa(homePaths("keys"));
 * ```
 */
export function readHomeCa(paths: HomePaths): string {
  return readKeyFileText(paths.caCert, { label: "TLS CA certificate", fix: keygenFix(paths.dir, "--force") });
}

/**
 * Reads the broker's certificate and private key (PEM) for a TLS listener.
 * @example
 * ```ts
 * const { certPem, keyPem } = readBrokerTls(homePaths("keys"));
 * ```
 */
export function readBrokerTls(paths: HomePaths): { certPem: string; keyPem: string } {
  const fix = keygenFix(paths.dir, "--force");
  return {
    certPem: readKeyFileText(paths.brokerCert, { label: "broker TLS certificate", fix }),
    keyPem: readKeyFileText(paths.brokerKey, { label: "broker TLS key", fix }),
  };
}

/**
 * The login name of the user running this process, from /etc/passwd, or undefined when it has none
 * (a container run under a bare uid). Mosquitto's `user` option takes a name.
 * @example
 * ```ts
 * currentUserName(); // "alice"
 * ```
 */
export function currentUserName(): string | undefined {
  const uid = Deno.uid();
  if (uid === null) return undefined;
  let text: string;
  try {
    text = Deno.readTextFileSync("/etc/passwd");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const [name, , id] = line.split(":");
    if (id !== undefined && Number(id) === uid && /^[a-z_][a-z0-9_.-]*$/i.test(name)) return name;
  }
  return undefined;
}
