// gateway.test.mjs - what the gateway adds: X-Request-Id echoed (and generated when absent, and
// then the one the service logs), 404 problem+json for unknown paths, 429 problem+json when the
// password-reset endpoint is flooded.
import test from 'node:test';
import assert from 'node:assert/strict';
import { call, ok, request, requestId, sleep, eventually } from './lib/http.mjs';
import { expectProblemContract } from './lib/contract.mjs';
import { expectProblem } from './lib/problem.mjs';
import { chuokai, uniq } from './lib/fixtures.mjs';
import { ADMIN_LOGIN } from './lib/env.mjs';

test('X-Request-Id is echoed on success and on error', async () => {
  const ck = await chuokai();
  const rid = requestId();
  const good = await call('getMe', { token: ck.access, requestId: rid });
  assert.equal(good.status, 200);
  assert.equal(good.headers.get('x-request-id'), rid);
  const rid2 = requestId();
  const bad = await call('getMe', { requestId: rid2 });
  expectProblem(bad, 401, 'unauthorized');
  assert.equal(bad.headers.get('x-request-id'), rid2);
  assert.equal(bad.body.request_id ?? rid2, rid2, 'the problem names the same request id');
  const rid3 = requestId();
  const unknown = await request('GET', '/api/v1/definitely-not-here', { requestId: rid3 });
  assert.equal(unknown.headers.get('x-request-id'), rid3);
});

test('X-Request-Id is generated when absent (or malformed), and it is the one in the access log', async () => {
  const ck = await chuokai();
  const a = await call('getMe', { token: ck.access, requestId: null });
  const b = await call('getMe', { token: ck.access, requestId: null });
  const ida = a.headers.get('x-request-id');
  const idb = b.headers.get('x-request-id');
  assert.ok(ida && idb, 'generated ids are sent back');
  assert.notEqual(ida, idb);
  // A value that could forge log lines is replaced, not passed on.
  const forged = await call('getMe', { token: ck.access, requestId: 'x\ty' });
  assert.notEqual(forged.headers.get('x-request-id'), 'x\ty');
  assert.ok(forged.headers.get('x-request-id'));
  // The generated id reached the service: it is in the access log.
  await eventually(async () => {
    const page = await ok('listAccessLogs', 200, {
      token: ck.access,
      query: { actor: ADMIN_LOGIN, resource_type: 'user', limit: 200 },
    });
    const ids = page.items.map((i) => i.request_id);
    assert.ok(ids.includes(ida), `generated request id ${ida} not in the access log`);
  });
});

test('unknown paths answer 404 problem+json (gateway and service alike)', async () => {
  for (const p of ['/nope', '/api/v1/nothing-here', '/api/v2/users', '/api/v1/users/a/b/c', '/api/v1/access-logs/nothing']) {
    const r = await request('GET', p);
    assert.equal(r.status, 404, `${p}: ${r.status}`);
    expectProblemContract(r, `GET ${p}`);
  }
  const ck = await chuokai();
  const m = await request('DELETE', '/api/v1/me', { token: ck.access });
  assert.ok([404, 405].includes(m.status), `DELETE /api/v1/me: ${m.status}`);
  expectProblemContract(m, 'DELETE /api/v1/me');
});

test('flooding the password-reset endpoint is throttled with 429 problem+json', { timeout: 120_000 }, async () => {
  const n = 300;
  const results = await Promise.all(
    Array.from({ length: n }, () =>
      request('POST', '/api/v1/auth/password-reset', {
        json: { user_id: uniq('nobody') },
        retry429: false,
      }),
    ),
  );
  const statuses = new Map();
  for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  const limited = results.filter((r) => r.status === 429);
  assert.ok(limited.length > 0, `no 429 among ${n} parallel requests: ${JSON.stringify([...statuses])}`);
  for (const r of results) {
    assert.ok([202, 429].includes(r.status), `unexpected ${r.status}: ${r.text.slice(0, 200)}`);
  }
  for (const r of limited.slice(0, 20)) {
    expectProblem(r, 429, 'rate-limited');
    expectProblemContract(r, '429');
    assert.ok(r.headers.get('x-request-id'), '429 carries the request id');
  }
  // Leave the limiter as we found it for the files that follow.
  const end = Date.now() + 60_000;
  for (;;) {
    const r = await request('POST', '/api/v1/auth/password-reset', { json: { user_id: uniq('nobody') }, retry429: false });
    if (r.status === 202) break;
    assert.ok(Date.now() < end, 'the limiter did not recover within 60 s');
    await sleep(500);
  }
});
