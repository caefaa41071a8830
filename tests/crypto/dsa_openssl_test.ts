import assert from "node:assert/strict";
import {
  exportPrivateKeyPem,
  exportPublicKeyPem,
  generateKeyPair,
  importDomainPem,
  importPrivateKeyPem,
  importPublicKeyPem,
  sign,
  verify,
} from "../../crypto/dsa.ts";

const fixtures = new URL("../fixtures/", import.meta.url);
const message = new TextEncoder().encode("sensor/42 temperature=21.5 ts=1700000000");
const tampered = new TextEncoder().encode("sensor/42 temperature=99.5 ts=1700000000");

async function openssl(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function opensslOk(args: string[], cwd: string): Promise<string> {
  const result = await openssl(args, cwd);
  assert.equal(result.code, 0, `openssl ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

const haveOpenssl = await openssl(["version"], ".").then((r) => r.code === 0, () => false);

const sizes = [
  { name: "2048/224", params: "dsa2048_224_params.pem", digest: "-sha224" },
  { name: "2048/256", params: "dsa2048_256_params.pem", digest: "-sha256" },
] as const;

/** Runs `body` in a fresh temporary directory that is removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "secmqtt-dsa-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const size of sizes) {
  Deno.test({
    name: `DSA ${size.name}: keys and signatures made by OpenSSL verify with ours; tampered messages fail`,
    ignore: !haveOpenssl,
    fn: () =>
      inTempDir(async (dir) => {
        await Deno.copyFile(new URL(size.params, fixtures), `${dir}/params.pem`);
        await opensslOk(["genpkey", "-paramfile", "params.pem", "-out", "key.pem"], dir);
        await opensslOk(["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"], dir);
        await Deno.writeFile(`${dir}/msg.bin`, message);
        await opensslOk(["dgst", size.digest, "-sign", "key.pem", "-out", "sig.der", "msg.bin"], dir);

        const publicKey = importPublicKeyPem(await Deno.readTextFile(`${dir}/pub.pem`));
        const privateKey = importPrivateKeyPem(await Deno.readTextFile(`${dir}/key.pem`));
        assert.equal(privateKey.y, publicKey.y);
        const signature = await Deno.readFile(`${dir}/sig.der`);
        assert.ok(verify(publicKey, message, signature));
        assert.equal(verify(publicKey, tampered, signature), false);
      }),
  });

  Deno.test({
    name:
      `DSA ${size.name}: keys and signatures made by us verify with OpenSSL; tampered ones fail there too`,
    ignore: !haveOpenssl,
    fn: () =>
      inTempDir(async (dir) => {
        const { publicKey, privateKey } = await generateKeyPair(importDomainPem(
          await Deno.readTextFile(new URL(size.params, fixtures)),
        ));
        await Deno.writeTextFile(`${dir}/pub.pem`, exportPublicKeyPem(publicKey));
        await Deno.writeTextFile(`${dir}/key.pem`, exportPrivateKeyPem(privateKey));
        await Deno.writeFile(`${dir}/msg.bin`, message);
        await Deno.writeFile(`${dir}/tampered.bin`, tampered);
        const signature = sign(privateKey, message);
        await Deno.writeFile(`${dir}/sig.der`, signature);
        const badSignature = signature.slice();
        badSignature[badSignature.length - 1] ^= 1;
        await Deno.writeFile(`${dir}/bad.der`, badSignature);

        const good = await openssl([
          "dgst",
          size.digest,
          "-verify",
          "pub.pem",
          "-signature",
          "sig.der",
          "msg.bin",
        ], dir);
        assert.equal(good.code, 0, good.stderr);
        assert.match(good.stdout, /Verified OK/);
        const wrongMessage = await openssl(
          ["dgst", size.digest, "-verify", "pub.pem", "-signature", "sig.der", "tampered.bin"],
          dir,
        );
        assert.notEqual(wrongMessage.code, 0);
        const wrongSignature = await openssl(
          ["dgst", size.digest, "-verify", "pub.pem", "-signature", "bad.der", "msg.bin"],
          dir,
        );
        assert.notEqual(wrongSignature.code, 0);
      }),
  });

  Deno.test({
    name: `DSA ${size.name}: OpenSSL reads our PEM keys and derives the same public key`,
    ignore: !haveOpenssl,
    fn: () =>
      inTempDir(async (dir) => {
        const { publicKey, privateKey } = await generateKeyPair(importDomainPem(
          await Deno.readTextFile(new URL(size.params, fixtures)),
        ));
        await Deno.writeTextFile(`${dir}/key.pem`, exportPrivateKeyPem(privateKey));
        await Deno.writeTextFile(`${dir}/pub.pem`, exportPublicKeyPem(publicKey));
        const derived = await opensslOk(["pkey", "-in", "key.pem", "-pubout"], dir);
        assert.equal(derived, exportPublicKeyPem(publicKey));
        const reencoded = await opensslOk(["pkey", "-in", "key.pem"], dir);
        assert.equal(reencoded, exportPrivateKeyPem(privateKey));
        const publicText = await opensslOk(["pkey", "-pubin", "-in", "pub.pem", "-noout", "-text"], dir);
        assert.match(publicText, /Public-Key: \(2048 bit\)/);
        const pubHex = /pub:\s*\n([\s0-9a-f:]+?)\n\S/.exec(publicText)?.[1].replace(/[\s:]/g, "");
        assert.equal(BigInt("0x" + pubHex), publicKey.y);
      }),
  });
}

Deno.test({
  name: "DSA 2048/256: a signature from `openssl pkeyutl -sign` over a SHA-256 digest verifies with ours",
  ignore: !haveOpenssl,
  fn: () =>
    inTempDir(async (dir) => {
      await Deno.copyFile(new URL("dsa2048_256_params.pem", fixtures), `${dir}/params.pem`);
      await opensslOk(["genpkey", "-paramfile", "params.pem", "-out", "key.pem"], dir);
      await opensslOk(["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"], dir);
      await Deno.writeFile(`${dir}/msg.bin`, message);
      await opensslOk(["dgst", "-sha256", "-binary", "-out", "digest.bin", "msg.bin"], dir);
      await opensslOk(
        [
          "pkeyutl",
          "-sign",
          "-inkey",
          "key.pem",
          "-pkeyopt",
          "digest:sha256",
          "-in",
          "digest.bin",
          "-out",
          "sig.der",
        ],
        dir,
      );
      const publicKey = importPublicKeyPem(await Deno.readTextFile(`${dir}/pub.pem`));
      const signature = await Deno.readFile(`${dir}/sig.der`);
      assert.ok(verify(publicKey, message, signature));
      assert.equal(verify(publicKey, tampered, signature), false);
    }),
});
