// self-token.test.mjs - vaccinee tokens (H-3-3): portal clients registered by the 国保中央会
// and the operator, the RFC 8693 token exchange done with openid-client (secret and
// private_key_jwt), the issued token verified with jose against the JWKS, and every refusal:
// wrong signer, expired, too long-lived, replayed jti, wrong audience or issuer, unknown person,
// an API client or a user trying, a portal trying client credentials; revocation by the portal
// and by disabling it. Answers are checked against proto-schemas/token.yaml and self.yaml.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { request, call, eventually } from './lib/http.mjs';
import { stackEnv } from './lib/env.mjs';
import { expectProblem } from './lib/problem.mjs';
import { chuokai, orgWithAdmin, userIn } from './lib/fixtures.mjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import { SCHEMA_DIR, deref } from './lib/contract.mjs';
import {
  municipality, person, portal, subjectToken, exchange, exchangeRaw, metadata, keyPair, myNumber,
  vaccineeToken, GRANT, JWT_TYPE,
} from './lib/vaccinee.mjs';

let muni, alice, p; // a municipality, one of its residents, a portal client

before(async () => {
  muni = await municipality();
  alice = await person(muni);
  p = await portal();
});

// The answers of POST /oauth2/token as token.yaml documents them (the token exchange included).
const TOKEN_YAML = path.join(SCHEMA_DIR, 'token.yaml');
const tokenOp = deref(YAML.parse(readFileSync(TOKEN_YAML, 'utf8')).paths['/oauth2/token'].post, TOKEN_YAML);
const tokenAjv = new Ajv2020({ allErrors: true, strict: false });
function tokenContract(r) {
  const resp = tokenOp.responses[String(r.status)] ?? tokenOp.responses.default;
  assert.ok(resp?.content?.['application/json'], `token.yaml: ${r.status} undocumented: ${r.text}`);
  const v = tokenAjv.compile(resp.content['application/json'].schema);
  assert.ok(v(r.body), `token.yaml ${r.status}: ${JSON.stringify(v.errors)} in ${r.text.slice(0, 300)}`);
  return r;
}

function oauthError(r, status, error) {
  tokenContract(r);
  assert.equal(r.status, status, `${r.status} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(r.body.error, error, r.text);
  assert.equal(typeof r.body.error_description, 'string');
}

test('portal clients: the 国保中央会 admin registers, lists, reads, renames; others may not', async () => {
  const ck = await chuokai();
  assert.equal(p.kind, 'portal');
  assert.match(p.client_secret, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(p.grant_types, [GRANT]);
  const l = await call('listPortalClients', { token: ck.access });
  assert.equal(l.status, 200);
  assert.ok(l.body.items.some((c) => c.id === p.id));
  assert.ok(l.body.items.every((c) => c.client_secret === undefined));
  const g = await call('getPortalClient', { token: ck.access, params: { id: p.id } });
  assert.equal(g.status, 200);
  assert.equal(g.body.client_secret, undefined);
  const u = await call('updatePortalClient', { token: ck.access, params: { id: p.id }, json: { name: `${p.name}-x` } });
  assert.equal(u.status, 200);
  assert.equal(u.body.name, `${p.name}-x`);
  // A municipality admin, a 国保中央会 user and an operator user have no portal_clients.manage.
  const ckUser = await userIn(ck, 'user');
  for (const s of [muni, ckUser]) {
    expectProblem(await call('listPortalClients', { token: s.access }), 403, 'forbidden');
    expectProblem(await call('createPortalClient', { token: s.access, json: { name: 'x', subject_key_jwk: p.subject.jwk } }), 403, 'forbidden');
  }
  // The operator's admin registers its own; the 国保中央会 cannot see it (404).
  const op = (await orgWithAdmin('operator')).adminSession;
  const mine = await portal({ session: op });
  expectProblem(await call('getPortalClient', { token: ck.access, params: { id: mine.id } }), 404, 'not-found');
  expectProblem(await call('getPortalClient', { token: ck.access, params: { id: 'not-a-uuid' } }), 404, 'not-found');
});

test('portal clients: bad bodies are 422 naming the field, a duplicate name 409', async () => {
  const ck = await chuokai();
  const { jwk } = await keyPair();
  const cases = [
    [{ name: 'x' }, 'subject_key_jwk'],
    [{ name: 'x', subject_key_jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } }, 'subject_key_jwk'],
    [{ name: 'x', subject_key_jwk: { ...jwk, x: 'AAAA' } }, 'subject_key_jwk'],
    [{ name: 'x', subject_key_jwk: jwk, public_key_jwk: 'pem' }, 'public_key_jwk'],
    [{ name: 'x', subject_key_jwk: { ...jwk, d: 'AAAA' } }, 'subject_key_jwk'],
    [{ name: 'x', subject_key_jwk: { ...jwk, alg: 'HS256' } }, 'subject_key_jwk'],
    [{ name: 'x', subject_key_jwk: jwk, public_key_jwk: { ...jwk, extra: 1 } }, 'public_key_jwk'],
    [{ name: '', subject_key_jwk: jwk }, 'name'],
    [{ name: 'x'.repeat(101), subject_key_jwk: jwk }, 'name'],
    [{ name: 7, subject_key_jwk: jwk }, 'name'],
    [{ name: 'x', subject_key_jwk: jwk, scopes: ['records:read'] }, 'scopes'],
  ];
  for (const [json, field] of cases) {
    const r = await call('createPortalClient', { token: ck.access, json });
    expectProblem(r, 422, 'validation-failed');
    assert.ok(r.body.errors.some((e) => e.field === field), `${JSON.stringify(json)}: ${r.text}`);
  }
  expectProblem(await call('createPortalClient', { token: ck.access, body: '{"name":', contentType: 'application/json' }), 400, 'invalid-json');
  const dup = await call('createPortalClient', { token: ck.access, json: { name: p.name.endsWith('-x') ? p.name : `${p.name}-x`, subject_key_jwk: jwk } });
  expectProblem(dup, 409, 'conflict');
});

test('exchange with openid-client; the token verifies with jose and reads only its person', async () => {
  const t = await exchange(p, await subjectToken(p, { my_number: alice.my_number }));
  assert.equal(t.token_type.toLowerCase(), 'bearer');
  assert.equal(t.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
  assert.ok(t.expires_in > 0 && t.expires_in <= 3600);
  const meta = await metadata();
  assert.ok(meta.grant_types_supported.includes(GRANT));
  const jwks = jose.createRemoteJWKSet(new URL(meta.jwks_uri));
  const { payload, protectedHeader } = await jose.jwtVerify(t.access_token, jwks, { issuer: meta.issuer, algorithms: ['ES256'] });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(payload.person_id, alice.id);
  assert.equal(payload.sub, alice.id);
  assert.equal(payload.act.sub, p.id);
  assert.equal(payload.client_id, undefined);
  assert.equal(payload.my_number, undefined);
  assert.ok(!t.access_token.includes(alice.my_number));
  const me = await call('getSelf', { token: t.access_token });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.person.id, alice.id);
  assert.equal(me.body.person.relationship, 'self');
  assert.equal(me.body.person.my_number, undefined);
  // The vaccinee holds self.read only: staff endpoints refuse it.
  expectProblem(await request('GET', `/api/v1/persons/${alice.id}`, { token: t.access_token }), 403, 'forbidden');
  expectProblem(await request('GET', '/api/v1/access-logs', { token: t.access_token }), 403, 'forbidden');
  expectProblem(await request('GET', '/api/v1/me', { token: t.access_token }), 403, 'forbidden');
});

test('exchange by municipality code and resident number; private_key_jwt portal', async () => {
  const pk = await portal({ withAuthKey: true });
  assert.deepEqual(pk.token_endpoint_auth_methods, ['private_key_jwt']);
  assert.equal(pk.client_secret, undefined);
  const t = await exchange(pk, await subjectToken(pk, { municipality_code: alice.muni_code, resident_no: alice.resident_no }));
  const me = await call('getSelf', { token: t.access_token });
  assert.equal(me.status, 200);
  assert.equal(me.body.person.id, alice.id);
});

test('refused subject tokens: wrong signer, expired, too long, replayed, wrong aud/iss, malformed', async () => {
  const meta = await metadata();
  const who = { my_number: alice.my_number };
  const other = await keyPair();
  const now = Math.floor(Date.now() / 1000);
  const bad = [
    ['wrong signer', await subjectToken(p, who, {}, other.privateKey)],
    ['expired', await subjectToken(p, who, { iat: now - 600, exp: now - 120 })],
    ['lives too long', await subjectToken(p, who, { exp: now + 3600 })],
    ['wrong audience', await subjectToken(p, who, { aud: 'https://elsewhere.example' })],
    ['wrong issuer', await subjectToken(p, who, { iss: '00000000-0000-4000-8000-000000000000' })],
    ['no jti', await subjectToken(p, who, { jti: undefined })],
    ['no iat', await subjectToken(p, who, { iat: undefined })],
    ['no person', await subjectToken(p, {})],
    ['two ways at once', await subjectToken(p, { ...who, municipality_code: alice.muni_code, resident_no: alice.resident_no })],
    ['bad check digit', await subjectToken(p, { my_number: `${alice.my_number.slice(0, 11)}${(Number(alice.my_number[11]) + 1) % 10}` })],
    ['bad municipality code', await subjectToken(p, { municipality_code: '131131', resident_no: alice.resident_no })],
    ['not a JWT', 'abc.def'],
    ['HS256', await new jose.SignJWT({ iss: p.id, aud: meta.issuer, iat: now, exp: now + 60, jti: 'h', ...who }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('k'.repeat(32)))],
  ];
  for (const [what, st] of bad) {
    const r = await exchangeRaw(p, { subject_token: st });
    assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`);
    assert.equal(r.body.error, 'invalid_request', `${what}: ${r.text}`);
  }
  // Replay: the same subject token twice.
  const once = await subjectToken(p, who);
  const first = tokenContract(await exchangeRaw(p, { subject_token: once }));
  assert.equal(first.status, 200);
  // RFC 8693 2.2.1: issued_token_type is required; no scope was asked and none is granted.
  assert.equal(first.body.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
  assert.equal(first.body.token_type, 'Bearer');
  assert.ok(!('scope' in first.body) && !('refresh_token' in first.body), first.text);
  assert.equal(first.headers.get('cache-control'), 'no-store');
  oauthError(await exchangeRaw(p, { subject_token: once }), 400, 'invalid_request');
});

test('unknown person is invalid_grant; malformed requests are invalid_request or invalid_target', async () => {
  oauthError(await exchangeRaw(p, { subject_token: await subjectToken(p, { my_number: myNumber() }) }), 400, 'invalid_grant');
  oauthError(await exchangeRaw(p, { subject_token: await subjectToken(p, { municipality_code: alice.muni_code, resident_no: 'nobody' }) }), 400, 'invalid_grant');
  const st = () => subjectToken(p, { my_number: alice.my_number });
  oauthError(await exchangeRaw(p, { subject_token: await st(), subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }), 400, 'invalid_request');
  oauthError(await exchangeRaw(p, {}), 400, 'invalid_request');
  oauthError(await exchangeRaw(p, { subject_token: await st(), requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }), 400, 'invalid_request');
  oauthError(await exchangeRaw(p, { subject_token: await st(), actor_token: 'x', actor_token_type: JWT_TYPE }), 400, 'invalid_request');
  oauthError(await exchangeRaw(p, { subject_token: await st(), scope: 'records:read' }), 400, 'invalid_scope');
  oauthError(await exchangeRaw(p, { subject_token: await st(), audience: 'https://elsewhere.example' }), 400, 'invalid_target');
  oauthError(await exchangeRaw(p, { subject_token: 'x'.repeat(3900) }), 400, 'invalid_request');
  oauthError(await exchangeRaw(p, { subject_token: 'x'.repeat(5000) }), 413, 'invalid_request');
  oauthError(await exchangeRaw(p, { subject_token: await st() }, 'wrong-secret'), 401, 'invalid_client');
});

test('only a portal client exchanges; a portal has no client credentials grant', async () => {
  const admin = (await orgWithAdmin('municipality')).adminSession;
  const c = await request('POST', '/api/v1/api-clients', { token: admin.access, json: { name: 'hms', scopes: ['records:read'] } });
  assert.equal(c.status, 201, c.text);
  oauthError(await exchangeRaw(c.body, { subject_token: await subjectToken(p, { my_number: alice.my_number }) }), 400, 'unauthorized_client');
  const basic = `Basic ${Buffer.from(`${p.id}:${p.client_secret}`).toString('base64')}`;
  const r = await request('POST', '/oauth2/token', {
    body: 'grant_type=client_credentials',
    contentType: 'application/x-www-form-urlencoded',
    headers: { Authorization: basic },
  });
  oauthError(r, 400, 'unauthorized_client');
  // A user's session token is no portal credential either.
  expectProblem(await call('getSelf', { token: muni.access }), 403, 'forbidden');
});

test('revocation: the portal revokes one token; disabling the portal ends all of its tokens', async () => {
  const q = await portal();
  const a = await vaccineeToken(q, alice);
  const b = await vaccineeToken(q, alice);
  const basic = `Basic ${Buffer.from(`${q.id}:${q.client_secret}`).toString('base64')}`;
  const intro = await request('POST', '/oauth2/introspect', {
    body: new URLSearchParams({ token: a }).toString(),
    contentType: 'application/x-www-form-urlencoded',
    headers: { Authorization: basic },
  });
  assert.equal(intro.status, 200);
  assert.equal(intro.body.active, true);
  assert.equal(intro.body.sub, alice.id);
  assert.equal(intro.body.client_id, q.id);
  const rv = await request('POST', '/oauth2/revoke', {
    body: new URLSearchParams({ token: a }).toString(),
    contentType: 'application/x-www-form-urlencoded',
    headers: { Authorization: basic },
  });
  assert.equal(rv.status, 200);
  await eventually(async () => expectProblem(await call('getSelf', { token: a }), 401, 'unauthorized'), { timeoutMs: 8000 });
  assert.equal((await call('getSelf', { token: b })).status, 200);
  const ck = await chuokai();
  const d = await call('updatePortalClient', { token: ck.access, params: { id: q.id }, json: { status: 'disabled' } });
  assert.equal(d.status, 200);
  assert.equal(d.body.status, 'disabled');
  await eventually(async () => expectProblem(await call('getSelf', { token: b }), 401, 'unauthorized'), { timeoutMs: 8000 });
  // A disabled portal cannot exchange any more.
  oauthError(await exchangeRaw(q, { subject_token: await subjectToken(q, { my_number: alice.my_number }) }), 401, 'invalid_client');
  const del = await call('deletePortalClient', { token: ck.access, params: { id: q.id } });
  assert.equal(del.status, 204);
  expectProblem(await call('getPortalClient', { token: ck.access, params: { id: q.id } }), 404, 'not-found');
});

test('the internal person resolution is not reachable through the gateway, nor without a service token', async () => {
  const r = await request('POST', '/internal/v1/person-resolutions', { json: { my_number: alice.my_number } });
  assert.equal(r.status, 404);
  const rp = stackEnv().SESSHU_RECORDS_PORT;
  const port = rp ? `http://127.0.0.1:${rp}` : undefined;
  if (port) {
    const d = await request('POST', '/internal/v1/person-resolutions', { base: port, json: { my_number: alice.my_number } });
    expectProblem(d, 401, 'unauthorized');
    const t = await vaccineeToken(p, alice);
    const v = await request('POST', '/internal/v1/person-resolutions', { base: port, token: t, json: { my_number: alice.my_number } });
    expectProblem(v, 401, 'unauthorized');
  }
});
