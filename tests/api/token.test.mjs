// token.test.mjs - the token service (H-2): API clients of municipalities and non-insurance
// medical institutions, the client credentials grant obtained with the `openid-client` library
// (client_secret_basic and client_secret_post), tokens verified with `jose` against the
// published JWKS; wrong secrets, unknown scopes, expired, revoked and tampered tokens, another
// organisation's clients; the authorisation matrix of /api/v1/api-clients and bad inputs.
// Answers are checked against proto-schemas/token.yaml.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import * as oidc from 'openid-client';
import * as jose from 'jose';
import { BASE, stackEnv } from './lib/env.mjs';
import { request } from './lib/http.mjs';
import { SCHEMA_DIR, deref } from './lib/contract.mjs';
import { expectProblem } from './lib/problem.mjs';
import { orgWithAdmin, userIn, chuokai } from './lib/fixtures.mjs';

// --- the contract of token.yaml --------------------------------------------------------------
const FILE = path.join(SCHEMA_DIR, 'token.yaml');
const DOC = YAML.parse(readFileSync(FILE, 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validators = new Map();

// Checks r against the documented answer of (method, path template, status).
function contract(r, method, tpl) {
  const op = DOC.paths[tpl]?.[method.toLowerCase()];
  assert.ok(op, `token.yaml has no ${method} ${tpl}`);
  const key = String(r.status);
  const respRaw = op.responses[key] ?? op.responses[`${key[0]}XX`] ?? op.responses.default;
  assert.ok(respRaw, `${method} ${tpl}: ${r.status} is not documented: ${r.text}`);
  const resp = deref(respRaw, FILE);
  if (!resp.content) {
    assert.equal(r.text, '', `${method} ${tpl} ${r.status}: expected no body`);
    return r;
  }
  const ct = (r.headers.get('content-type') ?? '').split(';')[0].trim();
  const mt = resp.content[ct];
  assert.ok(mt, `${method} ${tpl} ${r.status}: media type ${ct} not documented`);
  const vkey = `${method} ${tpl} ${key} ${ct}`;
  if (!validators.has(vkey)) validators.set(vkey, ajv.compile(mt.schema));
  const v = validators.get(vkey);
  assert.ok(v(r.body), `${vkey}: ${JSON.stringify(v.errors)} in ${r.text.slice(0, 300)}`);
  return r;
}

const API = '/api/v1/api-clients';
async function api(method, p, tpl, opts) {
  return contract(await request(method, p, opts), method, tpl);
}
async function form(p, params, opts = {}) {
  const body = new URLSearchParams(params).toString();
  return contract(
    await request('POST', p, { body, contentType: 'application/x-www-form-urlencoded', ...opts }),
    'POST',
    p,
  );
}
function basic(id, secret) {
  return { Authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Polls until fn() is true (revocations reach other services within the poll interval).
async function eventually(fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    assert.ok(Date.now() < end, 'condition not reached in time');
    await sleep(200);
  }
}

async function grant(client, scope, method = 'post') {
  const auth = method === 'basic' ? oidc.ClientSecretBasic(client.client_secret) : oidc.ClientSecretPost(client.client_secret);
  const config = await oidc.discovery(new URL(BASE), client.id, undefined, auth, {
    execute: [oidc.allowInsecureRequests],
    algorithm: 'oauth2',
  });
  return oidc.clientCredentialsGrant(config, scope ? { scope } : {});
}

const JWKS = jose.createRemoteJWKSet(new URL(`${BASE}/.well-known/jwks.json`));

let muni; // municipality admin session
let nonins; // non-insurance medical institution admin session
let other; // another municipality's admin
let client; // a client of muni with records:read records:write

before(async () => {
  muni = (await orgWithAdmin('municipality')).adminSession;
  nonins = (await orgWithAdmin('non_insurance_medical_institution')).adminSession;
  other = (await orgWithAdmin('municipality')).adminSession;
  const r = await api('POST', API, API, {
    token: muni.access,
    json: { name: '健康管理システム', scopes: ['records:read', 'records:write'] },
  });
  assert.equal(r.status, 201, r.text);
  client = r.body;
});

test('metadata (RFC 8414) and the JWK Set', async () => {
  const m = await api('GET', '/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server', {});
  assert.equal(m.status, 200);
  assert.equal(m.body.issuer, BASE);
  assert.equal(m.body.token_endpoint, `${BASE}/oauth2/token`);
  assert.deepEqual(m.body.grant_types_supported, ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange']);
  const j = await api('GET', '/.well-known/jwks.json', '/.well-known/jwks.json', {});
  assert.equal(j.status, 200);
  // The account service's session key and the token service's own key.
  assert.ok(j.body.keys.length >= 2, `only ${j.body.keys.length} keys`);
  for (const k of j.body.keys) {
    assert.equal(k.kid, await jose.calculateJwkThumbprint({ kty: k.kty, crv: k.crv, x: k.x, y: k.y }));
  }
});

test('create: the secret is shown once; list and get never show it', async () => {
  assert.match(client.client_secret, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(client.scopes, ['records:read', 'records:write']);
  assert.equal(client.status, 'active');
  assert.equal(client.organization_id, muni.orgId);
  const g = await api('GET', `${API}/${client.id}`, `${API}/{id}`, { token: muni.access });
  assert.equal(g.status, 200);
  assert.equal(g.body.client_secret, undefined);
  const l = await api('GET', API, API, { token: muni.access });
  assert.ok(l.body.items.some((c) => c.id === client.id));
  assert.ok(l.body.items.every((c) => c.client_secret === undefined));
});

test('client credentials with openid-client (post and basic), verified with jose against the JWKS', async () => {
  const t1 = await grant(client, 'records:read');
  assert.equal(t1.token_type.toLowerCase(), 'bearer');
  assert.equal(t1.scope, 'records:read');
  const { payload, protectedHeader } = await jose.jwtVerify(t1.access_token, JWKS, { issuer: BASE, algorithms: ['ES256'] });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(payload.client_id, client.id);
  assert.equal(payload.sub, client.id);
  assert.equal(payload.org, muni.orgId);
  assert.equal(payload.org_type, 'municipality');
  assert.match(payload.muni, /^\d{6}$/);
  assert.equal(payload.scope, 'records:read');
  assert.ok(payload.jti);
  assert.equal(payload.exp - payload.iat, 600);
  // Expired ten minutes later.
  await assert.rejects(
    jose.jwtVerify(t1.access_token, JWKS, { issuer: BASE, currentDate: new Date((payload.exp + 120) * 1000) }),
    (e) => e.code === 'ERR_JWT_EXPIRED',
  );
  const t2 = await grant(client, undefined, 'basic');
  assert.equal(t2.scope, 'records:read records:write');
  // The use is counted.
  const g = await api('GET', `${API}/${client.id}`, `${API}/{id}`, { token: muni.access });
  assert.ok(g.body.use_count >= 2);
  assert.ok(g.body.last_used_at);
});

test('a client token is a principal of every service: authenticated, but only within its scopes', async () => {
  const t = await grant(client, 'records:read');
  // Authenticated (not 401), but a client holds no api_clients.manage / access_logs.read.
  expectProblem(await request('GET', API, { token: t.access_token }), 403, 'forbidden');
  expectProblem(await request('GET', '/api/v1/access-logs', { token: t.access_token }), 403, 'forbidden');
  // Tampered: one character of the payload changed.
  const [h, p, s] = t.access_token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  claims.org = other.orgId;
  const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
  expectProblem(await request('GET', API, { token: forged }), 401, 'unauthorized');
  expectProblem(await request('GET', '/api/v1/access-logs', { token: forged }), 401, 'unauthorized');
  // Signed by a key nobody published.
  const { privateKey } = await jose.generateKeyPair('ES256');
  const alien = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'alien' }).sign(privateKey);
  expectProblem(await request('GET', API, { token: alien }), 401, 'unauthorized');
});

test('RFC 6750 challenges: none without a token, invalid_request, invalid_token, insufficient_scope', async () => {
  const t = await grant(client, 'records:read');
  const challenge = (r) => r.headers.get('www-authenticate') ?? '';
  const none = await request('GET', '/api/v1/persons');
  assert.equal(none.status, 401);
  assert.match(challenge(none), /^Bearer realm="sesshu"$/);
  const malformed = await request('GET', '/api/v1/persons', { headers: { Authorization: 'Bearer' } });
  assert.equal(malformed.status, 401);
  assert.match(challenge(malformed), /^Bearer .*error="invalid_request"/);
  const bad = await request('GET', '/api/v1/persons', { token: `${t.access_token.slice(0, -4)}AAAA` });
  assert.equal(bad.status, 401);
  assert.match(challenge(bad), /^Bearer .*error="invalid_token"/);
  // Authenticated, but the token's scopes do not reach: 403 insufficient_scope.
  const scope = await request('GET', '/api/v1/access-logs', { token: t.access_token });
  expectProblem(scope, 403, 'forbidden');
  assert.match(challenge(scope), /^Bearer .*error="insufficient_scope"/);
  // A user's 403 is about the role, not a token's scope: no challenge.
  const u = await userIn(muni, 'user');
  const role = await request('GET', API, { token: u.access });
  expectProblem(role, 403, 'forbidden');
  assert.equal(role.headers.get('www-authenticate'), null);
});

test('wrong secrets, unknown clients, unknown and unregistered scopes (RFC 6749 5.2)', async () => {
  let r = await form('/oauth2/token', { grant_type: 'client_credentials' }, { headers: basic(client.id, 'x'.repeat(43)) });
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'invalid_client');
  assert.match(r.headers.get('www-authenticate') ?? '', /^Basic/);
  r = await form('/oauth2/token', { grant_type: 'client_credentials', client_id: client.id, client_secret: 'nope' });
  assert.equal(r.body.error, 'invalid_client');
  r = await form('/oauth2/token', { grant_type: 'client_credentials', client_id: '00000000-0000-4000-8000-000000000000', client_secret: client.client_secret });
  assert.equal(r.body.error, 'invalid_client');
  r = await form('/oauth2/token', { grant_type: 'client_credentials', scope: 'records:delete' }, { headers: basic(client.id, client.client_secret) });
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'invalid_scope');
  r = await form('/oauth2/token', { grant_type: 'client_credentials', scope: 'masters:read' }, { headers: basic(client.id, client.client_secret) });
  assert.equal(r.body.error, 'invalid_scope');
  r = await form('/oauth2/token', { grant_type: 'password' }, { headers: basic(client.id, client.client_secret) });
  assert.equal(r.body.error, 'unsupported_grant_type');
  r = await form('/oauth2/token', {}, { headers: basic(client.id, client.client_secret) });
  assert.equal(r.body.error, 'invalid_request');
  // Both authentication methods at once.
  r = await form('/oauth2/token', { grant_type: 'client_credentials', client_secret: client.client_secret }, { headers: basic(client.id, client.client_secret) });
  assert.equal(r.body.error, 'invalid_request');
});

test('bad OAuth requests: content type, repeated parameters, invalid UTF-8, oversized', async () => {
  const h = basic(client.id, client.client_secret);
  let r = await request('POST', '/oauth2/token', { json: { grant_type: 'client_credentials' }, headers: h });
  contract(r, 'POST', '/oauth2/token');
  assert.equal(r.body.error, 'invalid_request');
  r = await request('POST', '/oauth2/token', { body: 'grant_type=client_credentials&grant_type=client_credentials', contentType: 'application/x-www-form-urlencoded', headers: h });
  assert.equal(r.body.error, 'invalid_request');
  r = await request('POST', '/oauth2/token', { body: Buffer.from('grant_type=client_credentials&scope=%FF%FE'), contentType: 'application/x-www-form-urlencoded', headers: h });
  assert.equal(r.body.error, 'invalid_request');
  r = await request('POST', '/oauth2/token', { body: 'grant_type=client_credentials&scope=%G1', contentType: 'application/x-www-form-urlencoded', headers: h });
  assert.equal(r.body.error, 'invalid_request');
  r = await request('POST', '/oauth2/token', { body: `grant_type=client_credentials&x=${'a'.repeat(5000)}`, contentType: 'application/x-www-form-urlencoded', headers: h });
  contract(r, 'POST', '/oauth2/token');
  assert.equal(r.status, 413);
});

test('introspection (RFC 7662) and revocation (RFC 7009): refused by every service within seconds', async () => {
  const t = await grant(client, 'records:read');
  const h = basic(client.id, client.client_secret);
  let r = await form('/oauth2/introspect', { token: t.access_token }, { headers: h });
  assert.equal(r.body.active, true);
  assert.equal(r.body.client_id, client.id);
  assert.equal(r.body.scope, 'records:read');
  r = await form('/oauth2/introspect', { token: 'garbage' }, { headers: h });
  assert.deepEqual(r.body, { active: false });
  // Another client (another organisation) does not see the token as active, nor may revoke it.
  const o = await api('POST', API, API, { token: other.access, json: { name: 'other', scopes: ['records:read'] } });
  const ho = basic(o.body.id, o.body.client_secret);
  r = await form('/oauth2/introspect', { token: t.access_token }, { headers: ho });
  assert.deepEqual(r.body, { active: false });
  r = await form('/oauth2/revoke', { token: t.access_token }, { headers: ho });
  assert.equal(r.status, 200);
  expectProblem(await request('GET', '/api/v1/access-logs', { token: t.access_token }), 403, 'forbidden');
  // Revoked by its own client: refused by the token service at once, by the audit service soon.
  r = await form('/oauth2/revoke', { token: t.access_token }, { headers: h });
  assert.equal(r.status, 200);
  expectProblem(await request('GET', API, { token: t.access_token }), 401, 'unauthorized');
  await eventually(async () => (await request('GET', '/api/v1/access-logs', { token: t.access_token })).status === 401);
  r = await form('/oauth2/introspect', { token: t.access_token }, { headers: h });
  assert.deepEqual(r.body, { active: false });
  // Unauthenticated introspection.
  r = await form('/oauth2/introspect', { token: t.access_token });
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'invalid_client');
});

test('a disabled organisation: its issued client tokens are refused everywhere within seconds', async () => {
  const made = await orgWithAdmin('municipality');
  const admin = made.adminSession;
  const ck = await chuokai();
  const c = await api('POST', API, API, { token: admin.access, json: { name: 'doomed', scopes: ['records:read'] } });
  assert.equal(c.status, 201, c.text);
  const t = await grant(c.body, 'records:read');
  expectProblem(await request('GET', '/api/v1/access-logs', { token: t.access_token }), 403, 'forbidden');
  await sleep(1100); // revocations compare whole seconds of issue
  const patch = (status) => request('PATCH', `/api/v1/organizations/${made.org.id}`, { token: ck.access, json: { status } });
  assert.equal((await patch('disabled')).status, 200);
  // Every service refuses the already-issued token (401), not only at its expiry.
  await eventually(async () => (await request('GET', '/api/v1/access-logs', { token: t.access_token })).status === 401);
  await eventually(async () => (await request('GET', API, { token: t.access_token })).status === 401);
  // Re-enabled: tokens issued from then on are accepted again; the old one stays refused.
  assert.equal((await patch('active')).status, 200);
  await sleep(1100);
  const t2 = await grant(c.body, 'records:read');
  await eventually(async () => (await request('GET', '/api/v1/access-logs', { token: t2.access_token })).status === 403);
  expectProblem(await request('GET', '/api/v1/access-logs', { token: t.access_token }), 401, 'unauthorized');
});

test('rotation keeps the old secret for the grace period; disable, enable and delete', async () => {
  const c = (await api('POST', API, API, { token: nonins.access, json: { name: 'vendor app', scopes: ['questionnaires:read', 'mch:write'], allowed_addresses: ['127.0.0.1/32', '::1/128'] } })).body;
  assert.deepEqual(c.allowed_addresses, ['127.0.0.1/32', '::1/128']);
  const old = c.client_secret;
  const rot = await api('POST', `${API}/${c.id}/rotate-secret`, `${API}/{id}/rotate-secret`, { token: nonins.access });
  assert.equal(rot.status, 200);
  assert.notEqual(rot.body.client_secret, old);
  assert.ok(rot.body.previous_secret_expires_at);
  await grant({ id: c.id, client_secret: rot.body.client_secret }, 'mch:write');
  const t = await grant({ id: c.id, client_secret: old }, 'mch:write', 'basic');
  const { payload } = await jose.jwtVerify(t.access_token, JWKS, { issuer: BASE });
  assert.equal(payload.org_type, 'non_insurance_medical_institution');
  // Disabled: live tokens and new grants refused.
  let r = await api('PATCH', `${API}/${c.id}`, `${API}/{id}`, { token: nonins.access, json: { status: 'disabled' } });
  assert.equal(r.body.status, 'disabled');
  expectProblem(await request('GET', API, { token: t.access_token }), 401, 'unauthorized');
  await eventually(async () => (await request('GET', '/api/v1/access-logs', { token: t.access_token })).status === 401);
  r = await form('/oauth2/token', { grant_type: 'client_credentials' }, { headers: basic(c.id, rot.body.client_secret) });
  assert.equal(r.body.error, 'invalid_client');
  // Enabled again: a new generation of tokens works.
  r = await api('PATCH', `${API}/${c.id}`, `${API}/{id}`, { token: nonins.access, json: { status: 'active', name: 'vendor app 2' } });
  assert.equal(r.body.name, 'vendor app 2');
  const t2 = await grant({ id: c.id, client_secret: rot.body.client_secret }, 'questionnaires:read');
  expectProblem(await request('GET', API, { token: t2.access_token }), 403, 'forbidden');
  // Deleted: 404 afterwards, its tokens refused.
  r = await api('DELETE', `${API}/${c.id}`, `${API}/{id}`, { token: nonins.access });
  assert.equal(r.status, 204);
  expectProblem(await api('GET', `${API}/${c.id}`, `${API}/{id}`, { token: nonins.access }), 404, 'not-found');
  expectProblem(await request('GET', API, { token: t2.access_token }), 401, 'unauthorized');
});

test('a kept authentication (no address list) never outlives a change made here, nor admits another secret', async () => {
  const made = await api('POST', API, API, { token: muni.access, json: { name: 'busy system', scopes: ['records:read', 'masters:read'] } });
  assert.equal(made.status, 201, made.text);
  const c = made.body;
  const tokenWith = (secret, scope) =>
    form('/oauth2/token', { grant_type: 'client_credentials', ...(scope ? { scope } : {}) }, { headers: basic(c.id, secret) });
  // Two grants in a row: the second is answered from the kept authentication, with the same claims.
  const [a, b] = [await tokenWith(c.client_secret), await tokenWith(c.client_secret)];
  assert.equal(a.status, 200, a.text);
  assert.equal(b.status, 200, b.text);
  const pa = (await jose.jwtVerify(a.body.access_token, JWKS, { issuer: BASE })).payload;
  const pb = (await jose.jwtVerify(b.body.access_token, JWKS, { issuer: BASE })).payload;
  assert.equal(pb.gen, pa.gen);
  assert.equal(pb.org, pa.org);
  assert.notEqual(pb.jti, pa.jti);
  // Another secret is still refused right after a kept success.
  let r = await tokenWith(`${c.client_secret.slice(0, -1)}${c.client_secret.endsWith('A') ? 'B' : 'A'}`);
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'invalid_client');
  // Narrowed: the removed scope is refused at once, not after the cache lifetime.
  r = await api('PATCH', `${API}/${c.id}`, `${API}/{id}`, { token: muni.access, json: { scopes: ['masters:read'] } });
  assert.equal(r.status, 200, r.text);
  r = await tokenWith(c.client_secret, 'records:read');
  assert.equal(r.body.error, 'invalid_scope');
  assert.equal((await tokenWith(c.client_secret, 'masters:read')).status, 200);
  // Disabled: refused at once.
  r = await api('PATCH', `${API}/${c.id}`, `${API}/{id}`, { token: muni.access, json: { status: 'disabled' } });
  assert.equal(r.status, 200, r.text);
  r = await tokenWith(c.client_secret);
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'invalid_client');
  // Enabled, used, then deleted: refused at once.
  r = await api('PATCH', `${API}/${c.id}`, `${API}/{id}`, { token: muni.access, json: { status: 'active' } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await tokenWith(c.client_secret)).status, 200);
  assert.equal((await api('DELETE', `${API}/${c.id}`, `${API}/{id}`, { token: muni.access })).status, 204);
  r = await tokenWith(c.client_secret);
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'invalid_client');
});

test('private_key_jwt (RFC 7523): a client that holds a key instead of a secret', async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
  const jwk = await jose.exportJWK(publicKey);
  const r = await api('POST', API, API, {
    token: muni.access,
    json: { name: 'keyed system', scopes: ['linkage:read', 'masters:read'], public_key_jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } },
  });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.client_secret, undefined);
  assert.deepEqual(r.body.token_endpoint_auth_methods, ['private_key_jwt']);
  const id = r.body.id;
  // With openid-client.
  const config = await oidc.discovery(new URL(BASE), id, undefined, oidc.PrivateKeyJwt(privateKey), {
    execute: [oidc.allowInsecureRequests],
    algorithm: 'oauth2',
  });
  const t = await oidc.clientCredentialsGrant(config, { scope: 'linkage:read' });
  const { payload } = await jose.jwtVerify(t.access_token, JWKS, { issuer: BASE, algorithms: ['ES256'] });
  assert.equal(payload.client_id, id);
  assert.equal(payload.scope, 'linkage:read');
  // By hand: the same assertion twice is a replay.
  const assertion = (key, claims = {}) =>
    new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(id)
      .setSubject(id)
      .setAudience(BASE)
      .setJti(`j-${Math.random().toString(36).slice(2)}`)
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(key);
  const type = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
  const a1 = await assertion(privateKey);
  let g = await form('/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: type, client_assertion: a1 });
  assert.equal(g.status, 200, g.text);
  g = await form('/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: type, client_assertion: a1 });
  assert.equal(g.body.error, 'invalid_client');
  // Signed by another key, for another audience, for too long, or with an unknown type.
  const other = await jose.generateKeyPair('ES256');
  g = await form('/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: type, client_assertion: await assertion(other.privateKey) });
  assert.equal(g.body.error, 'invalid_client');
  const wrongAud = await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(id).setSubject(id).setAudience('https://elsewhere.example').setJti('x1').setExpirationTime('60s').sign(privateKey);
  g = await form('/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: type, client_assertion: wrongAud });
  assert.equal(g.body.error, 'invalid_client');
  const longLived = await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(id).setSubject(id).setAudience(BASE).setJti('x2').setExpirationTime('2h').sign(privateKey);
  g = await form('/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: type, client_assertion: longLived });
  assert.equal(g.body.error, 'invalid_client');
  g = await form('/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: 'urn:x', client_assertion: await assertion(privateKey) });
  assert.equal(g.body.error, 'invalid_request');
  // Introspection authenticated the same way.
  const i = await form('/oauth2/introspect', { token: t.access_token, client_assertion_type: type, client_assertion: await assertion(privateKey) });
  assert.equal(i.body.active, true);
  // No secret to rotate.
  expectProblem(await api('POST', `${API}/${id}/rotate-secret`, `${API}/{id}/rotate-secret`, { token: muni.access }), 409, 'conflict');
  // A PEM works the same; a key that is not EC P-256 is refused.
  const k2 = await jose.generateKeyPair('ES256');
  const r2 = await api('POST', API, API, { token: muni.access, json: { name: 'pem system', scopes: ['masters:read'], public_key_pem: await jose.exportSPKI(k2.publicKey) } });
  assert.equal(r2.status, 201, r2.text);
  const id2 = r2.body.id;
  const a2 = await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(id2).setSubject(id2).setAudience(`${BASE}/oauth2/token`).setJti('p1').setExpirationTime('60s').sign(k2.privateKey);
  g = await form('/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: type, client_assertion: a2 });
  assert.equal(g.status, 200, g.text);
  const rsa = await jose.generateKeyPair('RS256', { modulusLength: 2048 });
  expectProblem(await api('POST', API, API, { token: muni.access, json: { name: 'rsa', scopes: ['masters:read'], public_key_pem: await jose.exportSPKI(rsa.publicKey) } }), 422, 'validation-failed');
  expectProblem(await api('POST', API, API, { token: muni.access, json: { name: 'junk', scopes: ['masters:read'], public_key_jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'BBBB' } } }), 422, 'validation-failed');
});

test('a client restricted to other source addresses is refused', async () => {
  const c = (await api('POST', API, API, { token: muni.access, json: { name: 'far away', scopes: ['masters:read'], allowed_addresses: ['192.0.2.0/24'] } })).body;
  const r = await form('/oauth2/token', { grant_type: 'client_credentials' }, { headers: basic(c.id, c.client_secret) });
  assert.equal(r.body.error, 'invalid_client');
});

test('a direct call to the token port cannot claim an allowed address with X-Real-IP', async () => {
  const c = (await api('POST', API, API, { token: muni.access, json: { name: 'spoofer', scopes: ['masters:read'], allowed_addresses: ['192.0.2.0/24'] } })).body;
  const base = `http://127.0.0.1:${stackEnv().SESSHU_TOKEN_PORT}`;
  for (const forged of ['192.0.2.5', '192.0.2.200']) {
    const r = await request('POST', '/oauth2/token', {
      base,
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
      contentType: 'application/x-www-form-urlencoded',
      headers: { ...basic(c.id, c.client_secret), 'X-Real-IP': forged, 'X-Forwarded-For': forged },
    });
    assert.equal(r.body.error, 'invalid_client', `${forged}: ${r.text}`);
  }
});

test('authorisation matrix of /api/v1/api-clients', async () => {
  const body = { name: 'matrix', scopes: ['masters:read'] };
  // Allowed: admins of a municipality and of a non-insurance medical institution (above).
  // Refused (403): their users, and every other organisation type's admins.
  const refused = [await userIn(muni, 'user'), await userIn(nonins, 'user'), await chuokai()];
  for (const type of ['medical_institution', 'kokuhoren', 'mhlw', 'operator']) refused.push((await orgWithAdmin(type)).adminSession);
  for (const p of refused) {
    expectProblem(await api('POST', API, API, { token: p.access, json: body }), 403, 'forbidden');
    expectProblem(await api('GET', API, API, { token: p.access }), 403, 'forbidden');
    expectProblem(await api('GET', `${API}/${client.id}`, `${API}/{id}`, { token: p.access }), 403, 'forbidden');
  }
  // Another organisation's client: 404 for every verb; its list does not show it.
  const tpl = `${API}/{id}`;
  expectProblem(await api('GET', `${API}/${client.id}`, tpl, { token: other.access }), 404, 'not-found');
  expectProblem(await api('PATCH', `${API}/${client.id}`, tpl, { token: other.access, json: { name: 'x' } }), 404, 'not-found');
  expectProblem(await api('DELETE', `${API}/${client.id}`, tpl, { token: other.access }), 404, 'not-found');
  expectProblem(await api('POST', `${API}/${client.id}/rotate-secret`, `${tpl}/rotate-secret`, { token: other.access }), 404, 'not-found');
  const l = await api('GET', API, API, { token: other.access });
  assert.ok(!l.body.items.some((c) => c.id === client.id));
  // No token: 401.
  expectProblem(await api('GET', API, API, {}), 401, 'unauthorized');
});

test('bad inputs on /api/v1/api-clients', async () => {
  const t = { token: muni.access };
  expectProblem(await api('POST', API, API, { ...t, body: '{"name":', contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await api('POST', API, API, { ...t, body: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), contentType: 'application/json' }), 400);
  expectProblem(await api('POST', API, API, { ...t, json: { name: 'x', scopes: ['records:read'], secret: 'mine' } }), 422, 'validation-failed');
  expectProblem(await api('POST', API, API, { ...t, json: { name: 'x', scopes: ['records:delete'] } }), 422, 'validation-failed');
  expectProblem(await api('POST', API, API, { ...t, json: { name: 'x', scopes: ['records:read', 'records:read'] } }), 422, 'validation-failed');
  expectProblem(await api('POST', API, API, { ...t, json: { name: 'x', scopes: [] } }), 422, 'validation-failed');
  expectProblem(await api('POST', API, API, { ...t, json: { name: 'x', scopes: ['records:read'], allowed_addresses: ['999.1.1.1/8'] } }), 422, 'validation-failed');
  expectProblem(await api('POST', API, API, { ...t, json: { name: 'x'.repeat(101), scopes: ['records:read'] } }), 422, 'validation-failed');
  expectProblem(await api('POST', API, API, { ...t, body: JSON.stringify({ name: 'x'.repeat(2_000_000), scopes: [] }), contentType: 'application/json' }), 413);
  expectProblem(await api('POST', API, API, { ...t, body: 'name=x', contentType: 'text/plain' }), 415);
  expectProblem(await api('PATCH', `${API}/${client.id}`, `${API}/{id}`, { ...t, json: { status: 'deleted' } }), 422, 'validation-failed');
  expectProblem(await api('GET', `${API}/not-a-uuid`, `${API}/{id}`, t), 404, 'not-found');
  // Same name twice in one organisation.
  expectProblem(await api('POST', API, API, { ...t, json: { name: '健康管理システム', scopes: ['records:read'] } }), 409, 'conflict');
});
