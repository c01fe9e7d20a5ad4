// shc.mjs - an independent SMART Health Card verifier written from the spec
// (spec.smarthealth.cards), not from the service's code: the issuer's JWKS fetched over HTTP,
// the JWS checked with jose (ES256), the payload inflated with zlib.inflateRawSync (raw
// DEFLATE, no zlib header), the bundle checked for the minimisation rules of a QR card, and
// the numeric-mode "shc:/" text decoded (two digits per character, ord(c) - 45).
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import * as jose from 'jose';
import { request } from './http.mjs';

export async function issuerKeys(issuer) {
  const r = await request('GET', new URL(`${issuer}/.well-known/jwks.json`).pathname);
  assert.equal(r.status, 200, r.text);
  return r;
}

export function shcToJws(text) {
  assert.match(text, /^shc:\/[0-9]+$/, 'a single-chunk numeric shc:/ text');
  const digits = text.slice(5);
  assert.equal(digits.length % 2, 0);
  let out = '';
  for (let i = 0; i < digits.length; i += 2) out += String.fromCharCode(Number(digits.slice(i, i + 2)) + 45);
  return out;
}

// Walk the bundle: no Resource.id, meta, DomainResource.text, CodeableConcept.text or
// Coding.display anywhere (Reference.display is allowed).
export function assertMinimised(node, where = 'bundle', parentKey = '') {
  if (Array.isArray(node)) return node.forEach((n, i) => assertMinimised(n, `${where}[${i}]`, parentKey));
  if (node === null || typeof node !== 'object') return;
  assert.ok(!('meta' in node), `${where} has meta`);
  if ('resourceType' in node && node.resourceType !== 'Bundle') {
    assert.ok(!('id' in node), `${where} has id`);
    assert.ok(!('text' in node), `${where} has text`);
  }
  if ('coding' in node) assert.ok(!('text' in node), `${where} (CodeableConcept) has text`);
  if (parentKey === 'coding') assert.ok(!('display' in node), `${where} (Coding) has display`);
  for (const [k, v] of Object.entries(node)) assertMinimised(v, `${where}.${k}`, k);
}

// Verify a card as a third party would: returns { header, payload, bundle }.
export async function verifyCard(jws, issuer) {
  const [h64, p64, s64] = jws.split('.');
  assert.ok(h64 && p64 && s64, 'compact JWS');
  const header = JSON.parse(Buffer.from(h64, 'base64url').toString('utf8'));
  assert.equal(header.alg, 'ES256');
  assert.equal(header.zip, 'DEF');
  const jwks = (await issuerKeys(issuer)).body;
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} is in the issuer's key set`);
  assert.equal(await jose.calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, 'sha256'), header.kid,
    'kid is the RFC 7638 thumbprint');
  const key = await jose.importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, 'ES256');
  const { payload: raw } = await jose.compactVerify(jws, key);
  const payload = JSON.parse(zlib.inflateRawSync(Buffer.from(raw)).toString('utf8'));
  assert.equal(payload.iss, issuer);
  assert.ok(Number.isInteger(payload.nbf) && payload.nbf <= Math.floor(Date.now() / 1000) + 60);
  assert.ok(payload.vc.type.includes('https://smarthealth.cards#health-card'));
  assert.ok(payload.vc.type.includes('https://smarthealth.cards#immunization'));
  assert.equal(payload.vc.credentialSubject.fhirVersion, '4.0.1');
  const bundle = payload.vc.credentialSubject.fhirBundle;
  assert.equal(bundle.resourceType, 'Bundle');
  assert.equal(bundle.type, 'collection');
  bundle.entry.forEach((e, i) => assert.equal(e.fullUrl, `resource:${i}`));
  assert.equal(bundle.entry[0].resource.resourceType, 'Patient');
  for (const e of bundle.entry.slice(1)) {
    assert.equal(e.resource.resourceType, 'Immunization');
    assert.equal(e.resource.patient.reference, 'resource:0');
    assert.equal(e.resource.status, 'completed');
  }
  assertMinimised(bundle);
  return { header, payload, bundle, jwk };
}
