import assert from "node:assert/strict";
import { utf8Encode } from "../../crypto/codec.ts";
import { checkSecureReading, makeReading } from "../../roles/door.ts";

const envelope = { sender: "door-1", counter: 7, msg_id: "door-1-7" };
const valid = makeReading("door-1", 7, 1_700_000_000_000, 21.5);
const check = (text: string) => checkSecureReading(utf8Encode(text), envelope);

Deno.test("secure reading: the sensor's own reading passes and is returned as the envelope's", () => {
  const result = check(JSON.stringify(valid));
  assert.ok(result.ok);
  assert.deepEqual(result.reading, valid);
});

Deno.test("secure reading: a member twice is refused although JSON.parse would keep the last", () => {
  const text = JSON.stringify(valid).replace('"event":"open"', '"event":"closed","event":"open"');
  assert.equal(JSON.parse(text).event, "open");
  const result = check(text);
  assert.ok(!result.ok);
  assert.match(result.detail, /twice/);
});

Deno.test("secure reading: a name spelled with an escape is the same name", () => {
  const text = JSON.stringify(valid).replace("}", ',"ev\\u0065nt":"open"}');
  const result = check(text);
  assert.ok(!result.ok);
  assert.match(result.detail, /twice/);
});

Deno.test("secure reading: values that look like names are not counted as members", () => {
  const msgId = 'a:"event":b';
  const result = checkSecureReading(
    utf8Encode(JSON.stringify({ ...valid, msg_id: msgId })),
    { ...envelope, msg_id: msgId },
  );
  assert.ok(result.ok, result.ok ? "" : result.detail);
});

Deno.test("secure reading: a nested object is a wrong type, not a source of extra members", () => {
  const result = check(JSON.stringify({ ...valid, status: { status: "ok" } }));
  assert.ok(!result.ok);
  assert.match(result.detail, /status/);
});

Deno.test("secure reading: each of the three equalities with the envelope is enforced", () => {
  for (const patch of [{ sensor_id: "door-2" }, { counter: 8 }, { msg_id: "door-1-8" }]) {
    const result = check(JSON.stringify({ ...valid, ...patch }));
    assert.ok(!result.ok, JSON.stringify(patch));
  }
});
