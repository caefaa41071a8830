import assert from "node:assert/strict";
import { EncodingError, fromBase64, fromBase64Url, toBase64, toBase64Url } from "../../crypto/codec.ts";

/** The reference the native codec must agree with: btoa over a binary string. */
function referenceBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

Deno.test("base64 and base64url agree with btoa for every length 0-66, and round-trip", () => {
  for (let n = 0; n <= 66; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    const std = referenceBase64(bytes);
    const url = std.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    assert.deepEqual(toBase64(bytes), std, `length ${n}`);
    assert.deepEqual(toBase64Url(bytes), url, `length ${n}`);
    assert.deepEqual(fromBase64(std), bytes, `length ${n}`);
    assert.deepEqual(fromBase64Url(url), bytes, `length ${n}`);
  }
  assert.deepEqual(toBase64Url(new Uint8Array([251, 255])), "-_8");
  assert.deepEqual(fromBase64Url("-_8"), new Uint8Array([251, 255]));
});

Deno.test("base64url is strict: one accepted encoding per byte string", () => {
  const refused = [
    ["-_8=", "padding"],
    ["+/8", "the standard alphabet"],
    ["-_ 8", "whitespace"],
    ["-_9", "non-zero trailing bits"],
    ["AB", "non-zero trailing bits of one byte"],
    ["ABCDE", "a length of 4k+1"],
    ["AQID\n", "a newline"],
  ];
  for (const [text, why] of refused) {
    assert.throws(() => fromBase64Url(text), EncodingError, `${JSON.stringify(text)} (${why})`);
  }
  assert.deepEqual(fromBase64Url("AA"), new Uint8Array([0]));
  assert.deepEqual(fromBase64Url(""), new Uint8Array(0));
});

Deno.test("standard base64 wants padding and its own alphabet, as before", () => {
  for (const text of ["AQI", "AQ-_", "AQ==AQ==", "A===", " AQID", "AQID\n"]) {
    assert.throws(
      () => fromBase64(text),
      { name: "EncodingError", message: "expected padded base64" },
      JSON.stringify(text),
    );
  }
  // Non-zero trailing bits were accepted by the atob-based decoder (PEM readers are lenient there too).
  assert.equal(fromBase64("AR==").length, 1);
  assert.deepEqual(fromBase64("AQID"), new Uint8Array([1, 2, 3]));
});
