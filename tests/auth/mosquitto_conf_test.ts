/**
 * The Mosquitto config keygen writes into a home: exactly one listener, TLS on 8883, no plaintext one,
 * and every directive of broker-config/mosquitto.secure.conf with the same value, except the ones that
 * name the container's paths or its loopback listener.
 */

import assert from "node:assert/strict";
import { formatHomeMosquittoConf, MQTTS_PORT } from "../../auth/mosquitto_conf.ts";

/** Directives that differ on purpose: the listener and the file paths (the home's, not the container's). */
const HOME_SPECIFIC = new Set([
  "listener",
  "certfile",
  "keyfile",
  "password_file",
  "acl_file",
  "persistence_location",
]);

const HOME = {
  homeDir: "/srv/home",
  certFile: "/srv/home/tls/broker.crt",
  keyFile: "/srv/home/tls/broker.key",
  passwordFile: "/srv/home/passwd",
  aclFile: "/srv/home/acl",
  dataDir: "/srv/home/mosquitto-data",
  user: "alice",
};

function directives(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

Deno.test("one listener, TLS on 8883 with the home's certificate; no plaintext listener", () => {
  const lines = directives(formatHomeMosquittoConf(HOME));
  const listeners = lines.filter((l) => /^(listener|port|bind_address|bind_interface)\b/.test(l));
  assert.deepEqual(listeners, [`listener ${MQTTS_PORT}`]);
  assert.equal(MQTTS_PORT, 8883);
  assert.ok(lines.includes("certfile /srv/home/tls/broker.crt"));
  assert.ok(lines.includes("keyfile /srv/home/tls/broker.key"));
  assert.ok(lines.includes("password_file /srv/home/passwd"));
  assert.ok(lines.includes("acl_file /srv/home/acl"));
  assert.ok(lines.includes("persistence_location /srv/home/mosquitto-data/"));
  assert.ok(lines.includes("user alice"));
  // Every option appears once: Mosquitto would take the last of two, silently.
  const single = lines.filter((l) => !l.startsWith("log_type ")).map((l) => l.split(/\s+/)[0]);
  assert.equal(new Set(single).size, single.length, single.join(", "));
});

Deno.test("every hardening directive of broker-config/mosquitto.secure.conf is in the home's config, same value", () => {
  const secure = directives(
    Deno.readTextFileSync(new URL("../../broker-config/mosquitto.secure.conf", import.meta.url)),
  );
  const home = new Set(directives(formatHomeMosquittoConf(HOME)));
  let checked = 0;
  for (const line of secure) {
    if (HOME_SPECIFIC.has(line.split(/\s+/)[0])) continue;
    assert.ok(home.has(line), `the home's mosquitto.conf lacks '${line}'`);
    checked++;
  }
  for (
    const expected of [
      "allow_anonymous false",
      "use_username_as_clientid true",
      "retain_available false",
      "max_packet_size 65536",
    ]
  ) {
    assert.ok(secure.includes(expected) && home.has(expected), expected);
  }
  assert.ok(checked >= 15, `checked ${checked} directives`);
  // The Docker variant is TLS-only too: one listener, on 8883, with a certificate.
  const listeners = secure.filter((l) => /^(listener|port)\b/.test(l));
  assert.deepEqual(listeners, ["listener 8883 127.0.0.1"]);
  assert.ok(secure.includes("certfile /mosquitto/auth/broker.crt"));
  assert.ok(secure.includes("keyfile /mosquitto/auth/broker.key"));
});

Deno.test("an owner without a name gets no user line, and a comment that says how to start it", () => {
  const text = formatHomeMosquittoConf({ ...HOME, user: undefined });
  assert.ok(!directives(text).some((l) => l.startsWith("user ")));
  assert.match(text, /start Mosquitto as that user, not as root/);
});
