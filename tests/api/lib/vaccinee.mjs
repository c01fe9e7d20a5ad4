// vaccinee.mjs - fixtures of the vaccinee flows (H-3-3): persons and guardian links made by a
// municipality through the records API, portal clients made by the 国保中央会 admin, subject
// tokens signed with jose (as a Mynaportal-style front end would), and the RFC 8693 exchange
// done with openid-client. Immunization rows are registered through the records API when it
// answers, else inserted as the database superuser (the records core's registration endpoint
// is another helper's work; see the README of the tests).
import assert from 'node:assert/strict';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { BASE } from './env.mjs';
import { request } from './http.mjs';
import { chuokai, orgWithAdmin } from './fixtures.mjs';
import { psql, lit } from './sql.mjs';

export const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

// A 個人番号 with a valid check digit (docs/domain.md §2).
export function myNumber() {
  const d = Array.from({ length: 11 }, () => randomInt(10));
  const w = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
  const r = d.reduce((s, x, i) => s + x * w[i], 0) % 11;
  return d.join('') + String(r <= 1 ? 0 : 11 - r);
}

export function kanaName() {
  const k = 'アイウエオカキクケコサシスセソタチツテト';
  return Array.from({ length: 6 }, () => k[randomInt(k.length)]).join('');
}

export function dateYearsAgo(years, days = 0) {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() - years);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

let metaCache;
export async function metadata() {
  if (!metaCache) {
    const r = await request('GET', '/.well-known/oauth-authorization-server');
    assert.equal(r.status, 200, r.text);
    metaCache = r.body;
  }
  return metaCache;
}

// A municipality's admin session (describe()d), with .org.code its municipality code.
export async function municipality() {
  return (await orgWithAdmin('municipality')).adminSession;
}

// A person of the municipality through POST /api/v1/persons; returns the answer plus my_number.
export async function person(muni, extra = {}) {
  const body = {
    resident_no: `R${randomBytes(6).toString('hex')}`,
    name: `接種 太郎${randomInt(1000)}`,
    name_kana: kanaName(),
    birth_date: dateYearsAgo(35),
    sex: '1',
    address: '東京都渋谷区宇田川町1-1',
    my_number: myNumber(),
    ...extra,
  };
  const r = await request('POST', '/api/v1/persons', { token: muni.access, json: body });
  assert.equal(r.status, 201, `create person: ${r.status} ${r.text}`);
  return { ...r.body, my_number: body.my_number, resident_no: body.resident_no, muni_code: muni.org.code };
}

export async function linkGuardian(muni, child, guardian) {
  const r = await request('POST', `/api/v1/persons/${child.id}/guardians`, {
    token: muni.access,
    json: { guardian_id: guardian.id, relation: 'parent' },
  });
  assert.equal(r.status, 201, `link guardian: ${r.status} ${r.text}`);
}

// One vaccination record of the person (a row of records.immunizations).
export async function immunization(p, muniCode, fields = {}) {
  const f = {
    vaccinated_on: dateYearsAgo(1),
    vaccine_code: '631300601',
    disease_codes: ['measles', 'rubella'],
    dose_number: 1,
    lot_no: `L${randomBytes(3).toString('hex').toUpperCase()}`,
    institution_code: '0110113719',
    status: 'registered',
    category: 'routine',
    ...fields,
  };
  const id = randomUUID();
  await psql(
    `INSERT INTO records.immunizations (id, person_id, muni_code, status, vaccinated_on, vaccine_code, ` +
      `disease_codes, dose_number, lot_no, institution_code, doctor_name, dose_ml, category, ` +
      `requested_category, source, registered_org_id, registered_by, updated_by, void_reason) VALUES ` +
      `(${lit(id)}, ${lit(p.id)}, ${lit(muniCode)}, ${lit(f.status)}, ${lit(f.vaccinated_on)}, ` +
      `${lit(f.vaccine_code)}, ARRAY[${f.disease_codes.map(lit).join(',')}]::text[], ${f.dose_number}, ` +
      `${lit(f.lot_no)}, ${lit(f.institution_code)}, '医師 花子', 0.5, ${lit(f.category)}, ` +
      `${lit(f.category)}, 'institution', ${lit(randomUUID())}, 'test', 'test', ` +
      `${f.status === 'voided' ? "'entered in error'" : 'NULL'})`,
  );
  return { id, ...f };
}

// A P-256 key pair and its public JWK.
export async function keyPair() {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  return { publicKey, privateKey, jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } };
}

// A portal client of the 国保中央会 (secret authentication unless withAuthKey).
export async function portal({ withAuthKey = false, session } = {}) {
  const owner = session ?? (await chuokai());
  const subject = await keyPair();
  const auth = withAuthKey ? await keyPair() : null;
  const json = { name: `portal-${randomBytes(4).toString('hex')}`, subject_key_jwk: subject.jwk };
  if (auth) json.public_key_jwk = auth.jwk;
  const r = await request('POST', '/api/v1/portal-clients', { token: owner.access, json });
  assert.equal(r.status, 201, `portal client: ${r.status} ${r.text}`);
  return { ...r.body, subject, auth, owner };
}

// A subject token as the portal signs it; claims override the defaults (undefined removes).
export async function subjectToken(p, who, claims = {}, key = p.subject.privateKey) {
  const meta = await metadata();
  const now = Math.floor(Date.now() / 1000);
  const body = { iss: p.id, aud: meta.issuer, iat: now, exp: now + 120, jti: randomUUID(), ...who, ...claims };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return new jose.SignJWT(body).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(key);
}

// The openid-client configuration of a portal client (or of any client with a secret).
export async function oidcConfig(client) {
  const meta = await metadata();
  let auth;
  if (client.auth) auth = oidc.PrivateKeyJwt(client.auth.privateKey);
  else auth = oidc.ClientSecretBasic(client.client_secret);
  return new oidc.Configuration(meta, client.id, undefined, auth);
}

// The RFC 8693 exchange with openid-client; resolves to the token response.
export async function exchange(client, subjectTok, extra = {}) {
  const config = await oidcConfig(client);
  oidc.allowInsecureRequests(config);
  return oidc.genericGrantRequest(config, GRANT, {
    subject_token: subjectTok,
    subject_token_type: JWT_TYPE,
    ...extra,
  });
}

// The same exchange as a raw form post (to see the exact error answers).
export async function exchangeRaw(client, fields, secret = client.client_secret) {
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  return request('POST', '/oauth2/token', {
    body: new URLSearchParams({ grant_type: GRANT, subject_token_type: JWT_TYPE, ...fields }).toString(),
    contentType: 'application/x-www-form-urlencoded',
    headers: { Authorization: basic },
    retry429: true,
  });
}

// A vaccinee access token for person p through portal client c.
export async function vaccineeToken(c, p) {
  const t = await exchange(c, await subjectToken(c, { my_number: p.my_number }));
  return t.access_token;
}

export { BASE };
