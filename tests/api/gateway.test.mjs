// gateway.test.mjs - what the gateway adds: X-Request-Id echoed (and generated when absent, and
// then the one the service logs), 404 problem+json for unknown paths, 429 problem+json when the
// password-reset endpoint is flooded.
import test from 'node:test';
import assert from 'node:assert/strict';
import { call, ok, request, requestId, sleep, eventually } from './lib/http.mjs';
import { expectProblemContract } from './lib/contract.mjs';
import { expectProblem } from './lib/problem.mjs';
import { chuokai, uniq } from './lib/fixtures.mjs';
import { ADMIN_LOGIN, ACCOUNT_URL, BASE } from './lib/env.mjs';
import { psql, lit } from './lib/sql.mjs';

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
  // Only what the contract allows (1-64 of [A-Za-z0-9._-]) is kept, at the gateway and at a service.
  for (const [id, kept] of [['a'.repeat(64), true], ['a'.repeat(65), false], ['a:b', false], ['a.b_c-d', true]]) {
    for (const base of [undefined, ACCOUNT_URL]) {
      const r = await request('GET', '/api/v1/me', { token: ck.access, requestId: id, base });
      assert.equal(r.headers.get('x-request-id') === id, kept, `${id} via ${base ?? 'the gateway'}`);
      assert.match(r.headers.get('x-request-id'), /^[A-Za-z0-9._-]{1,64}$/);
    }
  }
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
  assert.equal(m.status, 405, `DELETE /api/v1/me: ${m.status}`);
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

// N parallel POSTs of an empty body to PATH (each is refused cheaply by the service, before any
// hashing): how many the gateway answered 429, and the other statuses seen.
async function burst(pathname, contentType, n = 60) {
  const rs = await Promise.all(
    Array.from({ length: n }, () => request('POST', pathname, { body: contentType === 'application/json' ? '{}' : '', contentType, retry429: false })),
  );
  const limited = rs.filter((r) => r.status === 429);
  for (const r of limited.slice(0, 3)) expectProblem(r, 429, 'rate-limited');
  return { limited: limited.length, others: [...new Set(rs.filter((r) => r.status !== 429).map((r) => r.status))] };
}

test('every spelling of a throttled path meets the same tight limit (trailing slashes, case)', { timeout: 180_000 }, async () => {
  const zones = [
    {
      contentType: 'application/json',
      paths: ['/api/v1/auth/login', '/api/v1/auth/password', '/api/v1/auth/password-reset', '/api/v1/auth/password-reset/confirm',
        '/api/v1/auth/refresh', '/api/v1/auth/user-id-reminder', '/api/v1/me/email-confirmation'],
    },
    { contentType: 'application/x-www-form-urlencoded', paths: ['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke'] },
  ];
  // The API-wide limit of the test stack is far above 60 at once: a 429 here is the tight one.
  for (const { contentType, paths } of zones) {
    for (const p of paths) {
      const last = p.lastIndexOf('/');
      for (const spelling of [p, `${p}/`, `${p}//`, p.slice(0, last) + p.slice(last).toUpperCase()]) {
        const b = await burst(spelling, contentType);
        assert.ok(b.limited > 0, `${spelling}: 60 at once and no 429 (saw ${b.others.join(', ')})`);
      }
    }
    // Leave the limiter as we found it for the files that follow.
    const end = Date.now() + 60_000;
    while ((await request('POST', paths[0], { body: contentType === 'application/json' ? '{}' : '', contentType, retry429: false })).status === 429) {
      assert.ok(Date.now() < end, 'the limiter did not recover within 60 s');
      await sleep(500);
    }
  }
});

test('services believe X-Real-IP only from the gateway: a direct call logs its own address', async () => {
  const ck = await chuokai();
  const direct = await request('GET', '/api/v1/me', { base: ACCOUNT_URL, token: ck.access, headers: { 'X-Real-IP': '203.0.113.7' } });
  assert.equal(direct.status, 200);
  const via = await request('GET', '/api/v1/me', { token: ck.access, headers: { 'X-Real-IP': '203.0.113.8' } });
  assert.equal(via.status, 200);
  await eventually(async () => {
    const { rows } = await psql(`SELECT request_id, client_ip FROM audit.access_log WHERE service = 'account' AND request_id IN (${lit(direct.requestId)}, ${lit(via.requestId)})`);
    assert.equal(rows.length, 2);
    const ip = Object.fromEntries(rows);
    assert.equal(ip[direct.requestId], '127.0.0.1', 'a direct caller forged its address');
    assert.equal(ip[via.requestId], '127.0.0.1', 'the gateway passed on what the client claimed');
    return true;
  });
});

test('every answer says X-Content-Type-Options: nosniff, the gateway\'s own included', async () => {
  const ck = await chuokai();
  for (const r of [await request('GET', '/api/v1/me', { token: ck.access }), await request('GET', '/nowhere'), await request('GET', '/healthz')]) {
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', `${r.status} ${r.text.slice(0, 80)}`);
  }
});

test('HEAD answers like GET without a body; a known path with another method is 405 with Allow', async () => {
  const ck = await chuokai();
  const get = await request('GET', '/api/v1/me', { token: ck.access });
  const head = await request('HEAD', '/api/v1/me', { token: ck.access });
  assert.equal(head.status, 200);
  assert.equal(head.raw.length, 0);
  assert.equal(head.headers.get('content-type'), get.headers.get('content-type'));
  assert.equal((await request('HEAD', '/api/v1/masters/diseases', { token: ck.access })).status, 200);
  for (const [method, p, allow] of [
    ['DELETE', '/api/v1/me', ['GET', 'HEAD', 'PATCH']],
    ['PUT', '/api/v1/auth/login', ['POST']],
    ['GET', '/oauth2/token', ['POST']],
    ['DELETE', '/api/v1/masters/diseases', ['GET', 'HEAD', 'POST']],
  ]) {
    const r = await request(method, p, { token: ck.access, body: method === 'GET' ? undefined : '' });
    expectProblem(r, 405, 'method-not-allowed');
    const got = (r.headers.get('allow') ?? '').split(/,\s*/).sort();
    for (const m of allow) assert.ok(got.includes(m), `${method} ${p}: Allow ${r.headers.get('allow')} lacks ${m}`);
  }
  // An unknown path stays 404.
  expectProblem(await request('DELETE', '/api/v1/masters/diseases/items/hib/nothing', { token: ck.access }), 404, 'not-found');
});

test('CORS: an allowed origin gets its preflight and headers from the gateway; another gets none', async () => {
  const ck = await chuokai();
  const origin = 'https://portal.sesshu.test';
  const pre = await request('OPTIONS', '/api/v1/me', { headers: { Origin: origin, 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': 'authorization,content-type' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), origin);
  assert.match(pre.headers.get('access-control-allow-methods'), /PATCH/);
  assert.match(pre.headers.get('access-control-allow-headers'), /Authorization/);
  const get = await request('GET', '/api/v1/me', { token: ck.access, headers: { Origin: origin } });
  assert.equal(get.status, 200);
  assert.equal(get.headers.get('access-control-allow-origin'), origin);
  assert.match(get.headers.get('access-control-expose-headers'), /X-Request-Id/);
  assert.match(get.headers.get('vary') ?? '', /Origin/);
  // The gateway's own refusals carry them too, so a page can read the problem.
  const lim = await request('GET', '/nowhere', { headers: { Origin: origin } });
  assert.equal(lim.headers.get('access-control-allow-origin'), origin);
  // Another origin: no CORS header at all, and its preflight reaches no service.
  for (const evil of ['https://evil.example', 'https://portal.sesshu.test.evil.example', 'null']) {
    const r = await request('GET', '/api/v1/me', { token: ck.access, headers: { Origin: evil } });
    assert.equal(r.headers.get('access-control-allow-origin'), null, evil);
    const p = await request('OPTIONS', '/api/v1/me', { headers: { Origin: evil, 'Access-Control-Request-Method': 'GET' } });
    assert.equal(p.headers.get('access-control-allow-origin'), null, evil);
  }
});

test('the gateway\'s own refusals are problem+json: long URIs, %00, paths above the root, TRACE, bad framing, huge headers', async () => {
  const net = await import('node:net');
  const { hostname, port } = new URL(BASE);
  // Raw requests, as a careless or hostile client sends them (fetch would refuse or fix them).
  async function raw(text) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: hostname, port: Number(port) }, () => sock.end(text));
      let buf = '';
      sock.setEncoding('latin1');
      sock.on('data', (d) => (buf += d));
      sock.on('end', () => resolve(buf));
      sock.on('error', reject);
      sock.setTimeout(10_000, () => sock.destroy(new Error('timeout')));
    });
  }
  const cases = [
    ['a 20 KiB URI', `GET /api/v1/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, [414, 400]],
    ['%00 in the path', 'GET /api/v1/me%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', [400, 404]],
    ['a path above the root', 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', [400]],
    ['a bad request line', 'GARBAGE\r\n\r\n', [400]],
    ['TRACE', 'TRACE /api/v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', [405]],
    ['an odd transfer encoding', 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n', [501, 400]],
    ['an oversized header', `GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(40_000)}\r\nConnection: close\r\n\r\n`, [400, 431, 494]],
  ];
  for (const [name, text, statuses] of cases) {
    const out = await raw(text);
    const [head, body = ''] = out.split('\r\n\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
    assert.ok(statuses.includes(status), `${name}: ${head.split('\r\n')[0]}`);
    assert.match(head, /content-type: application\/problem\+json/i, `${name}: ${head}`);
    const problem = JSON.parse(body.trim());
    assert.equal(problem.status, status, name);
    assert.ok(problem.type && problem.title, name);
  }
});

test('large answers are gzip-compressed for clients that accept it', async () => {
  const ck = await chuokai();
  const res = await fetch(`${BASE}/api/v1/masters/municipalities?limit=200`, { headers: { Authorization: `Bearer ${ck.access}`, 'Accept-Encoding': 'gzip' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-encoding'), 'gzip');
  assert.ok((await res.json()).items.length > 10);
});
