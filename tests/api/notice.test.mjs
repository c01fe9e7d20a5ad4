// notice.test.mjs - H-11 notices: who may post (403 for others), targeting by organisation
// type / prefecture / organisation / role (a 国保連合会 only in its own prefecture), unread
// first and mark-read, the unread count in GET /me, withdrawn / expired / scheduled notices
// hidden, edit history, read counts for authors, another organisation's notice 404, and bad
// input (malformed JSON, unknown members, wrong types, oversized bodies, invalid UTF-8, an
// inverted publication window, a huge limit; injection strings stored verbatim).
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok, request, sleep } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { chuokai, orgWithAdmin, userIn, suffix } from './lib/fixtures.mjs';
import { municipalityCode } from './lib/codes.mjs';

let ck; // 国保中央会 admin (author)
let mh; // 厚生労働省 user (author)
let ko; // 国保連合会 admin (author, its prefecture only)
let kPref; // the 国保連合会's prefecture
let maP; // municipality admin in kPref
let muP; // municipality user in kPref
let maQ; // municipality admin in another prefecture
let med; // medical institution admin in kPref

const otherPref = (p) => (p === '13' ? '27' : '13');

before(async () => {
  ck = await chuokai();
  const m = await orgWithAdmin('mhlw');
  mh = await userIn(m.adminSession, 'user');
  ({ adminSession: ko } = await orgWithAdmin('kokuhoren'));
  kPref = ko.org.prefecture_code;
  assert.match(kPref, /^\d\d$/);
  ({ adminSession: maP } = await orgWithAdmin('municipality', { code: municipalityCode(kPref) }));
  muP = await userIn(maP, 'user');
  ({ adminSession: maQ } = await orgWithAdmin('municipality', { code: municipalityCode(otherPref(kPref)) }));
  ({ adminSession: med } = await orgWithAdmin('medical_institution'));
});

function body(extra = {}) {
  return { title: `試験のお知らせ ${suffix(4)}`, body: '本文です。\n二行目。', ...extra };
}

async function post(author, extra = {}) {
  return ok('createNotice', 201, { token: author.access, json: body(extra) });
}

// The ids of every notice that targets `s` (bounded paging).
async function visible(s) {
  const ids = [];
  let cursor;
  for (let i = 0; i < 50; i++) {
    const page = await ok('listNotices', 200, { token: s.access, query: { limit: 200, cursor } });
    ids.push(...page.items.map((n) => n.id));
    if (page.next_cursor === null) return ids;
    cursor = page.next_cursor;
  }
  throw new Error('too many pages');
}

async function unread(s) {
  return (await ok('countUnreadNotices', 200, { token: s.access })).unread;
}

test('H-11: an author posts; the notice comes back with its audience, version 1, no reads', async () => {
  const n = await post(ck, { importance: 'urgent', audience: { org_types: ['municipality'], roles: ['admin'] } });
  assert.equal(n.version, 1);
  assert.equal(n.importance, 'urgent');
  assert.equal(n.status, 'published');
  assert.equal(n.read_count, 0);
  assert.equal(n.author_org_type, 'chuokai');
  assert.deepEqual(n.audience, { org_types: ['municipality'], prefectures: [], organizations: [], roles: ['admin'] });
  const d = await post(mh);
  assert.equal(d.importance, 'info');
  assert.equal(d.author_org_type, 'mhlw');
});

test('H-11: non-authors get 403 on every author operation', async () => {
  const n = await post(ck);
  for (const s of [maP, muP, med]) {
    expectProblem(await call('createNotice', { token: s.access, json: body() }), 403, 'forbidden');
    expectProblem(await call('listAuthoredNotices', { token: s.access }), 403, 'forbidden');
    expectProblem(await call('updateNotice', { token: s.access, params: { id: n.id }, json: { title: 'x' } }), 403, 'forbidden');
    expectProblem(await call('withdrawNotice', { token: s.access, params: { id: n.id } }), 403, 'forbidden');
    expectProblem(await call('noticeHistory', { token: s.access, params: { id: n.id } }), 403, 'forbidden');
  }
  expectProblem(await call('createNotice', { json: body() }), 401, 'unauthorized');
});

test('H-11: targeting by organisation type, prefecture, organisation and role', async () => {
  const all = await post(ck);
  const muni = await post(ck, { audience: { org_types: ['municipality'] } });
  const medOnly = await post(ck, { audience: { org_types: ['medical_institution'] } });
  const prefP = await post(ck, { audience: { prefectures: [kPref] } });
  const orgQ = await post(ck, { audience: { organizations: [maQ.orgId] } });
  const admins = await post(ck, { audience: { roles: ['admin'] } });
  const muniUsersP = await post(ck, { audience: { org_types: ['municipality'], prefectures: [kPref], roles: ['user'] } });

  const want = {
    maP: [all, muni, prefP, admins],
    muP: [all, muni, prefP, muniUsersP],
    maQ: [all, muni, orgQ, admins],
    med: [all, medOnly, admins],
  };
  const notWant = {
    maP: [medOnly, orgQ, muniUsersP],
    muP: [medOnly, orgQ, admins],
    maQ: [medOnly, prefP, muniUsersP],
    med: [muni, orgQ, muniUsersP],
  };
  const sessions = { maP, muP, maQ, med };
  for (const [name, s] of Object.entries(sessions)) {
    const ids = await visible(s);
    for (const n of want[name]) assert.ok(ids.includes(n.id), `${name} should see "${n.title}" ${JSON.stringify(n.audience)}`);
    for (const n of notWant[name]) assert.ok(!ids.includes(n.id), `${name} should not see "${n.title}" ${JSON.stringify(n.audience)}`);
  }
  // The medical institution's own prefecture is not kPref unless by chance: check by its org.
  const medPref = med.org.prefecture_code;
  const ids = await visible(med);
  assert.equal(ids.includes(prefP.id), medPref === kPref);
});

test('H-11: a 国保連合会 posts to its own prefecture only', async () => {
  const n = await post(ko);
  assert.deepEqual(n.audience.prefectures, [kPref]);
  expectFieldErrors(
    await call('createNotice', { token: ko.access, json: body({ audience: { prefectures: [otherPref(kPref)] } }) }),
    'audience.prefectures',
  );
  const same = await post(ko, { audience: { prefectures: [kPref], org_types: ['municipality'] } });
  assert.deepEqual(same.audience.prefectures, [kPref]);
  assert.ok((await visible(maP)).includes(n.id));
  assert.ok((await visible(muP)).includes(same.id));
  assert.ok(!(await visible(maQ)).includes(n.id));
  // An edit cannot widen it either.
  const e = await ok('updateNotice', 200, { token: ko.access, params: { id: n.id }, json: { audience: { roles: ['admin'] } } });
  assert.deepEqual(e.audience.prefectures, [kPref]);
  expectFieldErrors(
    await call('updateNotice', { token: ko.access, params: { id: n.id }, json: { audience: { prefectures: ['01', '02'] } } }),
    'audience.prefectures',
  );
});

test('H-11: unread first then newest; mark read; the unread count here and in GET /me', async () => {
  const me = await userIn(maQ, 'user');
  const before0 = await unread(me);
  const meBefore = await ok('getMe', 200, { token: me.access, query: { include: 'unread_notices' } });
  assert.equal(meBefore.unread_notices, before0);
  // Without include, "who am I" asks no other service (issue 14 §3).
  assert.equal('unread_notices' in (await ok('getMe', 200, { token: me.access })), false);
  expectFieldErrors(await call('getMe', { token: me.access, query: { include: 'everything' } }), ['include']);
  const a = await post(ck, { audience: { organizations: [maQ.orgId] } });
  await sleep(20);
  const b = await post(ck, { audience: { organizations: [maQ.orgId] } });
  await sleep(20);
  const c = await post(ck, { audience: { organizations: [maQ.orgId] } });
  assert.equal(await unread(me), before0 + 3);

  const readResp = await request('POST', `/api/v1/notices/${c.id}/read`, { token: me.access });
  assert.equal(readResp.status, 204, readResp.text);
  // Idempotent.
  assert.equal((await request('POST', `/api/v1/notices/${c.id}/read`, { token: me.access })).status, 204);
  assert.equal(await unread(me), before0 + 2);
  const meAfter = await ok('getMe', 200, { token: me.access, query: { include: 'unread_notices' } });
  assert.equal(meAfter.unread_notices, before0 + 2);

  const page = await ok('listNotices', 200, { token: me.access, query: { limit: 200 } });
  const pos = (n) => page.items.findIndex((i) => i.id === n.id);
  assert.ok(pos(b) >= 0 && pos(a) >= 0 && pos(c) >= 0, 'all three listed');
  assert.ok(pos(b) < pos(a), 'newer unread before older unread');
  assert.ok(pos(a) < pos(c), 'unread before read');
  const firstRead = page.items.findIndex((i) => i.read);
  if (firstRead >= 0) assert.ok(page.items.slice(firstRead).every((i) => i.read), 'no unread after a read one');
  const item = page.items[pos(c)];
  assert.equal(item.read, true);
  assert.ok(item.read_at);

  // Pages: limit 1 walks the same order.
  const walked = [];
  let cursor;
  for (let i = 0; i < 500; i++) {
    const p = await ok('listNotices', 200, { token: me.access, query: { limit: 1, cursor } });
    walked.push(...p.items.map((n) => n.id));
    if (p.next_cursor === null) break;
    cursor = p.next_cursor;
  }
  assert.deepEqual(walked, page.items.map((n) => n.id));

  // A notice that does not target the caller cannot be marked read.
  const elsewhere = await post(ck, { audience: { organizations: [maP.orgId] } });
  expectProblem(await call('markNoticeRead', { token: me.access, params: { id: elsewhere.id } }), 404, 'not-found');
  expectProblem(await call('markNoticeRead', { token: me.access, params: { id: '00000000-0000-4000-8000-000000000000' } }), 404, 'not-found');
});

test('H-11: authors see read counts of their notices', async () => {
  const n = await post(ck, { audience: { organizations: [maP.orgId] } });
  await ok('markNoticeRead', 204, { token: maP.access, params: { id: n.id } });
  await ok('markNoticeRead', 204, { token: muP.access, params: { id: n.id } });
  await ok('markNoticeRead', 204, { token: muP.access, params: { id: n.id } });
  let found;
  let cursor;
  for (let i = 0; i < 50 && !found; i++) {
    const p = await ok('listAuthoredNotices', 200, { token: ck.access, query: { limit: 200, cursor } });
    found = p.items.find((x) => x.id === n.id);
    if (p.next_cursor === null) break;
    cursor = p.next_cursor;
  }
  assert.ok(found, 'the notice is in the authored list');
  assert.equal(found.read_count, 2);
  // Another organisation's authors do not list it.
  const mine = await ok('listAuthoredNotices', 200, { token: mh.access, query: { limit: 200 } });
  assert.ok(!mine.items.some((x) => x.id === n.id));
});

test('H-11: withdrawn, expired and scheduled notices are hidden from readers', async () => {
  const w = await post(ck, { audience: { organizations: [maP.orgId] } });
  const soon = new Date(Date.now() + 1500).toISOString();
  const x = await post(ck, { audience: { organizations: [maP.orgId] }, publish_until: soon });
  const later = new Date(Date.now() + 3600_000).toISOString();
  const s = await post(ck, { audience: { organizations: [maP.orgId] }, publish_from: later });
  assert.equal(s.status, 'scheduled');
  let ids = await visible(maP);
  assert.ok(ids.includes(w.id) && ids.includes(x.id));
  assert.ok(!ids.includes(s.id));

  const wd = await ok('withdrawNotice', 200, { token: ck.access, params: { id: w.id } });
  assert.equal(wd.status, 'withdrawn');
  assert.ok(wd.withdrawn_at);
  await ok('withdrawNotice', 200, { token: ck.access, params: { id: w.id } }); // idempotent
  expectProblem(await call('updateNotice', { token: ck.access, params: { id: w.id }, json: { title: 'again' } }), 409, 'conflict');
  await sleep(1700);
  ids = await visible(maP);
  assert.ok(!ids.includes(w.id), 'withdrawn notice still listed');
  assert.ok(!ids.includes(x.id), 'expired notice still listed');
  expectProblem(await call('markNoticeRead', { token: maP.access, params: { id: w.id } }), 404, 'not-found');
  expectProblem(await call('markNoticeRead', { token: maP.access, params: { id: x.id } }), 404, 'not-found');
});

test('H-11: edits keep history; another organisation\'s notice is 404', async () => {
  const n = await post(ck, { title: '初版', audience: { org_types: ['municipality'] } });
  const e1 = await ok('updateNotice', 200, { token: ck.access, params: { id: n.id }, json: { title: '第二版', importance: 'important' } });
  assert.equal(e1.version, 2);
  assert.equal(e1.title, '第二版');
  assert.equal(e1.body, n.body);
  const e2 = await ok('updateNotice', 200, { token: ck.access, params: { id: n.id }, json: { publish_until: null, audience: { roles: ['user'] } } });
  assert.equal(e2.version, 3);
  assert.deepEqual(e2.audience, { org_types: [], prefectures: [], organizations: [], roles: ['user'] });
  const h = await ok('noticeHistory', 200, { token: ck.access, params: { id: n.id } });
  assert.deepEqual(h.items.map((v) => v.version), [3, 2, 1]);
  assert.deepEqual(h.items.map((v) => v.title), ['第二版', '第二版', '初版']);
  assert.equal(h.items[2].importance, 'info');
  assert.equal(h.items[1].importance, 'important');
  assert.deepEqual(h.items[2].audience.org_types, ['municipality']);

  // Another author organisation: 404 for edit, withdraw and history.
  expectProblem(await call('updateNotice', { token: mh.access, params: { id: n.id }, json: { title: 'x' } }), 404, 'not-found');
  expectProblem(await call('withdrawNotice', { token: mh.access, params: { id: n.id } }), 404, 'not-found');
  expectProblem(await call('noticeHistory', { token: ko.access, params: { id: n.id } }), 404, 'not-found');
  expectProblem(await call('noticeHistory', { token: ck.access, params: { id: 'not-a-uuid' } }), 404, 'not-found');
  // Any author of the same organisation may edit.
  const ck2 = await userIn(ck, 'user');
  const e3 = await ok('updateNotice', 200, { token: ck2.access, params: { id: n.id }, json: { body: '別の職員が編集' } });
  assert.equal(e3.version, 4);
  assert.equal(e3.updated_by, ck2.id);
});

test('H-11: bad input', async (t) => {
  const n = await post(ck);
  const send = (json) => call('createNotice', { token: ck.access, json });
  await t.test('malformed JSON is 400', async () => {
    const r = await call('createNotice', { token: ck.access, body: '{"title": "a",', contentType: 'application/json' });
    expectProblem(r, 400, 'invalid-json');
  });
  await t.test('invalid UTF-8 is 400', async () => {
    const raw = Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","body":"b"}')]);
    expectProblem(await call('createNotice', { token: ck.access, body: raw, contentType: 'application/json' }), 400, 'invalid-json');
  });
  await t.test('an oversized body is 413', async () => {
    const big = JSON.stringify(body({ body: 'a'.repeat(1024 * 1024 + 16) }));
    const r = await request('POST', '/api/v1/notices', { token: ck.access, body: big, contentType: 'application/json' });
    assert.equal(r.status, 413, r.text.slice(0, 200));
  });
  await t.test('unknown members, wrong types, missing members are 422', async () => {
    expectFieldErrors(await send({ ...body(), colour: 'red' }), 'colour');
    expectFieldErrors(await send({ ...body(), title: 5 }), 'title');
    expectFieldErrors(await send({ body: 'b' }), 'title');
    expectFieldErrors(await send({ ...body(), importance: 'critical' }), 'importance');
    expectFieldErrors(await send({ ...body(), publish_from: 'yesterday' }), 'publish_from');
    expectFieldErrors(await send({ ...body(), audience: { org_types: ['citizens'] } }), 'audience.org_types[0]');
    expectFieldErrors(await send({ ...body(), audience: { prefectures: ['48'] } }), 'audience.prefectures[0]');
    expectFieldErrors(await send({ ...body(), audience: { organizations: ['x'] } }), 'audience.organizations[0]');
    expectFieldErrors(await send({ ...body(), audience: { roles: ['admin', 'admin'] } }), 'audience.roles[1]');
    expectProblem(await send({ ...body(), audience: { everyone: true } }), 422, 'validation-failed');
    expectProblem(await send({ ...body(), audience: ['municipality'] }), 422, 'validation-failed');
    expectProblem(await call('updateNotice', { token: ck.access, params: { id: n.id }, json: { colour: 1 } }), 422, 'validation-failed');
  });
  await t.test('publish_until before publish_from is 422', async () => {
    expectFieldErrors(
      await send({ ...body(), publish_from: '2030-01-02T00:00:00Z', publish_until: '2030-01-01T00:00:00Z' }),
      'publish_until',
    );
    expectFieldErrors(await send({ ...body(), publish_until: '2001-01-01T00:00:00Z' }), 'publish_until');
    expectFieldErrors(
      await call('updateNotice', { token: ck.access, params: { id: n.id }, json: { publish_until: '2001-01-01T00:00:00+09:00' } }),
      'publish_until',
    );
  });
  await t.test('a huge limit, a bad cursor or an unknown parameter is 422', async () => {
    expectFieldErrors(await call('listNotices', { token: ck.access, query: { limit: 100000 } }), 'limit');
    expectFieldErrors(await call('listAuthoredNotices', { token: ck.access, query: { limit: 201 } }), 'limit');
    expectFieldErrors(await call('listNotices', { token: ck.access, query: { cursor: 'garbage' } }), 'cursor');
    expectFieldErrors(await call('listNotices', { token: ck.access, query: { sort: 'old' } }), 'sort');
  });
  await t.test('injection strings are stored verbatim', async () => {
    const evil = `'; DROP TABLE notice.notices; -- <script>alert(1)</script> \u0000x ${'\u{1F600}'} "q"`.replace('\u0000', '');
    const made = await ok('createNotice', 201, { token: ck.access, json: { title: evil.slice(0, 200), body: evil, audience: { organizations: [maP.orgId] } } });
    assert.equal(made.body, evil);
    const page = await ok('listNotices', 200, { token: maP.access, query: { limit: 200 } });
    assert.equal(page.items.find((i) => i.id === made.id)?.body, evil);
  });
});
