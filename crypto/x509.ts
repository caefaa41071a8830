/**
 * The home's TLS certificates: a small certificate authority of its own and a broker certificate it
 * signs, X.509 v3 (RFC 5280) with ECDSA P-256 / SHA-256 keys from WebCrypto, encoded with crypto/der.ts.
 * Mosquitto (OpenSSL), Deno's TLS (rustls) and MQTT.js verify the broker against `ca.crt`.
 *
 * Only what a home needs is built: a self-signed CA (basicConstraints cA, keyCertSign), and a server
 * certificate (not a CA, digitalSignature, serverAuth) with subjectAltName entries for the broker's host
 * names and IP addresses — TLS clients match the SAN, never the common name (RFC 6125 §6.4.4).
 * Pure: keys and times are arguments; nothing is read or written here (store/tls.ts writes the files).
 * @module
 */

import { toPem } from "./codec.ts";
import {
  DER_TAG,
  encodeElement,
  encodeInteger,
  encodeOctetString,
  encodeOid,
  encodeSequence,
} from "./der.ts";

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

const TAG = {
  BOOLEAN: 0x01,
  UTF8_STRING: 0x0c,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  EXPLICIT_0: 0xa0,
  EXPLICIT_3: 0xa3,
  IMPLICIT_0: 0x80,
  SAN_DNS: 0x82,
  SAN_IP: 0x87,
} as const;

/** How long the home's CA is valid: ten years, the life of a smart-home installation. */
export const CA_VALIDITY_DAYS = 3650;
/** How long a broker certificate is valid: two years, renewed by running keygen again (store/tls.ts). */
export const BROKER_VALIDITY_DAYS = 825;
const DAY_MS = 86_400_000;
/** Serial numbers: 16 random bytes with the top bit cleared (positive, at most 20 octets: RFC 5280 §4.1.2.2). */
const SERIAL_BYTES = 16;
const EC_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;

/** A key pair and its certificate, in the PEM forms servers and clients read. */
export interface IssuedPem {
  /** `-----BEGIN CERTIFICATE-----`. */
  certPem: string;
  /** `-----BEGIN PRIVATE KEY-----` (PKCS#8): secret, write it 0600. */
  keyPem: string;
  /** The certificate's DER bytes. */
  certDer: Uint8Array;
}

/** Everything a home needs for TLS. */
export interface HomeTls {
  ca: IssuedPem;
  broker: IssuedPem;
}

/** What {@link issueHomeTls} needs. */
export interface HomeTlsRequest {
  /** Names the home's CA and broker certificate carry ("secmqtt home"). */
  homeName: string;
  /** The broker's DNS names and IP addresses: each becomes a subjectAltName entry. */
  brokerHosts: readonly string[];
  /** Start of validity, ms since the epoch (backdated by an hour for clock skew). */
  nowMs: number;
  /** Random bytes for serial numbers; crypto.getRandomValues unless a test fixes them. */
  randomBytes?: (n: number) => Uint8Array;
}

/**
 * Makes a fresh CA and a broker certificate signed by it.
 * @example
 * ```ts
 * const tls = await issueHomeTls({ homeName: "secmqtt home", brokerHosts: ["localhost", "127.0.0.1"], nowMs: Date.now() });
 * tls.broker.certPem.startsWith("-----BEGIN CERTIFICATE-----"); // true
 * ```
 */
export async function issueHomeTls(request: HomeTlsRequest): Promise<HomeTls> {
  if (request.brokerHosts.length === 0) throw new Error("issueHomeTls: at least one broker host is needed");
  const random = request.randomBytes ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const notBefore = request.nowMs - 3_600_000;
  const caKeys = await generateEcKeyPair();
  const caSpki = new Uint8Array(await crypto.subtle.exportKey("spki", caKeys.publicKey));
  const caKeyId = await keyIdentifier(caSpki);
  const caName = encodeName(`${request.homeName} CA`, request.homeName);
  const caDer = await signCertificate({
    serial: serialNumber(random),
    issuer: caName,
    subject: caName,
    notBeforeMs: notBefore,
    notAfterMs: notBefore + CA_VALIDITY_DAYS * DAY_MS,
    spki: caSpki,
    extensions: [
      extension(OID.basicConstraints, true, encodeSequence(encodeBoolean(true))),
      extension(OID.keyUsage, true, encodeKeyUsage(0x06, 1)), // keyCertSign, cRLSign
      extension(OID.subjectKeyIdentifier, false, encodeOctetString(caKeyId)),
    ],
    signer: caKeys.privateKey,
  });

  const brokerKeys = await generateEcKeyPair();
  const brokerSpki = new Uint8Array(await crypto.subtle.exportKey("spki", brokerKeys.publicKey));
  const brokerDer = await signCertificate({
    serial: serialNumber(random),
    issuer: caName,
    subject: encodeName(`${request.homeName} broker`, request.homeName),
    notBeforeMs: notBefore,
    notAfterMs: notBefore + BROKER_VALIDITY_DAYS * DAY_MS,
    spki: brokerSpki,
    extensions: [
      extension(OID.basicConstraints, true, encodeSequence()),
      extension(OID.keyUsage, true, encodeKeyUsage(0x80, 7)), // digitalSignature
      extension(OID.extKeyUsage, false, encodeSequence(encodeOid(OID.serverAuth))),
      extension(OID.subjectAltName, false, encodeSubjectAltNames(request.brokerHosts)),
      extension(OID.subjectKeyIdentifier, false, encodeOctetString(await keyIdentifier(brokerSpki))),
      extension(OID.authorityKeyIdentifier, false, encodeSequence(encodeElement(TAG.IMPLICIT_0, caKeyId))),
    ],
    signer: caKeys.privateKey,
  });
  return {
    ca: await toIssued(caDer, caKeys.privateKey),
    broker: await toIssued(brokerDer, brokerKeys.privateKey),
  };
}

/**
 * True for a literal IPv4 or IPv6 address (a SAN of type iPAddress), false for a DNS name.
 * @example
 * ```ts
 * isIpAddress("127.0.0.1"); // true
 * isIpAddress("broker.home"); // false
 * ```
 */
export function isIpAddress(host: string): boolean {
  return parseIpv4(host) !== undefined || parseIpv6(host) !== undefined;
}

/**
 * The subjectAltName value for a list of hosts: DNS names as dNSName, addresses as iPAddress.
 * @example
 * ```ts
 * encodeSubjectAltNames(["localhost", "127.0.0.1"]); // DER SEQUENCE of [2] and [7]
 * ```
 */
export function encodeSubjectAltNames(hosts: readonly string[]): Uint8Array {
  return encodeSequence(
    ...hosts.map((host) => {
      const ip = parseIpv4(host) ?? parseIpv6(host);
      if (ip) return encodeElement(TAG.SAN_IP, ip);
      if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)) {
        throw new Error(`not a host name or IP address: ${JSON.stringify(host)}`);
      }
      return encodeElement(TAG.SAN_DNS, new TextEncoder().encode(host.toLowerCase()));
    }),
  );
}

interface CertificateParts {
  serial: bigint;
  issuer: Uint8Array;
  subject: Uint8Array;
  notBeforeMs: number;
  notAfterMs: number;
  spki: Uint8Array;
  extensions: Uint8Array[];
  signer: CryptoKey;
}

async function signCertificate(parts: CertificateParts): Promise<Uint8Array> {
  const algorithm = encodeSequence(encodeOid(OID.ecdsaWithSha256));
  const tbs = encodeSequence(
    encodeElement(TAG.EXPLICIT_0, encodeInteger(2n)), // v3
    encodeInteger(parts.serial),
    algorithm,
    parts.issuer,
    encodeSequence(encodeTime(parts.notBeforeMs), encodeTime(parts.notAfterMs)),
    parts.subject,
    parts.spki,
    encodeElement(TAG.EXPLICIT_3, encodeSequence(...parts.extensions)),
  );
  const p1363 = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, parts.signer, tbs.slice()),
  );
  // X.509 carries ECDSA signatures as DER SEQUENCE { r, s } (RFC 5758 §3.2); WebCrypto gives r‖s.
  const half = p1363.length / 2;
  const signature = encodeSequence(
    encodeInteger(bytesToBigInt(p1363.subarray(0, half))),
    encodeInteger(bytesToBigInt(p1363.subarray(half))),
  );
  return encodeSequence(tbs, algorithm, encodeBitStringBytes(signature, 0));
}

async function generateEcKeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(EC_ALGORITHM, true, ["sign", "verify"]) as CryptoKeyPair;
}

async function toIssued(certDer: Uint8Array, privateKey: CryptoKey): Promise<IssuedPem> {
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey));
  return { certDer, certPem: toPem("CERTIFICATE", certDer), keyPem: toPem("PRIVATE KEY", pkcs8) };
}

/** SHA-1 of the subjectPublicKey bits: the key identifier of RFC 5280 §4.2.1.2 method (1). */
async function keyIdentifier(spki: Uint8Array): Promise<Uint8Array> {
  // The BIT STRING is the SPKI's last element; for P-256 it is the 65-byte point after a 0x00 pad byte.
  const point = spki.subarray(spki.length - 65);
  return new Uint8Array(await crypto.subtle.digest("SHA-1", point.slice()));
}

function serialNumber(random: (n: number) => Uint8Array): bigint {
  const bytes = random(SERIAL_BYTES);
  bytes[0] &= 0x7f;
  bytes[0] |= 0x40; // never zero, never a leading zero byte
  return bytesToBigInt(bytes);
}

function encodeName(commonName: string, organization: string): Uint8Array {
  const rdn = (oid: string, value: string) =>
    encodeElement(
      TAG.SET,
      encodeSequence(encodeOid(oid), encodeElement(TAG.UTF8_STRING, new TextEncoder().encode(value))),
    );
  return encodeSequence(rdn(OID.organization, organization), rdn(OID.commonName, commonName));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function encodeTime(ms: number): Uint8Array {
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const year = Number(iso.slice(0, 4));
  return year < 2050
    ? encodeElement(TAG.UTC_TIME, new TextEncoder().encode(`${digits.slice(2)}Z`))
    : encodeElement(TAG.GENERALIZED_TIME, new TextEncoder().encode(`${digits}Z`));
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? encodeSequence(encodeOid(oid), encodeBoolean(true), encodeOctetString(value))
    : encodeSequence(encodeOid(oid), encodeOctetString(value)); // DEFAULT FALSE is left out in DER
}

function encodeBoolean(value: boolean): Uint8Array {
  return encodeElement(TAG.BOOLEAN, new Uint8Array([value ? 0xff : 0x00]));
}

/** A one-byte named-bit list, trailing zero bits counted as unused (X.690 §11.2.2). */
function encodeKeyUsage(bits: number, unusedBits: number): Uint8Array {
  return encodeElement(DER_TAG.BIT_STRING, new Uint8Array([unusedBits, bits]));
}

function encodeBitStringBytes(bytes: Uint8Array, unusedBits: number): Uint8Array {
  const content = new Uint8Array(bytes.length + 1);
  content[0] = unusedBits;
  content.set(bytes, 1);
  return encodeElement(DER_TAG.BIT_STRING, content);
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

function parseIpv4(host: string): Uint8Array | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) {
    return undefined;
  }
  return new Uint8Array(parts.map(Number));
}

function parseIpv6(host: string): Uint8Array | undefined {
  if (!host.includes(":") || !/^[0-9A-Fa-f:]+$/.test(host)) return undefined;
  const halves = host.split("::");
  if (halves.length > 2) return undefined;
  const groups = (text: string) => text === "" ? [] : text.split(":");
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return undefined;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}
