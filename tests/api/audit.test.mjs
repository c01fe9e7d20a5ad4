// audit.test.mjs - H-12: every request leaves an access-log row (found by the X-Request-Id we
// send), filters, cursor pages, CSV export, municipality staff limited to their municipality,
// other organisation types refused, the append-only table and the hash-chain check (a row
// tampered with as the superuser is reported as the first broken link, then repaired).
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok, request, requestId, sleep } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { chuokai, orgWithAdmin, userIn, uniq } from './lib/fixtures.mjs';
import { parseCsv } from './lib/csv.mjs';
import { psql, lit } from './lib/sql.mjs';

let ck; // 国保中央会 admin (sees everything)
let ma; // admin of municipality A
let mu; // user of municipality A
let mb; // admin of municipality B

before(async () => {
  ck = await chuokai();
  ({ adminSession: ma } = await orgWithAdmin('municipality'));
  mu = await userIn(ma, 'user');
  ({ adminSession: mb } = await orgWithAdmin('municipality'));
});

// Every row matching `query` visible to `token` (bounded), newest first.
async function rows(token, query, maxPages = 20) {
  const out = [];
  let cursor;
  for (let i = 0; i < maxPages; i++) {
    const page = await ok('listAccessLogs', 200, { token, query: { limit: 200, ...query, cursor } });
    out.push(...page.items);
    if (page.next_cursor === null) return out;
    cursor = page.next_cursor;
  }
  return out;
}

async function rowOf(token, query, rid) {
  const found = (await rows(token, query)).find((i) => i.request_id === rid);
  assert.ok(found, `no access-log row with request id ${rid} for ${JSON.stringify(query)}`);
  return found;
}

test('H-12: each request leaves a row with who, what, which resource and the outcome', async () => {
  const t0 = Date.now();
  const rid1 = requestId();
  await ok('getMe', 200, { token: ma.access, requestId: rid1 });
  const r1 = await rowOf(ck.access, { actor: ma.user_id }, rid1);
  assert.equal(r1.service, 'account');
  assert.equal(r1.method, 'GET');
  assert.equal(r1.path, '/api/v1/me');
  assert.equal(r1.status, 200);
  assert.equal(r1.actor_kind, 'user');
  assert.equal(r1.actor_id, ma.id);
  assert.equal(r1.actor_login, ma.user_id);
  assert.equal(r1.organization_id, ma.orgId);
  assert.equal(r1.organization_type, 'municipality');
  assert.equal(r1.municipality_code, ma.org.code);
  assert.equal(r1.role, 'admin');
  assert.ok(Math.abs(Date.parse(r1.ts) - t0) < 60_000, `ts ${r1.ts}`);

  const rid2 = requestId();
  expectProblem(await call('getOrganization', { token: ma.access, params: { id: mb.orgId }, requestId: rid2 }), 404, 'not-found');
  const r2 = await rowOf(ck.access, { actor: ma.id }, rid2);
  assert.equal(r2.status, 404);
  assert.equal(r2.path, `/api/v1/organizations/${mb.orgId}`);

  const rid3 = requestId();
  await call('login', { json: { user_id: uniq('ghost'), password: 'nope-nope-nope-1' }, requestId: rid3 });
  const r3 = await rowOf(ck.access, { status: 401, outcome: 'failure', from: new Date(t0 - 1000).toISOString() }, rid3);
  assert.equal(r3.actor_kind, 'anonymous');
  assert.equal(r3.actor_id, null);

  // A path no route matches is logged too.
  const rid4 = requestId();
  await request('GET', '/api/v1/users/no/such/route', { token: ma.access, requestId: rid4 });
  const r4 = await rowOf(ck.access, { status: 404, from: new Date(t0 - 1000).toISOString() }, rid4);
  assert.equal(r4.path, '/api/v1/users/no/such/route');
});

test('H-12: filters by actor, organisation, resource, status, outcome and time', async () => {
  const ridMe = requestId();
  await ok('getMe', 200, { token: ma.access, requestId: ridMe });
  const ridUser = requestId();
  await ok('getUser', 200, { token: ma.access, params: { id: mu.id }, requestId: ridUser });
  const ridDenied = requestId();
  expectProblem(await call('listUsers', { token: mu.access, requestId: ridDenied }), 403, 'forbidden');
  await sleep(50);
  const mid = new Date().toISOString();
  await sleep(50);
  const ridLater = requestId();
  await ok('getMe', 200, { token: ma.access, requestId: ridLater });

  const byUuid = await rows(ck.access, { actor: ma.id });
  assert.ok(byUuid.some((i) => i.request_id === ridMe));
  for (const i of byUuid) assert.equal(i.actor_id, ma.id);

  const byOrg = await rows(ck.access, { organization_id: ma.orgId });
  assert.ok(byOrg.some((i) => i.request_id === ridMe));
  assert.ok(byOrg.some((i) => i.request_id === ridDenied));
  for (const i of byOrg) assert.ok(i.organization_id === ma.orgId || i.subject_organization_id === ma.orgId, JSON.stringify(i));

  const byRes = await rows(ck.access, { resource_id: mu.id });
  const hit = byRes.find((i) => i.request_id === ridUser);
  assert.ok(hit, 'the read of the user is filed under its id');
  for (const i of byRes) assert.equal(i.resource_id, mu.id);
  const byType = await rows(ck.access, { resource_type: hit.resource_type, actor: ma.user_id });
  assert.ok(byType.some((i) => i.request_id === ridUser));
  for (const i of byType) assert.equal(i.resource_type, hit.resource_type);

  const denied = await rows(ck.access, { status: 403, actor: mu.user_id });
  assert.ok(denied.some((i) => i.request_id === ridDenied));
  for (const i of denied) assert.equal(i.status, 403);
  const failures = await rows(ck.access, { outcome: 'failure', actor: mu.user_id });
  assert.ok(failures.some((i) => i.request_id === ridDenied));
  for (const i of failures) assert.ok(i.status >= 400);
  const successes = await rows(ck.access, { outcome: 'success', actor: ma.user_id });
  assert.ok(successes.some((i) => i.request_id === ridMe));
  assert.ok(!successes.some((i) => i.request_id === ridDenied));
  for (const i of successes) assert.ok(i.status < 400);

  const after = await rows(ck.access, { actor: ma.user_id, from: mid });
  assert.ok(after.some((i) => i.request_id === ridLater));
  assert.ok(!after.some((i) => i.request_id === ridMe));
  const beforeMid = await rows(ck.access, { actor: ma.user_id, to: mid });
  assert.ok(beforeMid.some((i) => i.request_id === ridMe));
  assert.ok(!beforeMid.some((i) => i.request_id === ridLater));
  for (const i of after) assert.ok(Date.parse(i.ts) >= Date.parse(mid));

  const nobody = await ok('listAccessLogs', 200, { token: ck.access, query: { person_id: uniq('person') } });
  assert.deepEqual(nobody.items, []);
  assert.equal(nobody.next_cursor, null);
});

test('H-12: cursor pages are newest first, complete and without overlap', async () => {
  const u = await userIn(ma, 'user');
  const rids = [];
  for (let i = 0; i < 5; i++) {
    const rid = requestId();
    rids.push(rid);
    await ok('getMe', 200, { token: u.access, requestId: rid });
  }
  const seen = [];
  let cursor;
  let pages = 0;
  for (;;) {
    // resource_type: GET /me?include=unread_notices would also ask the notice service, which logs a
    // row of its own under the same request id (resource type notice).
    const page = await ok('listAccessLogs', 200, {
      token: ck.access,
      query: { actor: u.user_id, resource_type: 'user', limit: 2, cursor },
    });
    assert.ok(page.items.length <= 2);
    seen.push(...page.items);
    pages++;
    if (page.next_cursor === null) break;
    assert.equal(page.items.length, 2, 'a short page before the last');
    cursor = page.next_cursor;
    assert.ok(pages < 50);
  }
  assert.ok(pages >= 3);
  const ids = seen.map((i) => i.request_id);
  assert.equal(new Set(ids).size, ids.length, 'a row on two pages');
  for (const rid of rids) assert.equal(ids.filter((x) => x === rid).length, 1, `${rid} missing`);
  const pos = seen.map((i) => i.chain_pos ?? i.seq);
  for (let k = 1; k < pos.length; k++) assert.ok(pos[k] < pos[k - 1], 'not newest first');
  assert.ok(ids.indexOf(rids[4]) < ids.indexOf(rids[0]), 'the later request comes first');
});

test('H-12: CSV export (Accept: text/csv or format=csv) holds the same rows', async () => {
  const u = await userIn(ma, 'user');
  const rids = [requestId(), requestId(), requestId()];
  for (const rid of rids) await ok('getMe', 200, { token: u.access, requestId: rid });
  const json = await rows(ck.access, { actor: u.user_id });
  for (const variant of [{ accept: 'text/csv' }, { query: { format: 'csv' } }]) {
    const r = await call('listAccessLogs', {
      token: ck.access,
      ...variant,
      query: { actor: u.user_id, ...(variant.query ?? {}) },
    });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
    const { header, rows: records } = parseCsv(r.text);
    for (const col of ['request_id', 'ts', 'actor_login', 'method', 'path', 'status']) {
      assert.ok(header.includes(col), `CSV header lacks ${col}: ${header.join(',')}`);
    }
    assert.equal(records.length, json.length, 'CSV and JSON differ in row count');
    const csvIds = records.map((x) => x.request_id);
    for (const rid of rids) assert.ok(csvIds.includes(rid), `${rid} not in the CSV`);
    const one = records.find((x) => x.request_id === rids[0]);
    assert.equal(one.actor_login, u.user_id);
    assert.equal(one.path, '/api/v1/me');
    assert.equal(one.status, '200');
    assert.equal(one.method, 'GET');
  }
  const bad = await call('listAccessLogs', { token: ck.access, query: { format: 'xml' } });
  expectFieldErrors(bad, 'format');
});

test('H-12: municipality staff see only their own municipality\'s rows', async () => {
  const ridA = requestId();
  await ok('getMe', 200, { token: ma.access, requestId: ridA });
  const ridU = requestId();
  await ok('getMe', 200, { token: mu.access, requestId: ridU });
  const ridB = requestId();
  await ok('getMe', 200, { token: mb.access, requestId: ridB });

  // A's admin and A's user see A's rows, not B's.
  for (const s of [ma, mu]) {
    const own = await rows(s.access, {}, 5);
    assert.ok(own.some((i) => i.request_id === ridA), `${s.role} of A does not see A's admin`);
    assert.ok(own.some((i) => i.request_id === ridU), `${s.role} of A does not see A's user`);
    assert.ok(!own.some((i) => i.request_id === ridB), `${s.role} of A sees B's row`);
    for (const i of own) {
      assert.ok(
        i.municipality_code === ma.org.code || i.subject_municipality_code === ma.org.code || i.subject_organization_id === ma.orgId,
        `a row of another tenant: ${JSON.stringify(i)}`,
      );
    }
  }
  // Asking for B's actor or organisation explicitly yields nothing.
  assert.deepEqual((await ok('listAccessLogs', 200, { token: ma.access, query: { actor: mb.user_id } })).items, []);
  assert.deepEqual((await ok('listAccessLogs', 200, { token: ma.access, query: { organization_id: mb.orgId } })).items, []);
  assert.deepEqual((await ok('listAccessLogs', 200, { token: mb.access, query: { actor: ma.id } })).items, []);
  const csv = await call('listAccessLogs', { token: mb.access, accept: 'text/csv', query: { actor: ma.user_id } });
  assert.equal(csv.status, 200);
  assert.equal(parseCsv(csv.text).rows.length, 0, 'B exports A\'s rows as CSV');
});

test('H-12: rows whose subject belongs to a municipality are visible to its staff', async () => {
  // The 国保中央会 admin reads A's admin (the rescue path): the subject is A's.
  const rid = requestId();
  await ok('getUser', 200, { token: ck.access, params: { id: ma.id }, requestId: rid });
  const seenByA = await rows(ma.access, { actor: ck.user_id }, 5);
  assert.ok(seenByA.some((i) => i.request_id === rid), 'A does not see the 国保中央会 reading its admin');
  const seenByB = await rows(mb.access, { actor: ck.user_id }, 5);
  assert.ok(!seenByB.some((i) => i.request_id === rid), 'B sees a row about A');
});

test('H-12: other organisation types may not read the log (403); bad filters are 422', async () => {
  const { adminSession: med } = await orgWithAdmin('medical_institution');
  expectProblem(await call('listAccessLogs', { token: med.access }), 403, 'forbidden');
  expectProblem(await call('verifyAccessLogs', { token: med.access }), 403, 'forbidden');
  expectProblem(await call('verifyAccessLogs', { token: ma.access }), 403, 'forbidden');
  expectProblem(await call('listAccessLogs', {}), 401, 'unauthorized');
  const bad = {
    from: ['yesterday', '2026-13-01T00:00:00Z', '2026-06-01'],
    to: ['now'],
    status: ['abc', '99', '600', '-1'],
    outcome: ['maybe'],
    limit: ['0', '-1', '201', '100000', 'abc', '1.5'],
    cursor: ['garbage', "'; DROP TABLE audit.access_log; --"],
    format: ['pdf'],
    actor: [''],
    acter: ['typo'],
  };
  for (const [name, values] of Object.entries(bad)) {
    for (const v of values) {
      const r = await call('listAccessLogs', { token: ck.access, query: { [name]: v } });
      expectFieldErrors(r, name);
    }
  }
  const order = await call('listAccessLogs', { token: ck.access, query: { from: '2026-06-02T00:00:00Z', to: '2026-06-01T00:00:00Z' } });
  assert.equal(order.status, 422);
});

test('H-12: injection strings in filters are plain values', async () => {
  // Unique per run: a search by person_id is itself logged under that person_id.
  const tag = uniq('q');
  for (const base of ["' OR '1'='1", "x'; DROP TABLE audit.access_log; --", '%', '_', '\\', '"', 'ﾃｽﾄ', '🙂']) {
    const v = `${base}${tag}`;
    for (const name of ['actor', 'resource_type', 'resource_id', 'person_id', 'organization_id']) {
      const r = await call('listAccessLogs', { token: ck.access, query: { [name]: v } });
      assert.equal(r.status, 200, `${name}=${v}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.deepEqual(r.body.items, [], `${name}=${v} matched rows`);
    }
  }
  const still = await ok('listAccessLogs', 200, { token: ck.access, query: { limit: 1 } });
  assert.equal(still.items.length, 1);
});

test('H-12: the table is append-only, even for its owner', async () => {
  const rid = requestId();
  await ok('getMe', 200, { token: mu.access, requestId: rid });
  const where = `WHERE request_id = ${lit(rid)}`;
  const upd = await psql(`UPDATE audit.access_log SET status = 299 ${where}`, { allowError: true });
  assert.notEqual(upd.code, 0, 'the superuser updated a row with the trigger on');
  const del = await psql(`DELETE FROM audit.access_log ${where}`, { allowError: true });
  assert.notEqual(del.code, 0, 'a row was deleted');
  const owner = await psql(`SET ROLE sesshu_audit; UPDATE audit.access_log SET status = 299 ${where}`, { allowError: true });
  assert.notEqual(owner.code, 0, 'the service role may update the log');
  const r = await rowOf(ck.access, { actor: mu.user_id }, rid);
  assert.equal(r.status, 200);
});

test('H-12: verify finds a row tampered with as the first broken link, and ok again once repaired', { timeout: 120_000 }, async () => {
  const rid = requestId();
  await ok('getMe', 200, { token: mu.access, requestId: rid });
  // account's row (the notice service logs the unread-count call of /me under the same id).
  const row = await rowOf(ck.access, { actor: mu.user_id, resource_type: 'user' }, rid);
  const before = await ok('verifyAccessLogs', 200, { token: ck.access });
  assert.equal(
    before.ok,
    true,
    `the chain is already broken before this test: ${JSON.stringify(before.first_broken)} (a leftover of an interrupted run?)`,
  );
  assert.equal(before.first_broken, null);
  assert.ok(before.checked >= 1);

  // As the superuser, with the guard trigger off for one transaction (which also holds the
  // table lock, so no other row is written meanwhile).
  const tamper = (delta) =>
    psql(
      'BEGIN; ALTER TABLE audit.access_log DISABLE TRIGGER USER; ' +
        `UPDATE audit.access_log SET status = status + (${delta}) WHERE request_id = ${lit(rid)} AND service = 'account'; ` +
        'ALTER TABLE audit.access_log ENABLE TRIGGER USER; COMMIT;',
    );
  await tamper(1);
  try {
    const broken = await ok('verifyAccessLogs', 200, { token: ck.access });
    assert.equal(broken.ok, false);
    assert.ok(broken.first_broken, 'no first_broken');
    assert.equal(broken.first_broken.seq, row.seq, `first_broken ${JSON.stringify(broken.first_broken)} is not the tampered row ${row.seq}`);
  } finally {
    await tamper(-1);
  }
  const repaired = await ok('verifyAccessLogs', 200, { token: ck.access });
  assert.equal(repaired.ok, true, `still broken after the repair: ${JSON.stringify(repaired.first_broken)}`);
  assert.ok(repaired.checked >= before.checked);
});
