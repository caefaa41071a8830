/** The one identity loader: sensors (singly or as a fleet) and the actuator, with one-line typed errors. */

import assert from "node:assert/strict";
import { SUITE_DSA } from "../../crypto/envelope.ts";
import { homePaths } from "../../store/home.ts";
import {
  IdentityError,
  loadActuatorIdentity,
  loadSensorIdentities,
  loadSensorIdentity,
} from "../../store/identity.ts";
import { isKeyFileError, withTestHome } from "./home_helpers.ts";

const ACTUATOR = "door-actuator";
const SENSORS = ["sensor-a", "sensor-b", "sensor-c"];

function withHome(fn: (dir: string) => Promise<void>): Promise<void> {
  return withTestHome(fn, { suite: SUITE_DSA, sensors: SENSORS });
}

function isKeyFileErrorIn(dir: string, code: string, path: string) {
  return isKeyFileError(code, path, `run secmqtt keygen --out ${dir}`);
}

Deno.test("loadSensorIdentities: one identity per sensor, in order, sharing the actuator's public key", () =>
  withHome(async (dir) => {
    const fleet = await loadSensorIdentities(homePaths(dir), [SENSORS[2], SENSORS[0]], ACTUATOR);
    assert.equal(fleet.length, 2);
    assert.ok(fleet.every((id) => id.suite === SUITE_DSA));
    assert.equal(fleet[0].recipientPublicKey, fleet[1].recipientPublicKey);
    assert.notEqual(fleet[0].signingKey, fleet[1].signingKey);
    const single = await loadSensorIdentity(homePaths(dir), SENSORS[1], ACTUATOR);
    assert.equal(single.suite, SUITE_DSA);
  }));

Deno.test("a sensor not in the trust list is IdentityError CONFIG_UNKNOWN_SENSOR naming trust.json", () =>
  withHome(async (dir) => {
    const paths = homePaths(dir);
    await assert.rejects(
      loadSensorIdentities(paths, [SENSORS[0], "stranger"], ACTUATOR),
      (error: unknown) => {
        assert.ok(error instanceof IdentityError);
        assert.equal(error.code, "CONFIG_UNKNOWN_SENSOR");
        assert.ok(error.message.includes(paths.trust) && error.message.includes("stranger"));
        return true;
      },
    );
  }));

Deno.test("a corrupt sensor key is KEY_FILE_INVALID naming the file and the keygen fix", () =>
  withHome(async (dir) => {
    const paths = homePaths(dir);
    Deno.writeTextFileSync(
      paths.privateKey(SENSORS[1]),
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    await assert.rejects(
      loadSensorIdentities(paths, SENSORS, ACTUATOR),
      isKeyFileErrorIn(dir, "KEY_FILE_INVALID", paths.privateKey(SENSORS[1])),
    );
  }));

Deno.test("loadActuatorIdentity: the trust list and a usable private key; missing or corrupt key is typed", () =>
  withHome(async (dir) => {
    const paths = homePaths(dir);
    const identity = await loadActuatorIdentity(paths, ACTUATOR);
    assert.deepEqual(Object.keys(identity.trust.senders).sort(), SENSORS);
    assert.equal(identity.recipientPrivateKey.type, "private");
    assert.equal(identity.keyMode.ok, true);
    Deno.writeTextFileSync(paths.privateKey(ACTUATOR), "garbage\n");
    await assert.rejects(
      loadActuatorIdentity(paths, ACTUATOR),
      isKeyFileErrorIn(dir, "KEY_FILE_INVALID", paths.privateKey(ACTUATOR)),
    );
    Deno.removeSync(paths.privateKey(ACTUATOR));
    await assert.rejects(
      loadActuatorIdentity(paths, ACTUATOR),
      isKeyFileErrorIn(dir, "KEY_FILE_MISSING", paths.privateKey(ACTUATOR)),
    );
  }));
