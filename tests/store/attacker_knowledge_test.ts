/** What the Phase II attacker may know of a home: only public files and its own account, loaded in one place. */

import assert from "node:assert/strict";
import { SUITE_ED25519 } from "../../crypto/envelope.ts";
import { unwrapSessionKey, wrapSessionKey } from "../../crypto/rsa.ts";
import { loadAttackerKnowledge } from "../../store/attacker_knowledge.ts";
import { readCredential } from "../../store/credentials.ts";
import { homePaths } from "../../store/home.ts";
import { loadActuatorIdentity } from "../../store/identity.ts";
import { FIXTURE_DSA_DOMAIN } from "../integration/secure_home.ts";
import { isKeyFileError, withTestHome as withHome } from "./home_helpers.ts";

const ACTUATOR = "door-actuator";

Deno.test("a DSA home: own credentials, the actuator's public key and the home's DSA domain", () =>
  withHome(async (dir) => {
    const paths = homePaths(dir);
    const knowledge = await loadAttackerKnowledge(paths, { username: "mallory", actuatorId: ACTUATOR });
    assert.deepEqual(knowledge.ownCredentials, readCredential(paths, "mallory"));
    assert.deepEqual(knowledge.dsaDomain, FIXTURE_DSA_DOMAIN);
    // The public key is the actuator's: what the attacker wraps, the actuator unwraps.
    const sessionKey = crypto.getRandomValues(new Uint8Array(32));
    const wrapped = await wrapSessionKey(knowledge.actuatorPublicKey, sessionKey);
    const { recipientPrivateKey } = await loadActuatorIdentity(paths, ACTUATOR);
    assert.deepEqual(await unwrapSessionKey(recipientPrivateKey, wrapped), sessionKey);
  }));

Deno.test("the attacker reads no private key, no trust list and no other account's password", () =>
  withHome(async (dir) => {
    const paths = homePaths(dir);
    for (const device of ["door-sensor-1", ACTUATOR]) {
      Deno.removeSync(paths.privateKey(device));
      Deno.removeSync(paths.credential(device));
    }
    Deno.removeSync(paths.trust);
    const knowledge = await loadAttackerKnowledge(paths, { username: "mallory", actuatorId: ACTUATOR });
    assert.equal(knowledge.ownCredentials.username, "mallory");
    assert.ok(knowledge.dsaDomain !== undefined);
  }));

Deno.test("an Ed25519 home has no DSA domain: dsaDomain is undefined, not an error", () =>
  withHome(async (dir) => {
    const knowledge = await loadAttackerKnowledge(homePaths(dir), {
      username: "mallory",
      actuatorId: ACTUATOR,
    });
    assert.equal(knowledge.dsaDomain, undefined);
    assert.equal(knowledge.ownCredentials.username, "mallory");
  }, { suite: SUITE_ED25519 }));

Deno.test("a password given by the user wins and the home's credential file is not needed", () =>
  withHome(async (dir) => {
    const paths = homePaths(dir);
    Deno.removeSync(paths.credential("mallory"));
    const knowledge = await loadAttackerKnowledge(paths, {
      username: "eve",
      password: "given",
      actuatorId: ACTUATOR,
    });
    assert.deepEqual(knowledge.ownCredentials, { username: "eve", password: "given" });
  }));

Deno.test("an account keygen did not make is KEY_FILE_MISSING naming the file and the --attacker fix", () =>
  withHome(async (dir) => {
    const paths = homePaths(dir);
    await assert.rejects(
      loadAttackerKnowledge(paths, { username: "eve", actuatorId: ACTUATOR }),
      isKeyFileError(
        "KEY_FILE_MISSING",
        paths.credential("eve"),
        `run secmqtt keygen --out ${dir} --attacker eve --force`,
      ),
    );
  }));

Deno.test("a corrupt public key or DSA domain is KEY_FILE_INVALID naming the file, not a stack trace", () =>
  withHome(async (dir) => {
    const paths = homePaths(dir);
    const options = { username: "mallory", actuatorId: ACTUATOR };
    const dsaText = Deno.readTextFileSync(paths.dsaParams);
    Deno.writeTextFileSync(
      paths.dsaParams,
      "-----BEGIN DSA PARAMETERS-----\nAAAA\n-----END DSA PARAMETERS-----\n",
    );
    await assert.rejects(
      loadAttackerKnowledge(paths, options),
      isKeyFileError("KEY_FILE_INVALID", paths.dsaParams, `run secmqtt keygen --out ${dir}`),
    );
    Deno.writeTextFileSync(paths.dsaParams, dsaText);
    Deno.writeTextFileSync(paths.publicKey(ACTUATOR), "not a key\n");
    await assert.rejects(
      loadAttackerKnowledge(paths, options),
      isKeyFileError("KEY_FILE_INVALID", paths.publicKey(ACTUATOR), `run secmqtt keygen --out ${dir}`),
    );
    Deno.removeSync(paths.publicKey(ACTUATOR));
    await assert.rejects(
      loadAttackerKnowledge(paths, options),
      isKeyFileError("KEY_FILE_MISSING", paths.publicKey(ACTUATOR), `run secmqtt keygen --out ${dir}`),
    );
  }));
