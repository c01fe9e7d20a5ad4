// account-login.test.mjs - H-1-9: login answers, the access token as an independent JOSE
// library sees it (ES256, kid from the JWK Set, iss, 15-minute exp), refresh rotation and reuse
// detection, the lock after repeated failures, logout taking effect at once, forged tokens.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import {
  createRemoteJWKSet,
  jwtVerify,
  decodeProtectedHeader,
  decodeJwt,
  calculateJwkThumbprint,
  generateKeyPair,
  SignJWT,
  exportJWK,
} from 'jose';
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { BASE, POLICY, stackEnv } from './lib/env.mjs';
import { call, ok, request, eventually } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { orgWithAdmin, userIn, login, uniq } from './lib/fixtures.mjs';

let admin; // activated admin of a medical institution
let jwks;

before(async () => {
  ({ adminSession: admin } = await orgWithAdmin('medical_institution'));
  jwks = createRemoteJWKSet(new URL(`${BASE}/.well-known/jwks.json`));
});

function sameProblem(a, b, what) {
  const pick = (x) => ({ type: x.body?.type, title: x.body?.title, status: x.status, detail: x.body?.detail });
  assert.deepEqual(pick(a), pick(b), `${what}: the answers differ`);
}

test('H-1-9: the login answer and the main menu', async () => {
  const u = await userIn(admin, 'user');
  const r = await call('login', { json: { user_id: u.user_id, password: u.password } });
  assert.equal(r.status, 200);
  assert.equal(r.body.token_type, 'Bearer');
  assert.equal(r.body.expires_in, POLICY.accessTtlS);
  assert.equal(r.body.password_change_required, false);
  assert.notEqual(r.body.refresh_token, r.body.access_token);
  const me = await ok('getMe', 200, { token: r.body.access_token });
  assert.equal(me.user.user_id, u.user_id);
  assert.equal(me.organization.type, 'medical_institution');
  const INST = ['claims.submit', 'masters.read', 'masters.write', 'questionnaires.read', 'questionnaires.write', 'records.read', 'records.write'];
  assert.deepEqual(me.menu.map((m) => m.permission).sort(), ['profile', ...INST].sort());
  for (const m of me.menu) assert.ok(m.label.length > 0);
  const am = await ok('getMe', 200, { token: admin.access });
  assert.deepEqual(am.menu.map((m) => m.permission).sort(), ['bank_accounts.manage', 'masters.import', 'profile', 'users.manage', ...INST].sort());
  // Case of the login id does not matter.
  const upper = await call('login', { json: { user_id: u.user_id.toUpperCase(), password: u.password } });
  assert.equal(upper.status, 200);
});

test('H-1-9: the access token verifies with jose against /.well-known/jwks.json (ES256, kid, iss, exp)', async () => {
  const keys = await ok('getJwks', 200);
  for (const k of keys.keys) {
    assert.equal(k.kty, 'EC');
    assert.equal(k.crv, 'P-256');
    assert.equal(k.d, undefined, 'a private key is published');
    assert.equal(k.kid, await calculateJwkThumbprint(k, 'sha256'), 'kid is the RFC 7638 thumbprint');
  }
  const s = await login(admin.user_id, admin.password);
  const header = decodeProtectedHeader(s.access);
  assert.equal(header.alg, 'ES256');
  assert.equal(typeof header.kid, 'string');
  assert.ok(keys.keys.some((k) => k.kid === header.kid), 'the kid is in the JWK Set');
  const issuer = process.env.SESSHU_TEST_ENV_FILE ? (stackEnv().SESSHU_JWT_ISSUER ?? 'http://localhost:8080') : undefined;
  const { payload } = await jwtVerify(s.access, jwks, { algorithms: ['ES256'], issuer });
  assert.equal(typeof payload.iss, 'string');
  assert.equal(payload.sub, admin.id);
  assert.equal(typeof payload.exp, 'number');
  assert.equal(typeof payload.iat, 'number');
  assert.equal(payload.exp - payload.iat, POLICY.accessTtlS);
  assert.ok(Math.abs(payload.exp - (Date.now() / 1000 + POLICY.accessTtlS)) < 120, 'exp is about 15 minutes ahead');
  for (const claim of ['pw', 'password', 'pw_hash']) assert.equal(payload[claim], undefined);
});

test('H-1-9: refresh tokens rotate; replaying a used one revokes the whole session', async () => {
  const s = await login(admin.user_id, admin.password);
  const p2 = await ok('refreshToken', 200, { json: { refresh_token: s.refresh } });
  assert.notEqual(p2.refresh_token, s.refresh);
  assert.notEqual(p2.access_token, s.access);
  assert.equal(p2.token_type, 'Bearer');
  assert.equal(decodeJwt(p2.access_token).sid, decodeJwt(s.access).sid, 'a refresh stays in its session');
  assert.equal((await call('getMe', { token: p2.access_token })).status, 200);
  const p3 = await ok('refreshToken', 200, { json: { refresh_token: p2.refresh_token } });
  // The first refresh token again: reuse, so the session ends.
  expectProblem(await call('refreshToken', { json: { refresh_token: s.refresh } }), 401, 'unauthorized');
  expectProblem(await call('refreshToken', { json: { refresh_token: p3.refresh_token } }), 401, 'unauthorized');
  expectProblem(await call('getMe', { token: p3.access_token }), 401, 'unauthorized');
  expectProblem(await call('getMe', { token: p2.access_token }), 401, 'unauthorized');
  // Other sessions of the same user are not touched.
  assert.equal((await call('getMe', { token: admin.access })).status, 200);
  expectProblem(await call('refreshToken', { json: { refresh_token: 'x'.repeat(43) } }), 401, 'unauthorized');
});

test('H-1-9: wrong password, unknown user and a locked account give the same 401; 5 failures lock', async () => {
  const u = await userIn(admin, 'user');
  const unknown = await call('login', { json: { user_id: uniq('ghost'), password: 'whatever-password-1' } });
  expectProblem(unknown, 401, 'unauthorized');
  let wrong;
  for (let i = 0; i < POLICY.maxFailures; i++) {
    wrong = await call('login', { json: { user_id: u.user_id, password: `wrong-${i}-password-x` } });
    expectProblem(wrong, 401, 'unauthorized');
    sameProblem(wrong, unknown, 'wrong password vs unknown user');
  }
  const locked = await call('login', { json: { user_id: u.user_id, password: u.password } });
  expectProblem(locked, 401, 'unauthorized');
  sameProblem(locked, unknown, 'locked vs unknown user');
  const seen = await ok('getUser', 200, { token: admin.access, params: { id: u.id } });
  assert.equal(seen.status, 'active');
  assert.ok(seen.locked_until, 'locked_until is set');
  const lockMs = Date.parse(seen.locked_until) - Date.now();
  assert.ok(lockMs > (POLICY.lockMinutes - 2) * 60_000 && lockMs <= (POLICY.lockMinutes + 1) * 60_000, `locked for ${lockMs} ms`);
  assert.equal((await call('getMe', { token: u.access })).status, 200, 'a lock does not end a live session');

  const unlocked = await ok('updateUser', 200, { token: admin.access, params: { id: u.id }, json: { status: 'active' } });
  assert.equal(unlocked.locked_until, null);
  const back = await call('login', { json: { user_id: u.user_id, password: u.password } });
  assert.equal(back.status, 200);
});

test('H-1-9: logout revokes at once, here and at the other services', async () => {
  const u = await userIn(admin, 'user');
  const s = await login(u.user_id, u.password);
  // The audit service knows the token: a medical institution may not read logs (403, not 401).
  expectProblem(await call('listAccessLogs', { token: s.access }), 403, 'forbidden');
  const out = await call('logout', { token: s.access });
  assert.equal(out.status, 204);
  assert.equal(out.text, '');
  expectProblem(await call('getMe', { token: s.access }), 401, 'unauthorized');
  expectProblem(await call('refreshToken', { json: { refresh_token: s.refresh } }), 401, 'unauthorized');
  expectProblem(await call('logout', { token: s.access }), 401, 'unauthorized');
  await eventually(async () => expectProblem(await call('listAccessLogs', { token: s.access }), 401, 'unauthorized'), {
    timeoutMs: 5000,
  });
  // Only that session: the user's other session still works.
  assert.equal((await call('getMe', { token: u.access })).status, 200);
});

test('H-1-9: missing, malformed and forged tokens are refused with 401', async () => {
  const keys = await ok('getJwks', 200);
  const kid = keys.keys[0].kid;
  const s = await login(admin.user_id, admin.password);
  const claims = decodeJwt(s.access);
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const [h, , sig] = s.access.split('.');

  const { privateKey } = await generateKeyPair('ES256');
  const foreign = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
  const none = `${b64({ alg: 'none', kid })}.${b64(claims)}.`;
  const tampered = `${h}.${b64({ ...claims, role: 'admin', org_type: 'chuokai' })}.${sig}`;
  const hs = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', kid })
    .sign(new TextEncoder().encode(keys.keys[0].x));
  const cases = {
    missing: {},
    garbage: { headers: { Authorization: 'Bearer not.a.jwt' } },
    empty: { headers: { Authorization: 'Bearer ' } },
    basic: { headers: { Authorization: `Basic ${Buffer.from('chuokai-admin:x').toString('base64')}` } },
    foreignKey: { token: foreign },
    algNone: { token: none },
    tamperedPayload: { token: tampered },
    hs256: { token: hs },
  };
  for (const [name, opts] of Object.entries(cases)) {
    const r = await call('getMe', opts);
    assert.equal(r.status, 401, `${name}: ${r.status} ${r.text.slice(0, 200)}`);
    expectProblem(r, 401, 'unauthorized');
    const a = await call('listAccessLogs', opts);
    assert.equal(a.status, 401, `${name} at the audit service: ${a.status}`);
  }
  assert.equal((await request('GET', '/api/v1/me', { token: s.access })).status, 200, 'the real token still works');
});

// The stack's own signing keys (the test runs on the machine that holds them): what a leak of
// one service's key could mint.
async function stackKey(envName) {
  const pem = readFileSync(stackEnv()[envName], 'utf8');
  return createPrivateKey(pem);
}

async function signWith(key, claims) {
  const jwk = await exportJWK(createPublicKey(key));
  const kid = await calculateJwkThumbprint(jwk);
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(key);
}

test('each kind of token only from its issuer\'s key, and none that lives past an hour', async () => {
  const s = await login(admin.user_id, admin.password);
  const claims = decodeJwt(s.access);
  const accountKey = await stackKey('SESSHU_ACCOUNT_SIGNING_KEY_FILE');
  const tokenKey = await stackKey('SESSHU_TOKEN_SIGNING_KEY_FILE');
  const now = Math.floor(Date.now() / 1000);
  // The probe is sound: the account key re-signing the same claims is accepted.
  assert.equal((await request('GET', '/api/v1/me', { token: await signWith(accountKey, claims) })).status, 200);
  const refused = {
    'a session signed with the token service key': await signWith(tokenKey, claims),
    'a ten-year session': await signWith(accountKey, { ...claims, iat: now, exp: now + 10 * 365 * 86400 }),
    'a session of 3601 s': await signWith(accountKey, { ...claims, iat: now, exp: now + 3601 }),
    'a session with no iat': await signWith(accountKey, (({ iat: _i, ...c }) => c)(claims)),
    'an invented session id': await signWith(accountKey, { ...claims, sid: randomUUID() }),
    'another organisation in a real session': await signWith(accountKey, { ...claims, org: randomUUID() }),
    'a promoted role in a real session': await signWith(accountKey, { ...claims, role: claims.role === 'admin' ? 'user' : 'admin' }),
    'a client token signed with the account key': await signWith(accountKey, {
      iss: claims.iss, sub: claims.org, client_id: claims.org, org: claims.org, org_type: 'municipality', scope: 'records:read', jti: uniq('j'), gen: uniq('g'), iat: now, exp: now + 600,
    }),
  };
  for (const [name, token] of Object.entries(refused)) {
    const r = await request('GET', '/api/v1/me', { token });
    assert.equal(r.status, 401, `${name}: ${r.status} ${r.text.slice(0, 200)}`);
    const a = await request('GET', '/api/v1/access-logs', { token });
    assert.equal(a.status, 401, `${name} at the audit service: ${a.status}`);
  }
  // Just inside the bound: an hour exactly.
  assert.equal((await request('GET', '/api/v1/me', { token: await signWith(accountKey, { ...claims, iat: now, exp: now + 3600 }) })).status, 200);
});

// A login through the gateway from another loopback address (the gateway passes the client's
// address on; services believe it only from the gateway).
async function loginFrom(localAddress, userId, password) {
  const http = await import('node:http');
  const url = new URL('/api/v1/auth/login', BASE);
  const body = JSON.stringify({ user_id: userId, password });
  for (let attempt = 0; ; attempt++) {
    const status = await new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', localAddress, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(body);
    });
    if (status !== 429 || attempt >= 20) return status;
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('a stranger\'s wrong guesses lock the stranger out, not the owner; many sources together lock the account', { timeout: 120_000 }, async () => {
  const u = await userIn(admin, 'user');
  for (let i = 0; i < POLICY.maxFailures; i++) assert.equal(await loginFrom('127.0.0.3', u.user_id, `guess-${i}-wrong-pw`), 401);
  // That source is locked, even with the right password ...
  assert.equal(await loginFrom('127.0.0.3', u.user_id, u.password), 401);
  // ... the owner, elsewhere, is not.
  assert.equal(await loginFrom('127.0.0.4', u.user_id, u.password), 200);
  const seen = await ok('getUser', 200, { token: admin.access, params: { id: u.id } });
  assert.ok(seen.locked_until, 'an administrator sees that a source is locked');
  // Re-enabling lifts every source's lock.
  await ok('updateUser', 200, { token: admin.access, params: { id: u.id }, json: { status: 'active' } });
  assert.equal(await loginFrom('127.0.0.3', u.user_id, u.password), 200);
});

test('guesses spread over many sources still lock the account at the ceiling', { timeout: 180_000 }, async () => {
  const all = Number(stackEnv().SESSHU_LOGIN_MAX_FAILURES_ALL ?? 50);
  const per = POLICY.maxFailures;
  const u = await userIn(admin, 'user');
  let n = 0;
  for (let src = 10; n < all; src++) {
    for (let i = 0; i < per - 1 && n < all; i++, n++) assert.equal(await loginFrom(`127.0.1.${src}`, u.user_id, `spread-${n}-wrong`), 401);
  }
  // No single source reached its limit, yet the account is locked for everyone.
  assert.equal(await loginFrom('127.0.2.1', u.user_id, u.password), 401);
  assert.equal(await loginFrom('127.0.0.1', u.user_id, u.password), 401);
});
