import { generateKeyPairSync } from "node:crypto";
import { generate as generateCertificate } from "selfsigned";

export interface SelfSignedCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

/**
 * RSA key generation dominates start-up (~0.3 s), so endpoints of one process share a key; each gets its own
 * certificate.
 */
let processKeyPair: { publicKey: string; privateKey: string } | undefined;

/** A certificate for 127.0.0.1 and localhost; the key comes from node:crypto (fast) rather than node-forge. */
export function createSelfSignedCertificate(): SelfSignedCertificate {
  processKeyPair ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  const keyPair = processKeyPair;
  // `keyPair` is a documented selfsigned 2.x option missing from its type declarations.
  const options: Parameters<typeof generateCertificate>[1] & { keyPair: { privateKey: string; publicKey: string } } = {
    days: 7,
    algorithm: "sha256",
    keyPair,
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", keyCertSign: true, digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 2, value: "localhost" },
        ],
      },
    ],
  };
  const generated = generateCertificate([{ name: "commonName", value: "flowtap local ARM" }], options);
  return { certificatePem: generated.cert, privateKeyPem: keyPair.privateKey };
}
