// stats.test.mjs - the published statistics (H-6-2) through the gateway, without a login:
// records registered, corrected and voided through the records API change the published
// figures on the next refresh; the municipality figures equal a direct count through the
// records API; small cells are suppressed and none can be recovered from the prefecture
// totals nor from the coverage by prefecture and by target age band (the test tries); the incremental tables equal a full rebuild; caching (ETag, 304,
// Cache-Control, Last-Modified), CORS for any origin, CSV in UTF-8 and Shift_JIS, bad inputs;
// answers against proto-schemas/stats.yaml (NDJSON line by line).
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request, call, ok } from './lib/http.mjs';
import { validator } from './lib/contract.mjs';
import { expectProblem } from './lib/problem.mjs';
import { municipality, person } from './lib/records.mjs';
import { orgWithAdmin } from './lib/fixtures.mjs';
import { parseCsv } from './lib/csv.mjs';
import { psql } from './lib/sql.mjs';
import { today, addDays, addYears } from './lib/dates.mjs';

const FLU = '631302201';
const MUNI = 'vaccinations-by-municipality';
const PREF = 'vaccinations-by-prefecture';
const REG = 'registrations-by-prefecture';
const COV = 'coverage-by-prefecture';
const BAND = 'coverage-by-age-band';

// A voluntary influenza dose for each of n new persons of muni (sex, age in years on the day).
async function doses(muni, n, { sex, age, on }) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const p = await person(muni, { sex, birth_date: addDays(addYears(on, -age), -3) });
    out.push(
      await ok('createImmunization', 201, {
        token: muni.session.access,
        json: {
          person_id: p.id,
          vaccinated_on: on,
          vaccine_code: FLU,
          dose_number: 1,
          category: 'voluntary',
          lot_no: LOT,
          institution_code: '1311012346',
          doctor_name: '医師 花子',
        },
      }),
    );
  }
  return out;
}

async function dataset(name, query = {}) {
  const r = await call('getStatsDataset', { params: { name }, query });
  assert.equal(r.status, 200, `${name}: ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}

const NDJSON = () => validator('getStatsDataset', '200', 'application/x-ndjson');

async function rows(name) {
  const r = await dataset(name);
  assert.match(r.headers.get('content-type'), /^application\/x-ndjson/);
  const v = NDJSON();
  const out = r.text === '' ? [] : r.text.trimEnd().split('\n').map((l) => JSON.parse(l));
  for (const row of out) assert.ok(v(row), `${name} line ${JSON.stringify(row)}: ${JSON.stringify(v.errors)}`);
  return out;
}

// The records API's own count of muni's records on a date (the direct count).
async function directCount(muni, on) {
  let n = 0;
  let cursor;
  do {
    const page = await ok('searchImmunizations', 200, {
      token: muni.session.access,
      query: { vaccine_code: FLU, from: on, to: on, limit: 200, cursor },
    });
    n += page.items.filter((it) => it.status !== 'voided').length;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return n;
}

let A, B, dA, dB, aDoses, k, LOT;

before(async () => {
  const idx = await ok('listStatsDatasets', 200);
  k = idx.k;
  assert.equal(k, 10, 'the default k');
  // An influenza lot of its own, valid around the dates used here.
  LOT = `ST${randomBytes(3).toString('hex').toUpperCase()}`;
  const mhlw = (await orgWithAdmin('mhlw')).adminSession;
  await ok('registerMasterRow', 201, {
    token: mhlw.access,
    params: { master: 'lots' },
    json: { vaccine_code: FLU, lot_no: LOT, expiry_on: addYears(today(), 1), certified_on: addYears(today(), -1), valid_from: addYears(today(), -1) },
  });
  A = await municipality();
  B = await municipality();
  // A's population figures, through the population master (厚生労働省 edits every row).
  await ok('registerMasterRow', 201, {
    token: mhlw.access,
    params: { master: 'populations' },
    json: { municipality_code: A.code, sex: '1', age_band: '30-39', population: 1000, valid_from: addYears(today(), -1) },
  });
  // Dates of their own, so that other tests' records share no group with these.
  dA = addDays(today(), -40);
  dB = addDays(today(), -41);
  // A: k persons of one cell (published). B: k+2 in one cell and 1 in another (suppressed).
  aDoses = await doses(A, k, { sex: '1', age: 35, on: dA });
  await doses(B, k + 2, { sex: '1', age: 35, on: dB });
  await doses(B, 1, { sex: '2', age: 35, on: dB });
});

const mine = (all, muni, on) => all.filter((x) => x.municipality_code === muni.code && x.vaccinated_on === on);

test('the municipality figures equal a direct count through the records API', async () => {
  const all = await rows(MUNI);
  const a = mine(all, A, dA);
  assert.ok(a.length > 0, `no row of ${A.code} on ${dA}`);
  const direct = await directCount(A, dA);
  assert.equal(direct, k);
  // Influenza prevents one disease; each record counts once for it.
  const byDisease = {};
  for (const x of a) byDisease[x.disease_code] = (byDisease[x.disease_code] ?? 0) + x.count;
  for (const [d, n] of Object.entries(byDisease)) assert.equal(n, direct, `disease ${d}`);
  for (const x of a) {
    assert.equal(x.suppressed, false);
    assert.equal(x.sex, '1');
    assert.equal(x.age_band, '30-39');
    assert.equal(x.prefecture_code, A.code.slice(0, 2));
  }
  // The prefecture's daily count holds them, the cumulative grows by them.
  const pref = (await rows(PREF)).filter((x) => x.prefecture_code === A.code.slice(0, 2) && x.vaccinated_on === dA && x.vaccine_code === FLU);
  assert.ok(pref.length > 0);
  for (const x of pref) assert.ok(x.count >= direct && x.cumulative >= x.count);
  // Registered today (Japan time): the registration-date table counts them today.
  const reg = (await rows(REG)).filter((x) => x.prefecture_code === A.code.slice(0, 2) && x.registered_on === today() && x.vaccine_code === FLU);
  assert.ok(reg.length > 0 && reg.every((x) => x.count >= direct), JSON.stringify(reg));
});

test('small cells are suppressed and none can be recovered from the totals', async () => {
  const all = await rows(MUNI);
  const b = mine(all, B, dB);
  const small = b.filter((x) => x.sex === '2');
  assert.ok(small.length > 0, `the small cell of ${B.code} is not listed: ${JSON.stringify(b)}`);
  for (const x of small) {
    assert.equal(x.count, null);
    assert.equal(x.suppressed, true);
  }
  for (const x of all) if (x.count !== null) assert.ok(x.count >= k, `a published count below k: ${JSON.stringify(x)}`);
  // The attack: every group's total from the prefecture table (daily count, and the
  // difference of consecutive cumulative figures) less the published cells.
  const pref = await rows(PREF);
  const key = (x) => [x.vaccinated_on, x.prefecture_code, x.disease_code, x.vaccine_code, x.dose_number].join('|');
  const total = new Map();
  const series = new Map();
  for (const x of pref) {
    total.set(key(x), x.count);
    const s = [x.prefecture_code, x.disease_code, x.vaccine_code, x.dose_number].join('|');
    if (!series.has(s)) series.set(s, []);
    series.get(s).push(x);
  }
  for (const list of series.values()) {
    list.sort((p, q) => p.vaccinated_on.localeCompare(q.vaccinated_on));
    list.forEach((x, i) => assert.equal(x.cumulative - (i ? list[i - 1].cumulative : 0), x.count));
  }
  const groups = new Map();
  for (const x of all) {
    if (!groups.has(key(x))) groups.set(key(x), []);
    groups.get(key(x)).push(x);
  }
  let tried = 0;
  for (const [g, cells] of groups) {
    const hidden = cells.filter((x) => x.count === null);
    if (hidden.length === 0) continue;
    tried++;
    const rest = total.get(g) - cells.reduce((s, x) => s + (x.count ?? 0), 0);
    // One unknown is recovered at once; n unknowns summing to n are all 1.
    assert.ok(hidden.length >= 2, `group ${g}: its one suppressed cell is ${rest}`);
    assert.ok(rest > hidden.length, `group ${g}: every suppressed cell is 1`);
  }
  assert.ok(tried > 0, 'no group with a suppressed cell was tried');
});

test('coverage against the population master', async () => {
  const cov = (await rows(COV)).filter((x) => x.prefecture_code === A.code.slice(0, 2) && x.vaccinated_on === dA && x.vaccine_code === FLU);
  assert.ok(cov.length > 0, 'no coverage row for A');
  for (const x of cov) {
    assert.ok(x.population >= 1000, JSON.stringify(x));
    assert.ok(x.cumulative >= k);
    assert.ok(Math.abs(x.coverage - x.cumulative / x.population) < 1e-6, JSON.stringify(x));
  }
  // B has no population figures: B's municipality is in neither term.
  const ofB = (await rows(COV)).filter((x) => x.vaccinated_on === dB && x.vaccine_code === FLU && x.prefecture_code === B.code.slice(0, 2));
  for (const x of ofB) assert.ok(x.count < k + 3, `B counted: ${JSON.stringify(x)}`);
});

// The municipalities with population figures in force (the coverage datasets count only them;
// the population master is public knowledge to an attacker).
async function withFigures() {
  const r = await psql(
    'SELECT DISTINCT municipality_code FROM master.populations WHERE superseded_at IS NULL AND valid_from <= current_date AND (valid_to IS NULL OR valid_to >= current_date)',
  );
  return new Set(r.rows.map((x) => x[0]));
}

// Every total of `totals` (rows keyed by keyOf) less the published municipality cells of the
// municipalities with figures that it sums: one unknown, or unknowns that must all be 1, fail.
function attack(totals, cells, keyOf, figures) {
  const byKey = new Map();
  for (const x of cells) {
    if (!figures.has(x.municipality_code)) continue;
    const g = keyOf(x);
    if (!byKey.has(g)) byKey.set(g, []);
    byKey.get(g).push(x);
  }
  let tried = 0;
  for (const t of totals) {
    const g = keyOf(t);
    const mine = byKey.get(g) ?? [];
    const hidden = mine.filter((x) => x.count === null);
    const rest = t.count - mine.reduce((n, x) => n + (x.count ?? 0), 0);
    assert.ok(rest >= 0, `${g}: the published cells exceed the total`);
    if (hidden.length === 0) continue;
    tried++;
    assert.ok(hidden.length >= 2, `${g}: its one suppressed cell is ${rest}`);
    assert.ok(rest > hidden.length, `${g}: every suppressed cell is 1`);
  }
  return tried;
}

test('coverage by target age band; suppression holds against it and the prefecture coverage', async () => {
  // C: influenza at 72 (target ages 65+: band 70-79 whole), k+2 men and one woman on dC; C
  // has figures for the band.
  const mhlw = (await orgWithAdmin('mhlw')).adminSession;
  const C = await municipality();
  for (const sex of ['1', '2'])
    await ok('registerMasterRow', 201, {
      token: mhlw.access,
      params: { master: 'populations' },
      json: { municipality_code: C.code, sex, age_band: '70-79', population: 500, valid_from: addYears(today(), -1) },
    });
  const dC = addDays(today(), -43);
  await doses(C, k + 2, { sex: '1', age: 72, on: dC });
  await doses(C, 1, { sex: '2', age: 72, on: dC });
  const band = await rows(BAND);
  const pc = C.code.slice(0, 2);
  const mineC = band.filter((x) => x.prefecture_code === pc && x.vaccinated_on === dC && x.vaccine_code === FLU);
  assert.ok(mineC.length > 0, `no age-band row of ${pc} on ${dC}`);
  for (const x of mineC) {
    assert.equal(x.age_band, '70-79');
    assert.ok(x.count >= k + 3 && x.population >= 1000, JSON.stringify(x));
    assert.ok(Math.abs(x.coverage - x.cumulative / x.population) < 1e-6, JSON.stringify(x));
  }
  // A's doses at 35 are outside influenza's target ages: no band row for them.
  const pa = A.code.slice(0, 2);
  assert.ok(!band.some((x) => x.prefecture_code === pa && x.vaccinated_on === dA && x.vaccine_code === FLU && x.age_band === '30-39'));
  // The attack with the margins of both coverage datasets.
  const all = await rows(MUNI);
  const c = mine(all, C, dC);
  assert.equal(c.filter((x) => x.count === null).length, 2, `C's cells: ${JSON.stringify(c)}`);
  const figures = await withFigures();
  const base = (x) => [x.vaccinated_on, x.prefecture_code, x.disease_code, x.vaccine_code, x.dose_number];
  const tried = attack(band, all, (x) => [...base(x), x.age_band].join('|'), figures);
  assert.ok(tried > 0, 'no age-band total with a suppressed cell was tried');
  assert.ok(attack(await rows(COV), all, (x) => base(x).join('|'), figures) > 0);
});

test('a change of the population master alone redraws the coverage on the next refresh', async () => {
  // D: k doses, no population figures yet, so not in the coverage by prefecture.
  const mhlw = (await orgWithAdmin('mhlw')).adminSession;
  const D = await municipality();
  assert.ok(!(await withFigures()).has(D.code), `${D.code} has figures already`);
  const dD = addDays(today(), -45);
  await doses(D, k, { sex: '2', age: 40, on: dD });
  const pd = D.code.slice(0, 2);
  const cov = async () => (await rows(COV)).filter((x) => x.prefecture_code === pd && x.vaccinated_on === dD && x.vaccine_code === FLU);
  const before0 = await cov();
  const n0 = before0.reduce((n, x) => n + x.count, 0);
  // Figures for D, and no record written: the next read shows D's doses against them.
  await ok('registerMasterRow', 201, {
    token: mhlw.access,
    params: { master: 'populations' },
    json: { municipality_code: D.code, sex: '2', age_band: '40-49', population: 700, valid_from: addYears(today(), -1) },
  });
  const after = await cov();
  assert.ok(after.length > 0, `no coverage row of ${pd} on ${dD} after D's figures`);
  assert.equal(after.reduce((n, x) => n + x.count, 0), n0 + k * after.length, JSON.stringify({ before0, after }));
  for (const x of after) {
    const was = before0.find((y) => y.disease_code === x.disease_code && y.dose_number === x.dose_number);
    assert.ok(x.population >= (was?.population ?? 0) + 700, JSON.stringify({ was, x }));
    assert.ok(Math.abs(x.coverage - x.cumulative / x.population) < 1e-6, JSON.stringify(x));
  }
});

test('corrections and voids change the figures on the next refresh', async () => {
  const before0 = mine(await rows(MUNI), A, dA);
  assert.ok(before0.every((x) => x.count === k));
  // A correction moves one dose to another day: A's cell on dA drops below k.
  const moved = aDoses[0];
  const cur = await ok('getImmunization', 200, { token: A.session.access, params: { id: moved.id } });
  await ok('correctImmunization', 200, {
    token: A.session.access,
    params: { id: moved.id },
    json: { version: cur.version, reason: '接種日の誤り', vaccinated_on: addDays(dA, -1) },
  });
  const after1 = mine(await rows(MUNI), A, dA);
  assert.ok(after1.every((x) => x.count === null), `after the correction: ${JSON.stringify(after1)}`);
  assert.equal(await directCount(A, dA), k - 1);
  // A void takes one out of the prefecture's daily count for good.
  const pref = async () =>
    (await rows(PREF)).filter((x) => x.prefecture_code === A.code.slice(0, 2) && x.vaccinated_on === dA && x.vaccine_code === FLU);
  const p1 = await pref();
  const v = aDoses[1];
  const cur2 = await ok('getImmunization', 200, { token: A.session.access, params: { id: v.id } });
  await ok('voidImmunization', 200, { token: A.session.access, params: { id: v.id }, json: { reason: '重複登録', version: cur2.version } });
  const p2 = await pref();
  assert.equal(p2.length, p1.length);
  for (let i = 0; i < p1.length; i++) assert.equal(p2[i].count, p1[i].count - 1);
});

test('the incremental tables equal a full rebuild', async () => {
  await ok('listStatsDatasets', 200); // a refresh
  const diff = (await psql('SELECT count(*) FROM stats.rebuild_diff')).rows;
  assert.equal(diff[0][0], '0');
  const facts = (await psql('SELECT count(*) FROM stats.facts')).rows;
  assert.ok(Number(facts[0][0]) >= 2 * k + 3);
  // Pseudonymised at the door: no person's id anywhere in the stats schema.
  const cols = (await psql("SELECT column_name FROM information_schema.columns WHERE table_schema = 'stats' AND table_name = 'facts'")).rows;
  const names = cols.map((c) => c[0]);
  assert.ok(!names.includes('person_id') && names.includes('person_key') && names.includes('birth_month'));
});

test('the index lists every dataset with its as-of time and downloads', async () => {
  const r = await call('listStatsDatasets');
  assert.equal(r.status, 200);
  const names = r.body.items.map((x) => x.name);
  for (const n of [MUNI, PREF, REG, COV, BAND]) assert.ok(names.includes(n), n);
  for (const it of r.body.items) {
    assert.ok(Date.parse(it.as_of) >= Date.parse(it.generated_at) - 1000);
    for (const d of it.downloads) {
      const got = await request('GET', d.url);
      assert.equal(got.status, 200, d.url);
    }
  }
});

test('CDN caching: ETag, 304, Last-Modified, Cache-Control; CORS for any origin', async () => {
  const r = await dataset(PREF);
  const etag = r.headers.get('etag');
  assert.match(etag, /^(W\/)?"[0-9a-f]{32}"$/);
  assert.match(r.headers.get('cache-control'), /^public, max-age=\d+$/);
  assert.ok(!Number.isNaN(Date.parse(r.headers.get('last-modified'))));
  const again = await call('getStatsDataset', { params: { name: PREF }, headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  // (the gateway's gzip makes a strong ETag weak: the same tag either way)
  const bare = (t) => t.replace(/^W\//, '');
  assert.equal(bare(again.headers.get('etag')), bare(etag));
  const cors = await request('GET', `/api/v1/stats/datasets/${PREF}`, { headers: { Origin: 'https://example.org' } });
  assert.equal(cors.headers.get('access-control-allow-origin'), '*');
  const pre = await request('OPTIONS', `/api/v1/stats/datasets/${PREF}`, {
    headers: { Origin: 'https://any.example', 'Access-Control-Request-Method': 'GET' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  // Not on other paths: a page of another origin still cannot read them.
  const other = await request('GET', '/api/v1/notices', { headers: { Origin: 'https://example.org' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  // gzip for who asks.
  const gz = await request('GET', `/api/v1/stats/datasets/${MUNI}`, { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(gz.status, 200);
});

test('CSV in UTF-8 and Shift_JIS carries the same rows as NDJSON', async () => {
  const nd = await rows(MUNI);
  const csv = await dataset(MUNI, { format: 'csv' });
  assert.match(csv.headers.get('content-type'), /^text\/csv; charset=utf-8/);
  const table = parseCsv(csv.text);
  assert.deepEqual(table.header, ['vaccinated_on', 'prefecture_code', 'municipality_code', 'disease_code', 'vaccine_code', 'dose_number', 'sex', 'age_band', 'count', 'suppressed']);
  assert.equal(table.rows.length, nd.length);
  table.rows.forEach((row, i) => {
    assert.equal(row.municipality_code, nd[i].municipality_code);
    assert.equal(row.count, nd[i].count === null ? '' : String(nd[i].count));
    assert.equal(row.suppressed, String(nd[i].suppressed));
  });
  const sj = await dataset(MUNI, { format: 'csv', charset: 'shift_jis' });
  assert.match(sj.headers.get('content-type'), /^text\/csv; charset=Shift_JIS/i);
  assert.equal(new TextDecoder('shift_jis').decode(sj.raw), csv.text);
  assert.notEqual(sj.headers.get('etag'), csv.headers.get('etag'));
  assert.match(sj.headers.get('content-disposition'), /attachment; filename="vaccinations-by-municipality-sjis\.csv"/);
});

test('bad inputs get problem+json', async () => {
  const cases = [
    [`/api/v1/stats/datasets/nope`, 404, 'not-found'],
    [`/api/v1/stats/datasets/${MUNI}?format=xml`, 422, 'validation-failed'],
    [`/api/v1/stats/datasets/${MUNI}?charset=latin1&format=csv`, 422, 'validation-failed'],
    [`/api/v1/stats/datasets/${MUNI}?charset=shift_jis`, 422, 'validation-failed'],
    [`/api/v1/stats/datasets/${MUNI}?x=1`, 422, 'validation-failed'],
    [`/api/v1/stats/datasets?limit=1`, 422, 'validation-failed'],
    [`/api/v1/stats/datasets/${encodeURIComponent("' OR 1=1 --")}`, 404, 'not-found'],
    [`/api/v1/stats/datasets/%C3%28`, [400, 404], null],
  ];
  for (const [p, status, slug] of cases) {
    const r = await request('GET', p);
    const want = Array.isArray(status) ? (status.includes(r.status) ? r.status : status[0]) : status;
    expectProblem(r, want, slug ?? undefined);
  }
  const post = await request('POST', '/api/v1/stats/datasets', { json: {} });
  assert.ok([404, 405].includes(post.status), `POST: ${post.status}`);
  assert.match(post.headers.get('content-type'), /problem\+json/);
});

test('the records feed answers only a service token signed by the stats key', async () => {
  const { stackEnv } = await import('./lib/env.mjs');
  const { readFileSync } = await import('node:fs');
  const { createPrivateKey, createPublicKey, randomUUID } = await import('node:crypto');
  const { SignJWT, exportJWK, calculateJwkThumbprint } = await import('jose');
  const env = stackEnv();
  const url = `http://127.0.0.1:${env.SESSHU_RECORDS_PORT}/internal/v1/stats-feed`;
  const sign = async (file, claims) => {
    const key = createPrivateKey(readFileSync(env[file], 'utf8'));
    const kid = await calculateJwkThumbprint(await exportJWK(createPublicKey(key)));
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(key);
  };
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: env.SESSHU_JWT_ISSUER, sub: 'service:stats', svc: 'stats', aud: 'records', iat: now, exp: now + 60, jti: randomUUID() };
  const get = (token, q = '') => fetch(`${url}${q}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  // The probe is sound: the stats key's own token reads the feed (pseudonymised at the source).
  const good = await get(await sign('SESSHU_STATS_SIGNING_KEY_FILE', claims), '?limit=5');
  assert.equal(good.status, 200);
  const page = await good.json();
  assert.ok(Array.isArray(page.items) && page.items.length > 0 && /^\d+-\d+$/.test(page.next_after));
  for (const it of page.items) {
    assert.match(it.birth_month, /^\d{4}-\d{2}$/);
    for (const f of ['name', 'name_kana', 'birth_date', 'address', 'my_number', 'resident_no']) assert.ok(!(f in it), f);
  }
  const refused = {
    'no token': null,
    'a user session': A.session.access,
    'the certificate key speaking for stats': await sign('SESSHU_CERTIFICATE_SIGNING_KEY_FILE', claims),
    'the stats key for the certificate feed audience': await sign('SESSHU_STATS_SIGNING_KEY_FILE', { ...claims, aud: 'certificate' }),
    'a stats token of ten hours': await sign('SESSHU_STATS_SIGNING_KEY_FILE', { ...claims, exp: now + 36000 }),
  };
  for (const [name, token] of Object.entries(refused)) assert.equal((await get(token)).status, 401, name);
  // The certificate feed does not take a stats token either.
  const cert = await fetch(`http://127.0.0.1:${env.SESSHU_RECORDS_PORT}/internal/v1/immunization-changes`, {
    headers: { Authorization: `Bearer ${await sign('SESSHU_STATS_SIGNING_KEY_FILE', claims)}` },
  });
  assert.equal(cert.status, 401);
  // Bad cursors and limits.
  const tok = await sign('SESSHU_STATS_SIGNING_KEY_FILE', claims);
  for (const q of ['?after=x', '?after=1-', "?after=1-1'--", '?limit=0', '?limit=5000', '?limit=1e3', '?foo=1']) {
    assert.equal((await get(tok, q)).status, 422, q);
  }
  // Not through the gateway.
  const gw = await request('GET', '/internal/v1/stats-feed');
  assert.equal(gw.status, 404);
});

// ---- H-6-1: the ministry's analysis and the BI schema ----

test('analytics: counts equal a direct count, pseudonymised, for 厚生労働省 only', async () => {
  const mhlw = (await orgWithAdmin('mhlw')).adminSession;
  const r = await call('analyseImmunizations', {
    token: mhlw.access,
    query: { group_by: 'municipality_code,sex,age_band,vaccine_code', municipality_code: B.code, from: dB, to: dB },
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.group_by, ['municipality_code', 'sex', 'age_band', 'vaccine_code']);
  const bySex = Object.fromEntries(r.body.items.map((x) => [x.sex, x]));
  assert.equal(bySex['1'].count, k + 2);
  assert.equal(bySex['1'].persons, k + 2);
  assert.equal(bySex['2'].count, 1);
  assert.equal(r.body.items.reduce((s, x) => s + x.count, 0), await directCount(B, dB));
  assert.ok(Math.abs(r.body.items.reduce((s, x) => s + x.share, 0) - 1) < 1e-9);
  for (const x of r.body.items) assert.deepEqual(Object.keys(x).sort(), ['age_band', 'count', 'municipality_code', 'persons', 'sex', 'share', 'vaccine_code']);
  // Grouped by prefecture x product x dose for a fiscal year: A's prefecture holds A's doses.
  const fy = String(Number(dA.slice(0, 4)) - (Number(dA.slice(5, 7)) < 4 ? 1 : 0));
  const g = await call('analyseImmunizations', {
    token: mhlw.access,
    query: { group_by: 'prefecture_code,vaccine_code,dose_number,fiscal_year', fiscal_year: fy, prefecture_code: A.code.slice(0, 2), vaccine_code: FLU },
  });
  assert.equal(g.status, 200, g.text);
  const first = g.body.items.find((x) => x.dose_number === '1');
  assert.ok(first, g.text);
  assert.equal(first.fiscal_year, fy);
  assert.equal(first.prefecture_code, A.code.slice(0, 2));
  assert.ok(first.count >= (await directCount(A, dA)));
  // Without persons: the same counts, from the kept combinations (stats.cube).
  const g2 = await call('analyseImmunizations', {
    token: mhlw.access,
    query: { group_by: 'prefecture_code,vaccine_code,dose_number,fiscal_year', fiscal_year: fy, prefecture_code: A.code.slice(0, 2), vaccine_code: FLU, persons: 'false' },
  });
  assert.equal(g2.status, 200, g2.text);
  assert.deepEqual(
    g2.body.items,
    g.body.items.map(({ persons, ...x }) => x),
  );
  const r2 = await call('analyseImmunizations', {
    token: mhlw.access,
    query: { group_by: 'municipality_code,sex,age_band,vaccine_code,disease_code', municipality_code: B.code, from: dB, to: dB, persons: 'false' },
  });
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.body.items.filter((x) => x.sex === '1').reduce((n, x) => n + x.count, 0), k + 2);
  assert.ok(r2.body.items.every((x) => !('persons' in x)));
  // Birth month, not birth date; registration month.
  const b = await call('analyseImmunizations', { token: mhlw.access, query: { group_by: 'birth_month,registration_month', municipality_code: B.code } });
  assert.equal(b.status, 200, b.text);
  for (const x of b.body.items) {
    assert.match(x.birth_month, /^\d{4}-\d{2}$/);
    assert.equal(x.registration_month, today().slice(0, 7));
  }
  // Only the ministry.
  const muni = await call('analyseImmunizations', { token: A.session.access, query: { group_by: 'sex' } });
  expectProblem(muni, 403);
  expectProblem(await call('analyseImmunizations', { query: { group_by: 'sex' } }), 401);
});

test('analytics: bad inputs', async () => {
  const mhlw = (await orgWithAdmin('mhlw')).adminSession;
  const cases = [
    [{}, 'group_by'],
    [{ group_by: '' }, 'group_by'],
    [{ group_by: 'name' }, 'group_by'],
    [{ group_by: 'sex,sex' }, 'group_by'],
    [{ group_by: 'sex,age_band,vaccine_code,dose_number,category,source,fiscal_year' }, 'group_by'],
    [{ group_by: "sex'; DROP TABLE stats.facts; --" }, 'group_by'],
    [{ group_by: 'sex', from: '2026-02-30' }, 'from'],
    [{ group_by: 'sex', to: 'yesterday' }, 'to'],
    [{ group_by: 'sex', prefecture_code: "13' OR '1'='1" }, 'prefecture_code'],
    [{ group_by: 'sex', sex: '3' }, 'sex'],
    [{ group_by: 'sex', person_id: 'x' }, 'person_id'],
    [{ group_by: 'sex', persons: 'yes' }, 'persons'],
  ];
  for (const [query, field] of cases) {
    const r = await call('analyseImmunizations', { token: mhlw.access, query });
    const p = expectProblem(r, 422, 'validation-failed');
    assert.ok((p.errors ?? []).some((e) => e.field === field), `${JSON.stringify(query)}: ${r.text}`);
  }
  const facts = (await psql('SELECT count(*) FROM stats.facts')).rows;
  assert.ok(Number(facts[0][0]) > 0);
});

test('the BI role reads the analytics schema and is refused everything else', async () => {
  const { stackEnv } = await import('./lib/env.mjs');
  const env = stackEnv();
  const role = `bi_${randomBytes(4).toString('hex')}`;
  const pw = randomBytes(12).toString('hex');
  await psql(`CREATE ROLE ${role} LOGIN PASSWORD '${pw}' IN ROLE sesshu_stats_bi`);
  const { execFile } = await import('node:child_process');
  const as = (sqlText) =>
    new Promise((resolve) => {
      execFile(
        '/usr/lib/postgresql/15/bin/psql',
        ['-X', '-qAt', '-v', 'ON_ERROR_STOP=1', '-h', env.SESSHU_DB_HOST, '-p', env.SESSHU_DB_PORT, '-U', role, '-d', env.SESSHU_DB_NAME, '-c', sqlText],
        { env: { ...process.env, PGPASSWORD: pw, PGCONNECT_TIMEOUT: '5' }, timeout: 20_000 },
        (err, stdout, stderr) => resolve({ ok: !err, stdout: stdout.trim(), stderr }),
      );
    });
  try {
    const n = await as(`SELECT count(*) FROM analytics.immunizations WHERE municipality_code = '${B.code}'`);
    assert.ok(n.ok, n.stderr);
    assert.equal(Number(n.stdout), k + 3);
    const cols = await as("SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_schema = 'analytics' AND table_name = 'immunizations'");
    assert.ok(cols.ok && !/person_id|immunization_id|birth_date|name/.test(cols.stdout), cols.stdout);
    assert.ok((await as('SELECT count(*) FROM analytics.daily_counts')).ok);
    for (const q of [
      'SELECT count(*) FROM stats.facts',
      'SELECT count(*) FROM stats.cells',
      'SELECT count(*) FROM records.persons',
      'SELECT count(*) FROM records.immunizations',
      'SELECT count(*) FROM master.vaccines',
      'SELECT count(*) FROM account.users',
      'SELECT count(*) FROM audit.access_log',
      'CREATE TABLE analytics.x (a int)',
      'CREATE TABLE public.x (a int)',
      "DELETE FROM analytics.immunizations WHERE sex = '1'",
      'CREATE TEMP TABLE t (a int)',
    ]) {
      const r = await as(q);
      assert.ok(!r.ok, `${q} was allowed: ${r.stdout}`);
      assert.match(r.stderr, /permission denied/, `${q}: ${r.stderr}`);
    }
  } finally {
    await psql(`DROP ROLE ${role}`);
  }
});
