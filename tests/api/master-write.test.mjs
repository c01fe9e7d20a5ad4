// master-write.test.mjs - H-8-1..6: register, update (a new version; the earlier one stays),
// retire; effective dating; who may edit which master (docs/domain.md §10 narrowed per master): every
// organisation type × admin/user against every master, own rows only for municipalities,
// institutions and 国保連合会; 403 for everything else (and it is access-logged); bad inputs.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok, request } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { principal, orgWithAdmin, userIn, suffix } from './lib/fixtures.mjs';
import { municipalityCode, medicalCode, withWrongCheckDigit } from './lib/codes.mjs';
import { psql, lit } from './lib/sql.mjs';
import { today } from './lib/dates.mjs';

const TYPES = ['chuokai', 'kokuhoren', 'municipality', 'medical_institution', 'non_insurance_medical_institution', 'mhlw', 'operator'];
const who = {}; // `${type}/${role}` -> session

before(async () => {
  for (const t of TYPES) for (const role of ['admin', 'user']) who[`${t}/${role}`] = await principal(t, role);
});

const VERSION_COLS = ['version', 'source', 'superseded_at', 'superseded_version', 'created_at'];
function asInput(row) {
  const out = { ...row };
  for (const c of VERSION_COLS) delete out[c];
  return out;
}

async function current(master, key, token) {
  return ok('getMasterRow', 200, { token, params: { master, key } });
}

// A no-op PUT (the version in force, unchanged): 200 for an editor, 403 for everyone else.
const PROBES = {
  prefectures: '13',
  kokuhoren: '13',
  municipalities: '131130',
  institutions: '0110113719',
  diseases: 'hib',
  vaccines: '631300901',
  schedules: 'hib-1',
  lots: '631300101~GB001A',
  unit_prices: '131130~631300101~1',
  populations: '131130~1~30-39',
  collective_contracts: null, // key read from the list
  banks: '0001',
  bank_branches: '0001~001',
};
const EDITORS = {
  prefectures: ['operator'],
  kokuhoren: ['operator', 'chuokai'],
  municipalities: ['operator'],
  institutions: ['operator'],
  diseases: ['mhlw'],
  vaccines: ['mhlw'],
  schedules: ['mhlw'],
  lots: ['mhlw'],
  unit_prices: [],
  populations: ['mhlw'],
  collective_contracts: ['operator', 'chuokai'],
  banks: ['operator'],
  bank_branches: ['operator'],
};

test('every organisation type × role against every master (no-op update as the probe)', async () => {
  const reader = who['municipality/user'].access;
  // A contract in force today (the shipped samples are for FY2026 and end with it).
  const cc = { contract_code: `T-${suffix(6).toUpperCase()}`, institution_code: '1311012346', vaccine_code: '631302201', price_yen: 4950, valid_from: today() };
  await ok('registerMasterRow', 201, { token: who['operator/admin'].access, params: { master: 'collective_contracts' }, json: cc });
  PROBES.collective_contracts = `${cc.contract_code}~${cc.institution_code}~${cc.vaccine_code}`;
  for (const [master, key] of Object.entries(PROBES)) {
    const row = await current(master, key, reader);
    for (const [name, s] of Object.entries(who)) {
      const type = name.split('/')[0];
      const mayAll = EDITORS[master].includes(type);
      const mayOwn = master === 'kokuhoren' && type === 'kokuhoren' && s.org.prefecture_code === key;
      const r = await call('updateMasterRow', { token: s.access, params: { master, key }, json: asInput(row) });
      if (mayAll || mayOwn) {
        assert.equal(r.status, 200, `${name} ${master}: ${r.text}`);
        assert.equal(r.body.change, null, 'an unchanged row writes nothing');
        assert.equal(r.body.version, null);
      } else {
        expectProblem(r, 403, 'forbidden');
      }
    }
  }
});

test('a refused write is access-logged with its 403', async () => {
  const s = who['medical_institution/user'];
  const r = await call('updateMasterRow', { token: s.access, params: { master: 'vaccines', key: '631300901' }, json: { name: 'x' } });
  expectProblem(r, 403, 'forbidden');
  const { rows } = await psql(`SELECT status, service, res_id FROM audit.access_log WHERE request_id = ${lit(r.requestId)}`);
  assert.deepEqual(rows, [['403', 'master', 'vaccines']]);
});

test('a municipality registers and updates its own row and unit prices, never another one', async () => {
  const ma = who['municipality/admin'];
  const code = ma.org.code;
  const made = await ok('registerMasterRow', 201, {
    token: ma.access, params: { master: 'municipalities' },
    json: { code, name: '試験市', name_kana: 'シケンシ', prefecture_code: code.slice(0, 2), valid_from: '2020-04-01' },
  });
  assert.equal(made.version.source, 'MUNI');
  assert.equal(made.version.valid_from, '2020-04-01');
  expectProblem(await call('registerMasterRow', {
    token: ma.access, params: { master: 'municipalities' },
    json: { code, name: '試験市', name_kana: 'シケンシ', prefecture_code: code.slice(0, 2) },
  }), 409, 'conflict');
  const other = municipalityCode(code.slice(0, 2));
  expectProblem(await call('registerMasterRow', {
    token: ma.access, params: { master: 'municipalities' },
    json: { code: other, name: '他市', name_kana: 'タシ', prefecture_code: other.slice(0, 2) },
  }), 403, 'forbidden');
  // A rename from 2026-10-01: the earlier period stays as it was.
  const upd = await ok('updateMasterRow', 200, {
    token: ma.access,
    params: { master: 'municipalities', key: code }, json: { name: '新試験市', name_kana: 'シンシケンシ', prefecture_code: code.slice(0, 2), valid_from: '2026-10-01' },
  });
  assert.equal(upd.version.name, '新試験市');
  assert.equal(upd.written.length, 2, 'the head of the old version and the new one');
  const before = await ok('getMasterRow', 200, { token: ma.access, params: { master: 'municipalities', key: code }, query: { as_of: '2026-09-30' } });
  assert.equal(before.name, '試験市');
  assert.equal(before.valid_to, '2026-09-30');
  const after = await ok('getMasterRow', 200, { token: ma.access, params: { master: 'municipalities', key: code }, query: { as_of: '2026-10-01' } });
  assert.equal(after.name, '新試験市');
  const hist = await ok('getMasterRowHistory', 200, { token: ma.access, params: { master: 'municipalities', key: code } });
  assert.equal(hist.items.length, 3);
  assert.ok(hist.items[0].superseded_at !== null, 'the first version is kept, superseded');
  assert.equal(hist.items[0].name, '試験市');
  assert.equal(hist.items[0].valid_to, null);

  // Unit prices: its own municipality only; a price change across a date.
  const key = `${code}~631300101~1`;
  await ok('registerMasterRow', 201, {
    token: ma.access, params: { master: 'unit_prices' },
    json: { municipality_code: code, vaccine_code: '631300101', dose_number: 1, price_yen: 12000, self_pay_yen: 0, valid_from: '2025-04-01' },
  });
  await ok('updateMasterRow', 200, {
    token: ma.access, params: { master: 'unit_prices', key },
    json: { price_yen: 12500, self_pay_yen: 0, vaccine_code: '631300101', dose_number: 1, valid_from: '2026-04-01' },
  });
  assert.equal((await current('unit_prices', key, ma.access)).price_yen, 12500);
  assert.equal((await ok('getMasterRow', 200, { token: ma.access, params: { master: 'unit_prices', key }, query: { as_of: '2026-03-31' } })).price_yen, 12000);
  expectProblem(await call('registerMasterRow', {
    token: ma.access, params: { master: 'unit_prices' },
    json: { municipality_code: '131130', vaccine_code: '631300101', dose_number: 2, price_yen: 1, self_pay_yen: 0 },
  }), 403, 'forbidden');
  expectProblem(await call('retireMasterRow', {
    token: ma.access, params: { master: 'unit_prices', key: '131130~631300101~1' }, json: { valid_to: '2026-12-31' },
  }), 403, 'forbidden');
});

test('institutions edit their own row; the non-insurance kind needs its pseudo-code', async () => {
  const med = who['medical_institution/user'];
  const code = med.org.code;
  const body = { code, name: '試験医院', name_kana: 'シケンイイン', kind: 'insurance', prefecture_code: code.slice(0, 2), address: '東京都' };
  assert.equal((await ok('registerMasterRow', 201, { token: med.access, params: { master: 'institutions' }, json: body })).version.source, 'INST');
  const otherCode = medicalCode('1', code.slice(0, 2));
  expectProblem(await call('registerMasterRow', { token: med.access, params: { master: 'institutions' }, json: { ...body, code: otherCode } }), 403);
  expectProblem(await call('updateMasterRow', { token: med.access, params: { master: 'institutions', key: '0110113719' }, json: { name: 'x' } }), 403);
  const non = who['non_insurance_medical_institution/admin'];
  const nc = non.org.code;
  await ok('registerMasterRow', 201, {
    token: non.access, params: { master: 'institutions' },
    json: { code: nc, name: '保健センター', kind: 'non_insurance', prefecture_code: nc.slice(0, 2) },
  });
  const wrongKind = await call('updateMasterRow', {
    token: non.access, params: { master: 'institutions', key: nc }, json: { name: '保健センター', kind: 'insurance', prefecture_code: nc.slice(0, 2) },
  });
  expectFieldErrors(wrongKind, ['(row)']);
});

test('the ministry registers, updates and retires national masters; as-of sees each step', async () => {
  const mh = who['mhlw/user'];
  const code = `test_${suffix(6).toLowerCase()}`;
  const made = await ok('registerMasterRow', 201, {
    token: mh.access, params: { master: 'diseases' }, json: { code, name: '試験病', category: 'B', valid_from: '2026-01-01' },
  });
  assert.equal(made.version.source, 'MHLW');
  const upd = await ok('updateMasterRow', 200, {
    token: mh.access, params: { master: 'diseases', key: code }, json: { name: '試験病（改）', category: 'B', valid_from: '2026-06-01' },
  });
  assert.ok(upd.change > made.change);
  const ret = await ok('retireMasterRow', 200, { token: mh.access, params: { master: 'diseases', key: code }, json: { valid_to: '2026-12-31' } });
  const live = ret.versions.filter((v) => v.superseded_at === null);
  assert.deepEqual(live.map((v) => [v.name, v.valid_from, v.valid_to]), [['試験病', '2026-01-01', '2026-05-31'], ['試験病（改）', '2026-06-01', '2026-12-31']]);
  assert.equal((await ok('getMasterRow', 200, { token: mh.access, params: { master: 'diseases', key: code }, query: { as_of: '2026-03-01' } })).name, '試験病');
  assert.equal((await ok('getMasterRow', 200, { token: mh.access, params: { master: 'diseases', key: code }, query: { as_of: '2026-12-31' } })).name, '試験病（改）');
  expectProblem(await call('getMasterRow', { token: mh.access, params: { master: 'diseases', key: code }, query: { as_of: '2027-01-01' } }), 404);
  // The change feed sees the versions and the supersessions.
  const feed = await ok('listMasterChanges', 200, { token: mh.access, params: { master: 'diseases' }, query: { since: made.change - 1, limit: 200 } });
  const mine = feed.items.filter((c) => c.row.code === code);
  assert.ok(mine.some((c) => c.op === 'superseded'));
  assert.ok(mine.filter((c) => c.op === 'version').length >= 4);
  // A vaccine and a schedule for it.
  const vcode = String(900000000 + Math.floor(Math.random() * 99999999));
  await ok('registerMasterRow', 201, {
    token: mh.access, params: { master: 'vaccines' },
    json: { code: vcode, code_kind: 'HOT9', name: '試験ワクチン', manufacturer: '試験製薬', live: false, route: 'injection', disease_codes: [code], dose_ml: 0.5 },
  });
  const sched = await ok('registerMasterRow', 201, {
    token: mh.access, params: { master: 'schedules' },
    json: { code: `${code}-1`, disease_code: code, vaccine_code: vcode, category: 'B', dose_number: 1, dose_label: '1回目', doses_total: 2,
      age_from: '65 years -1 days', age_to: '66 years', min_interval: null, note: '試験' },
  });
  assert.equal(sched.version.age_to, '66 years');
});

test('bad inputs on register, update and retire', async () => {
  const mh = who['mhlw/admin'];
  const t = mh.access;
  const good = { code: `bad_${suffix(5).toLowerCase()}`, name: '病', category: 'A' };
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'diseases' }, json: { ...good, colour: 'red' } }), ['colour']);
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'diseases' }, json: { ...good, category: 'C' } }), ['category']);
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'diseases' }, json: { ...good, category: 1 } }), ['category']);
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'diseases' }, json: { name: '病', category: 'A' } }), ['code']);
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'diseases' }, json: { ...good, code: "x'; DROP TABLE master.diseases; --" } }), ['code']);
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'diseases' }, json: { ...good, valid_from: '2026-13-01' } }), ['valid_from']);
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'diseases' }, json: { ...good, valid_from: '2026-05-01', valid_to: '2026-04-30' } }), ['valid_to']);
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'diseases' }, json: { ...good, name: 'x'.repeat(201) } }), ['name']);
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'diseases' }, json: { ...good, name: 'a\u0001b' } }), ['name']);
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'lots' }, json: { vaccine_code: '631300101', lot_no: 'L1', expiry_on: '2027-02-29' } }), ['expiry_on']);
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'vaccines' }, json: { code: '12345', code_kind: 'HOT9', name: 'v', manufacturer: 'm', live: 'yes', route: 'nasal', disease_codes: [] } }), ['code', 'live', 'route', 'disease_codes']);
  expectProblem(await request('POST', '/api/v1/masters/diseases', { token: t, body: '{"code":', contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await request('POST', '/api/v1/masters/diseases', { token: t, body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await request('POST', '/api/v1/masters/diseases', { token: t, body: 'code=x', contentType: 'application/x-www-form-urlencoded' }), 415);
  expectProblem(await request('POST', '/api/v1/masters/diseases', { token: t, json: { ...good, name: 'x'.repeat(2 * 1024 * 1024) } }), 413);
  expectProblem(await request('POST', '/api/v1/masters/diseases', { token: t }), 400);
  // Keys: a wrong check digit, a key in the body that differs from the path, an unknown key.
  const op = who['operator/user'].access;
  const mc = municipalityCode('13');
  expectFieldErrors(await call('registerMasterRow', { token: op, params: { master: 'municipalities' }, json: { code: withWrongCheckDigit(mc), name: 'x', name_kana: 'x', prefecture_code: '13' } }), ['code']);
  expectFieldErrors(await call('registerMasterRow', { token: op, params: { master: 'municipalities' }, json: { code: mc, name: 'x', name_kana: 'x', prefecture_code: '14' } }), ['(row)']);
  expectFieldErrors(await call('updateMasterRow', { token: op, params: { master: 'municipalities', key: '131130' }, json: { code: '131041', name: 'x', name_kana: 'x', prefecture_code: '13' } }), ['code']);
  expectProblem(await call('updateMasterRow', { token: op, params: { master: 'municipalities', key: mc }, json: { name: 'x', name_kana: 'x', prefecture_code: '13' } }), 404);
  expectProblem(await call('updateMasterRow', { token: op, params: { master: 'banks', key: '12345' }, json: { name: 'x', name_kana: 'ｱ' } }), 404);
  expectFieldErrors(await call('registerMasterRow', { token: op, params: { master: 'banks' }, json: { code: '9998', name: '試験銀行', name_kana: 'シケン' } }), ['name_kana']);
  expectProblem(await call('retireMasterRow', { token: t, params: { master: 'diseases', key: 'no_such' }, json: { valid_to: '2026-12-31' } }), 404);
  expectFieldErrors(await call('retireMasterRow', { token: t, params: { master: 'diseases', key: 'hib' }, json: { valid_to: 'soon' } }), ['valid_to']);
  expectFieldErrors(await call('retireMasterRow', { token: t, params: { master: 'diseases', key: 'hib' }, json: { valid_to: '2026-12-31', why: 1 } }), ['why']);
  expectProblem(await call('registerMasterRow', { token: t, params: { master: 'nope' }, json: good }), 404);
  expectFieldErrors(await call('registerMasterRow', { token: t, params: { master: 'diseases' }, query: { dry_run: 'true' }, json: good }), ['dry_run']);
});

test('another organisation created later edits nothing of the first one', async () => {
  const { adminSession: a } = await orgWithAdmin('municipality');
  const u = await userIn(a, 'user');
  const code = a.org.code;
  await ok('registerMasterRow', 201, { token: u.access, params: { master: 'municipalities' }, json: { code, name: '甲市', name_kana: 'コウシ', prefecture_code: code.slice(0, 2) } });
  const { adminSession: b } = await orgWithAdmin('municipality');
  expectProblem(await call('updateMasterRow', { token: b.access, params: { master: 'municipalities', key: code }, json: { name: '乗っ取り', name_kana: 'ノットリ', prefecture_code: code.slice(0, 2) } }), 403, 'forbidden');
  assert.equal((await current('municipalities', code, b.access)).name, '甲市');
});

test('imports: masters.import (admins, operator users) plus the edit right, every type × role', async () => {
  const files = {
    banks: 'code,name,name_kana\n0001,みずほ銀行,ﾐｽﾞﾎ\n',
    diseases: 'code,name,category,name_en\nhib,Hib感染症,A,Haemophilus influenzae type b\n',
  };
  for (const [master, csv] of Object.entries(files)) {
    for (const [name, s] of Object.entries(who)) {
      const [type, role] = name.split('/');
      const editor = master === 'banks' ? type === 'operator' : type === 'mhlw';
      const mayImport = role === 'admin' || type === 'operator';
      const r = await call('importMaster', { token: s.access, params: { master }, body: csv, contentType: 'text/csv; charset=UTF-8' });
      if (editor && mayImport) {
        assert.equal(r.status, 200, `${name} ${master}: ${r.text}`);
        assert.equal(r.body.dry_run, true);
        assert.equal(r.body.counts.errors, 0, `${name} ${master}: ${JSON.stringify(r.body.errors)}`);
      } else {
        expectProblem(r, 403, 'forbidden');
      }
    }
  }
});
