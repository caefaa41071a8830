import assert from "node:assert/strict";
import fc from "fast-check";
import { fromHex, toHex } from "../../crypto/codec.ts";
import {
  DerError,
  type DerErrorCode,
  DerReader,
  encodeBitString,
  encodeElement,
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOid,
  encodeSequence,
} from "../../crypto/der.ts";

function rejects(hex: string, read: (r: DerReader) => unknown, code: DerErrorCode): void {
  assert.throws(
    () => {
      const reader = new DerReader(fromHex(hex));
      read(reader);
      reader.finish();
    },
    (e: unknown) => e instanceof DerError && e.code === code,
  );
}

Deno.test("encodeInteger writes minimal two's complement", () => {
  const cases: [bigint, string][] = [
    [0n, "020100"],
    [127n, "02017f"],
    [128n, "02020080"],
    [255n, "020200ff"],
    [256n, "02020100"],
    [-1n, "0201ff"],
    [-128n, "020180"],
    [-129n, "0202ff7f"],
  ];
  for (const [value, hex] of cases) assert.equal(toHex(encodeInteger(value)), hex, `encoding of ${value}`);
});

Deno.test("readInteger returns the value of each canonical encoding", () => {
  for (const hex of ["020100", "02017f", "02020080", "0201ff", "020180", "0202ff7f"]) {
    const value = new DerReader(fromHex(hex)).readInteger();
    assert.equal(toHex(encodeInteger(value)), hex);
  }
});

Deno.test("integers of any size round-trip through encode and read", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(1n << 2100n), max: 1n << 2100n }), (value) => {
      const reader = new DerReader(encodeInteger(value));
      assert.equal(reader.readInteger(), value);
      assert.ok(reader.done);
    }),
  );
});

Deno.test("readInteger rejects a redundant leading 0x00 or 0xff byte", () => {
  rejects("02020001", (r) => r.readInteger(), "DER_BAD_INTEGER");
  rejects("0202ff80", (r) => r.readInteger(), "DER_BAD_INTEGER");
});

Deno.test("readInteger rejects empty contents", () => {
  rejects("0200", (r) => r.readInteger(), "DER_BAD_INTEGER");
});

Deno.test("an indefinite (BER) length is rejected", () => {
  rejects("3080020101" + "0000", (r) => r.readSequence(), "DER_BAD_LENGTH");
});

Deno.test("a long-form length for a value below 128 is rejected", () => {
  rejects("048101" + "aa", (r) => r.readOctetString(), "DER_BAD_LENGTH");
});

Deno.test("a long-form length with a leading zero octet is rejected", () => {
  rejects("04820080" + "00".repeat(128), (r) => r.readOctetString(), "DER_BAD_LENGTH");
});

Deno.test("a length field longer than four octets is rejected", () => {
  rejects("0485000000000100", (r) => r.readOctetString(), "DER_BAD_LENGTH");
});

Deno.test("long-form lengths round-trip for contents of 128 bytes and more", () => {
  for (const size of [128, 255, 256, 300, 70000]) {
    const content = new Uint8Array(size).fill(7);
    const der = encodeOctetString(content);
    assert.equal(der[1], 0x80 | (size < 256 ? 1 : size < 65536 ? 2 : 3));
    assert.deepEqual(new DerReader(der).readOctetString(), content);
  }
});

Deno.test("contents shorter than the declared length are rejected as truncated", () => {
  rejects("0403aabb", (r) => r.readOctetString(), "DER_TRUNCATED");
  rejects("04", (r) => r.readOctetString(), "DER_TRUNCATED");
  rejects("", (r) => r.readOctetString(), "DER_TRUNCATED");
  rejects("0482", (r) => r.readOctetString(), "DER_TRUNCATED");
});

Deno.test("bytes after the last element are rejected by finish", () => {
  rejects("05000000", (r) => r.readNull(), "DER_TRAILING_BYTES");
});

Deno.test("a tag other than the expected one is rejected", () => {
  rejects("0401aa", (r) => r.readInteger(), "DER_UNEXPECTED_TAG");
  // High-tag-number form is never what a reader expects.
  rejects("1f2201aa", (r) => r.readInteger(), "DER_UNEXPECTED_TAG");
});

Deno.test("SEQUENCE nests elements and reads them back in order", () => {
  const der = encodeSequence(
    encodeInteger(1n),
    encodeSequence(encodeNull()),
    encodeOctetString(fromHex("ab")),
  );
  assert.equal(toHex(der), "300a020101" + "30020500" + "0401ab");
  const seq = new DerReader(der).readSequence();
  assert.equal(seq.readInteger(), 1n);
  seq.readSequence().readNull();
  assert.deepEqual(seq.readOctetString(), fromHex("ab"));
  seq.finish();
});

Deno.test("a SEQUENCE with trailing contents is rejected by the inner finish", () => {
  const seq = new DerReader(fromHex("3006020101020102")).readSequence();
  seq.readInteger();
  assert.throws(() => seq.finish(), (e: unknown) => e instanceof DerError && e.code === "DER_TRAILING_BYTES");
});

Deno.test("the DSA OID encodes to its well-known bytes and reads back", () => {
  const der = encodeOid("1.2.840.10040.4.1");
  assert.equal(toHex(der), "06072a8648ce380401");
  assert.equal(new DerReader(der).readOid(), "1.2.840.10040.4.1");
  assert.equal(new DerReader(encodeOid("2.999.3")).readOid(), "2.999.3");
});

Deno.test("an OID subidentifier with a leading 0x80 octet is rejected", () => {
  rejects("06032a8001", (r) => r.readOid(), "DER_BAD_OID");
});

Deno.test("an OID whose last octet has the continuation bit is rejected", () => {
  rejects("06022a86", (r) => r.readOid(), "DER_BAD_OID");
  rejects("0600", (r) => r.readOid(), "DER_BAD_OID");
});

Deno.test("encodeOid refuses malformed dotted strings", () => {
  for (const bad of ["1", "3.1", "1.40", "1.2.x", "1..2", "1.02"]) {
    assert.throws(
      () => encodeOid(bad),
      (e: unknown) => e instanceof DerError && e.code === "DER_BAD_OID",
      bad,
    );
  }
});

Deno.test("BIT STRING round-trips whole bytes and rejects unused bits", () => {
  assert.equal(toHex(encodeBitString(fromHex("09"))), "03020009");
  assert.deepEqual(new DerReader(fromHex("03020009")).readBitString(), fromHex("09"));
  rejects("03020108", (r) => r.readBitString(), "DER_BAD_BIT_STRING");
  rejects("0300", (r) => r.readBitString(), "DER_BAD_BIT_STRING");
});

Deno.test("NULL must have empty contents", () => {
  assert.equal(toHex(encodeNull()), "0500");
  rejects("050100", (r) => r.readNull(), "DER_BAD_NULL");
});

Deno.test("encodeElement uses the short form below 128 bytes", () => {
  assert.equal(toHex(encodeElement(0x04, new Uint8Array(127))).slice(0, 4), "047f");
  assert.equal(toHex(encodeElement(0x04, new Uint8Array(128))).slice(0, 6), "048180");
});

Deno.test("bytes that parse as a SEQUENCE of integers re-encode to themselves; others throw DerError", () => {
  const sequenceOfIntegers = fc.array(fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }), { maxLength: 3 })
    .map((values) => encodeSequence(...values.map(encodeInteger)));
  // Mutated canonical encodings reach the interesting corners far more often than random bytes.
  const mutated = fc.tuple(sequenceOfIntegers, fc.nat(), fc.integer({ min: 0, max: 255 }))
    .map(([der, at, value]) => {
      const copy = der.slice();
      copy[at % copy.length] = value;
      return copy;
    });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), mutated), (bytes) => {
      let values: bigint[];
      try {
        const outer = new DerReader(bytes);
        const seq = outer.readSequence();
        outer.finish();
        values = [];
        while (!seq.done) values.push(seq.readInteger());
      } catch (e) {
        assert.ok(e instanceof DerError, `unexpected ${e}`);
        return;
      }
      assert.deepEqual(encodeSequence(...values.map(encodeInteger)), bytes);
    }),
    { numRuns: 2000 },
  );
});
