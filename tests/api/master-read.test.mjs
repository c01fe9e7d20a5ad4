// master-read.test.mjs - H-8-9 reference: the masters index, lists as of a date with filters and
// cursor pages, one key and its history, ETag / If-None-Match (304, and a new ETag after a
// change), the shipped reference data (codes that pass their check digits, the 2026 schedules,
// a unit price that changes on 2026-04-01), API clients with masters:read, and bad inputs.
import { currentLot } from './lib/records.mjs';
import { today as todayJst } from './lib/dates.mjs';
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok, request } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { orgWithAdmin, userIn } from './lib/fixtures.mjs';
import { municipalityCheckDigit, luhnCheckDigit } from './lib/codes.mjs';

let mu; // municipality user (reader)

before(async () => {
  const { adminSession } = await orgWithAdmin('municipality');
  mu = await userIn(adminSession, 'user');
});

const list = (master, query = {}, token = mu.access) =>
  ok('listMasterRows', 200, { token, params: { master }, query });

async function all(master, query = {}) {
  const items = [];
  let cursor;
  for (let i = 0; i < 50; i++) {
    const page = await list(master, { ...query, limit: 200, cursor });
    items.push(...page.items);
    if (page.next_cursor === null) return items;
    cursor = page.next_cursor;
  }
  throw new Error('too many pages');
}

test('the index lists every master with keys, columns and editors', async () => {
  const body = await ok('listMasters', 200, { token: mu.access });
  const names = body.items.map((m) => m.name);
  for (const n of ['prefectures', 'kokuhoren', 'municipalities', 'institutions', 'diseases', 'vaccines', 'schedules',
    'lots', 'unit_prices', 'populations', 'collective_contracts', 'banks', 'bank_branches']) assert.ok(names.includes(n), n);
  const up = body.items.find((m) => m.name === 'unit_prices');
  assert.deepEqual(up.keys, ['municipality_code', 'vaccine_code', 'dose_number']);
  assert.deepEqual(up.own_editors, ['municipality']);
  assert.equal(up.editable, true); // a municipality edits its own unit prices
  assert.equal(body.items.find((m) => m.name === 'vaccines').editable, false);
});

test('47 prefectures and 47 国保連合会, every code 01-47', async () => {
  const prefs = await all('prefectures');
  assert.equal(prefs.length, 47);
  assert.deepEqual(prefs.map((p) => p.code), Array.from({ length: 47 }, (_, i) => String(i + 1).padStart(2, '0')));
  assert.equal(prefs[12].name, '東京都');
  const kr = await all('kokuhoren');
  assert.equal(kr.length, 47);
  assert.equal(kr.find((k) => k.prefecture_code === '27').name, '大阪府国民健康保険団体連合会');
});

test('municipalities: 23 wards and every prefectural capital, with valid check digits', async () => {
  const tokyo = await all('municipalities', { prefecture_code: '13' });
  assert.equal(tokyo.filter((m) => m.name.endsWith('区')).length, 23);
  const munis = await all('municipalities');
  for (const m of munis) {
    assert.equal(m.code.slice(5), municipalityCheckDigit(m.code.slice(0, 5)), `${m.code} ${m.name}`);
    assert.equal(m.prefecture_code, m.code.slice(0, 2));
  }
  const prefsWithCity = new Set(munis.map((m) => m.prefecture_code));
  assert.equal(prefsWithCity.size, 47);
  for (const [code, name] of [['131130', '渋谷区'], ['131041', '新宿区'], ['011002', '札幌市'], ['271004', '大阪市'], ['472018', '那覇市']]) {
    assert.equal((await ok('getMasterRow', 200, { token: mu.access, params: { master: 'municipalities', key: code } })).name, name);
  }
});

test('institutions carry valid Luhn check digits; banks have Zengin codes and kana', async () => {
  for (const i of await all('institutions')) assert.equal(i.code.slice(9), luhnCheckDigit(i.code.slice(0, 9)), i.code);
  const banks = await all('banks');
  assert.ok(banks.length >= 10);
  const mizuho = banks.find((b) => b.code === '0001');
  // The seed writes みずほ銀行; the full list (scripts/reference-data.sh, master-banks.test.mjs) みずほ.
  assert.match(mizuho.name, /^みずほ(銀行)?$/);
  assert.equal(mizuho.name_kana, 'ﾐｽﾞﾎ');
  const br = await ok('getMasterRow', 200, { token: mu.access, params: { master: 'bank_branches', key: '0005~001' } });
  assert.equal(br.name, '本店');
});

test('the 2026 diseases, vaccines for each, and schedules as data', async () => {
  const diseases = await all('diseases');
  const a = diseases.filter((d) => d.category === 'A').map((d) => d.code);
  const b = diseases.filter((d) => d.category === 'B').map((d) => d.code);
  for (const c of ['diphtheria', 'pertussis', 'tetanus', 'polio', 'hib', 'measles', 'rubella', 'jev', 'tb',
    'pneumo_child', 'hpv', 'varicella', 'hepb', 'rota', 'rsv']) assert.ok(a.includes(c), c);
  for (const c of ['flu', 'pneumo_elderly', 'covid19', 'zoster']) assert.ok(b.includes(c), c);
  // RSV (妊婦) only from 2026-04-01.
  assert.ok(!(await all('diseases', { as_of: '2026-03-31' })).some((d) => d.code === 'rsv'));
  const vaccines = await all('vaccines');
  const seeded = ['diphtheria', 'pertussis', 'tetanus', 'polio', 'hib', 'measles', 'rubella', 'jev', 'tb', 'pneumo_child',
    'hpv', 'varicella', 'hepb', 'rota', 'rsv', 'flu', 'pneumo_elderly', 'covid19', 'zoster'];
  for (const c of seeded) assert.ok(vaccines.some((v) => v.disease_codes.includes(c)), `a vaccine for ${c}`);
  const rota = await all('vaccines', { disease_codes: 'rota' });
  assert.ok(rota.length >= 2 && rota.every((v) => v.route === 'oral' && v.live === true));
  const bcg = vaccines.find((v) => v.disease_codes.includes('tb'));
  assert.equal(bcg.route, 'percutaneous');
  const rsv = await ok('getMasterRow', 200, { token: mu.access, params: { master: 'schedules', key: 'rsv-1' } });
  assert.equal(rsv.sex, '2');
  assert.equal(rsv.pregnancy_weeks_from, 28);
  assert.equal(rsv.pregnancy_weeks_to, 36);
  const hpv = await all('schedules', { disease_code: 'hpv' });
  assert.ok(hpv.length >= 3 && hpv.every((s) => s.sex === '2'));
  const zoster = await all('schedules', { disease_code: 'zoster' });
  assert.ok(zoster.some((s) => s.doses_total === 1) && zoster.some((s) => s.doses_total === 2));
  const rotaSched = await all('schedules', { disease_code: 'rota' });
  assert.ok(rotaSched.every((s) => /week|day/.test(s.age_to)), 'ロタ windows in weeks/days');
  const hepb3 = await ok('getMasterRow', 200, { token: mu.access, params: { master: 'schedules', key: 'hepb-3' } });
  assert.equal(hepb3.min_interval_from_first, '139 days');
});

test('lots: some expired, found by vaccine', async () => {
  await currentLot('631300601'); // one in use today, whatever today is (the shipped ones expire)
  const lots = await all('lots');
  const today = todayJst();
  assert.ok(lots.some((l) => l.expiry_on < today), 'an expired lot');
  assert.ok(lots.some((l) => l.expiry_on >= today), 'a usable lot');
  const mr = await all('lots', { vaccine_code: '631300601' });
  assert.ok(mr.length >= 2);
});

test('as-of reads across the 2026-04-01 price change', async () => {
  const key = '131130~631300101~1';
  const before = await ok('getMasterRow', 200, { token: mu.access, params: { master: 'unit_prices', key }, query: { as_of: '2026-03-31' } });
  const after = await ok('getMasterRow', 200, { token: mu.access, params: { master: 'unit_prices', key }, query: { as_of: '2026-04-01' } });
  assert.equal(before.price_yen, 13330);
  assert.equal(before.valid_to, '2026-03-31');
  assert.equal(after.price_yen, 13860);
  assert.equal(after.valid_from, '2026-04-01');
  assert.notEqual(before.version, after.version);
  const old = await list('unit_prices', { municipality_code: '131130', vaccine_code: '631302201', as_of: '2025-12-01' });
  assert.equal(old.items[0].self_pay_yen, 1500);
  const cur = await list('unit_prices', { municipality_code: '131130', vaccine_code: '631302201', as_of: '2026-12-01' });
  assert.equal(cur.items[0].self_pay_yen, 2500);
  // Before any version: 404.
  const none = await call('getMasterRow', { token: mu.access, params: { master: 'unit_prices', key }, query: { as_of: '2020-01-01' } });
  expectProblem(none, 404, 'not-found');
  const hist = await ok('getMasterRowHistory', 200, { token: mu.access, params: { master: 'unit_prices', key } });
  assert.equal(hist.items.length, 2);
});

test('cursor pages walk the whole list once, in key order', async () => {
  const seen = [];
  let cursor;
  for (let i = 0; i < 30; i++) {
    const page = await list('municipalities', { limit: 7, cursor });
    seen.push(...page.items.map((m) => m.code));
    if (page.next_cursor === null) break;
    cursor = page.next_cursor;
  }
  assert.equal(new Set(seen).size, seen.length);
  assert.deepEqual([...seen].sort(), seen);
  assert.ok(seen.length >= 70);
});

test('ETag and If-None-Match: 304 without a body, a new answer with another as_of', async () => {
  const first = await call('listMasterRows', { token: mu.access, params: { master: 'diseases' } });
  assert.equal(first.status, 200);
  const etag = first.headers.get('etag');
  assert.match(etag, /^W\/"\d+-\d{4}-\d\d-\d\d-[0-9a-f]{8}"$/);
  const again = await call('listMasterRows', { token: mu.access, params: { master: 'diseases' }, headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, '');
  assert.equal(again.headers.get('etag'), etag);
  // RFC 9110 8.6: no Content-Length on a 304 unless it is the 200's (issue 10).
  assert.equal(again.headers.get('content-length'), null);
  const other = await call('listMasterRows', { token: mu.access, params: { master: 'diseases' }, query: { as_of: '2025-01-01' }, headers: { 'If-None-Match': etag } });
  assert.equal(other.status, 200);
  const stale = await call('listMasterRows', { token: mu.access, params: { master: 'diseases' }, headers: { 'If-None-Match': 'W/"1-2000-01-01-00000000"' } });
  assert.equal(stale.status, 200);
  const one = await call('getMasterRow', { token: mu.access, params: { master: 'diseases', key: 'hib' } });
  const one304 = await call('getMasterRow', { token: mu.access, params: { master: 'diseases', key: 'hib' }, headers: { 'If-None-Match': one.headers.get('etag') } });
  assert.equal(one304.status, 304);
  assert.equal(one304.headers.get('content-length'), null);
});

test('an API client with masters:read reads; unauthenticated callers do not', async () => {
  const { adminSession: ma } = await orgWithAdmin('municipality');
  const made = await request('POST', '/api/v1/api-clients', { token: ma.access, json: { name: 'マスタ連携', scopes: ['masters:read'] } });
  assert.equal(made.status, 201, made.text);
  const basic = Buffer.from(`${made.body.id}:${made.body.client_secret}`).toString('base64');
  const tok = await request('POST', '/oauth2/token', {
    body: 'grant_type=client_credentials&scope=masters%3Aread', contentType: 'application/x-www-form-urlencoded', headers: { Authorization: `Basic ${basic}` },
  });
  assert.equal(tok.status, 200, tok.text);
  const page = await ok('listMasterRows', 200, { token: tok.body.access_token, params: { master: 'vaccines' } });
  assert.ok(page.items.length > 0);
  expectProblem(await call('registerMasterRow', { token: tok.body.access_token, params: { master: 'diseases' }, json: { code: 'x', name: 'x', category: 'A' } }), 403);
  expectProblem(await call('exportMaster', { token: tok.body.access_token, params: { master: 'diseases' } }), 403);
  const anon = await call('listMasterRows', { params: { master: 'diseases' } });
  expectProblem(anon, 401, 'unauthorized');
  const bad = await call('listMasterRows', { token: 'not-a-token', params: { master: 'diseases' } });
  expectProblem(bad, 401, 'unauthorized');
});

test('bad inputs: unknown master, bad as_of, unknown filter, bad cursor, huge limit, bad keys', async () => {
  expectProblem(await call('listMasterRows', { token: mu.access, params: { master: 'nope' } }), 404, 'not-found');
  expectFieldErrors(await call('listMasters', { token: mu.access, query: { as_of: '2026-01-01' } }), ['as_of']);
  const badUtf8 = await request('GET', '/api/v1/masters/municipalities?name=%FF%FE', { token: mu.access });
  assert.ok([400, 422].includes(badUtf8.status), badUtf8.text);
  expectProblem(badUtf8, badUtf8.status);
  const wrongCursor = await request('GET', `/api/v1/masters/unit_prices?cursor=${Buffer.from('["131130","x","y"]').toString('base64url')}`, { token: mu.access });
  assert.ok([400, 422].includes(wrongCursor.status), wrongCursor.text);
  expectFieldErrors(await call('listMasterRows', { token: mu.access, params: { master: 'diseases' }, query: { as_of: '2026-02-30' } }), ['as_of']);
  expectFieldErrors(await call('listMasterRows', { token: mu.access, params: { master: 'diseases' }, query: { colour: 'red' } }), ['colour']);
  expectFieldErrors(await call('listMasterRows', { token: mu.access, params: { master: 'diseases' }, query: { limit: 100000 } }), ['limit']);
  expectFieldErrors(await call('listMasterRows', { token: mu.access, params: { master: 'diseases' }, query: { cursor: 'garbage!' } }), ['cursor']);
  expectFieldErrors(await call('listMasterRows', { token: mu.access, params: { master: 'diseases' }, query: { as_of: '' } }), ['as_of']);
  // Injection strings are just values that match nothing.
  const inj = await list('municipalities', { name: "' OR 1=1 --" });
  assert.equal(inj.items.length, 0);
  for (const key of ['131131', '13113', "1' OR '1'='1", '131130~x', '%E3%81%82', 'a'.repeat(300)]) {
    const r = await request('GET', `/api/v1/masters/municipalities/items/${encodeURIComponent(key)}`, { token: mu.access });
    expectProblem(r, key.length > 250 ? [404, 414].includes(r.status) ? r.status : 404 : 404);
  }
  expectProblem(await call('getMasterRow', { token: mu.access, params: { master: 'unit_prices', key: '131130' } }), 404);
  expectFieldErrors(await call('getMasterRowHistory', { token: mu.access, params: { master: 'diseases', key: 'hib' }, query: { as_of: '2026-01-01' } }), ['as_of']);
  expectFieldErrors(await call('listMasterChanges', { token: mu.access, params: { master: 'diseases' }, query: { since: '-1' } }), ['since']);
  expectFieldErrors(await call('listMasterChanges', { token: mu.access, params: { master: 'diseases' }, query: { since: 'abc' } }), ['since']);
});

test('the change feed returns everything since N, in pages', async () => {
  const first = await ok('listMasterChanges', 200, { token: mu.access, params: { master: 'prefectures' }, query: { since: 0, limit: 20 } });
  assert.equal(first.items.length, 20);
  assert.ok(first.items.every((c) => c.op === 'version'));
  const rest = await ok('listMasterChanges', 200, { token: mu.access, params: { master: 'prefectures' }, query: { cursor: first.next_cursor, limit: 100 } });
  assert.equal(first.items.length + rest.items.length, 47);
  assert.equal(rest.next_cursor, null);
  const none = await ok('listMasterChanges', 200, { token: mu.access, params: { master: 'prefectures' }, query: { since: first.last_change } });
  assert.equal(none.items.length, 0);
});

test('every service role reads the master schema (sesshu_master_reader), and nothing more', async () => {
  const { psql } = await import('./lib/sql.mjs');
  for (const role of ['sesshu_records', 'sesshu_account', 'sesshu_notice']) {
    const { rows } = await psql(`SET ROLE ${role}; SELECT (SELECT count(*) FROM master.vaccines WHERE superseded_at IS NULL AND valid_from <= DATE '2026-11-01' AND (valid_to IS NULL OR valid_to >= DATE '2026-11-01')), (SELECT count(*) FROM master.schedules), (SELECT last_value FROM master.change_seq) > 0`);
    assert.ok(Number(rows[0][0]) >= 25, role);
    assert.ok(Number(rows[0][1]) >= 60, role);
    assert.equal(rows[0][2], 't');
    const w = await psql(`SET ROLE ${role}; UPDATE master.vaccines SET name = name WHERE false`, { allowError: true });
    assert.notEqual(w.code, 0, `${role} must not write master.vaccines`);
    const st = await psql(`SET ROLE ${role}; SELECT count(*) FROM master.stage_institutions`, { allowError: true });
    assert.notEqual(st.code, 0, `${role} must not read the staging tables`);
  }
});
