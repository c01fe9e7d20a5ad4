// records-conditions.test.mjs - per-person conditions the vaccination rules read (issue 17,
// docs/rules.md §7a), through the gateway: a municipality records 60-64 with a disability or the
// 長期療養特例 with its evidence and period (logged in the access log), the dry run reads it, a
// revoked one no longer counts; bad input, other tenants and other organisations are refused.
// Also, black-box: RSV weeks from the H-7 pregnancy record, and a correction that would break a
// later dose (R-CORRECTION-LATER). Answers are checked against proto-schemas/records.yaml.
import test from 'node:test';
import assert from 'node:assert/strict';
import { call, ok, request } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { psql, lit } from './lib/sql.mjs';
import { today, addDays, addYears } from './lib/dates.mjs';
import { municipality, institution, person } from './lib/records.mjs';
import { qmOk } from './lib/qmch.mjs';

const FLU = '631302201';
const rules = (r) => (r.rules ?? []).map((x) => x.rule);
// A history dose (母子健康手帳): no lot, doctor or institution needed.
const hist = (personId, extra) => ({ person_id: personId, source: 'handbook', category: 'routine', dose_number: 1, ...extra });

let A, B, I;
test.before(async () => {
  [A, B, I] = await Promise.all([municipality(), municipality(), institution()]);
});

test('60-64 with a disability: the condition makes B類 influenza 定期, revoked it does not; logged', async () => {
  const p = await person(A, { birth_date: addDays(addYears(today(), -62), -30), sex: '1' });
  const dose = hist(p.id, { vaccine_code: FLU, vaccinated_on: addDays(today(), -3) });
  const before = await ok('checkImmunization', 200, { token: A.session.access, json: dose });
  assert.equal(before.category, 'voluntary');
  assert.ok(rules(before).includes('R-WINDOW'));

  const body = { kind: 'disability_crh', evidence: '身体障害者手帳 1級 心臓機能障害', evidence_on: addDays(today(), -400), valid_from: addDays(today(), -365) };
  const r = await call('addPersonCondition', { token: A.session.access, params: { id: p.id }, json: body });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.kind, 'disability_crh');
  assert.equal(r.body.person_id, p.id);
  const { rows } = await psql(`SELECT count(*) FROM audit.access_log WHERE request_id = ${lit(r.requestId)} AND service = 'records'`);
  assert.equal(Number(rows[0][0]), 1, 'the write is in the access log');

  const list = await ok('listPersonConditions', 200, { token: A.session.access, params: { id: p.id } });
  assert.deepEqual(list.items.map((c) => c.id), [r.body.id]);
  const after = await ok('checkImmunization', 200, { token: A.session.access, json: dose });
  assert.equal(after.category, 'routine');
  assert.equal(after.schedule_code, 'flu-1-60');
  assert.ok(rules(after).includes('R-PERSON-CONDITION'));

  const rv = await ok('revokePersonCondition', 200, { token: A.session.access, params: { id: p.id, condition_id: r.body.id }, json: { reason: '誤登録' } });
  assert.ok(rv.revoked_at);
  const again = await call('revokePersonCondition', { token: A.session.access, params: { id: p.id, condition_id: r.body.id }, json: { reason: '誤登録' } });
  expectProblem(again, 409, 'conflict');
  const revoked = await ok('checkImmunization', 200, { token: A.session.access, json: dose });
  assert.equal(revoked.category, 'voluntary');
});

test('conditions: bad input is refused and leaves nothing; other tenants and organisations', async () => {
  const p = await person(A, { birth_date: '1963-05-05' });
  const bad = [
    [{ kind: 'grade1', evidence: 'x', valid_from: '2026-01-01' }, 'kind'],
    [{ kind: 'long_term_illness', evidence: 'x', valid_from: '2026-01-01', disease_codes: ['measles'] }, 'valid_to'],
    [{ kind: 'long_term_illness', evidence: 'x', valid_from: '2026-01-01', valid_to: '2026-02-01' }, 'disease_codes'],
    [{ kind: 'disability_crh', evidence: 'x', valid_from: '2026-01-01', disease_codes: ['no_such'] }, 'disease_codes'],
    [{ kind: 'disability_crh', evidence: 'x', valid_from: '2026-02-01', valid_to: '2026-01-01' }, 'valid_to'],
    [{ kind: 'disability_crh', evidence: 'x', valid_from: '2026-02-01', grade: 1 }, 'grade'],
    [{ kind: 'disability_crh', valid_from: '2026-02-01' }, 'evidence'],
    [{ kind: 'disability_crh', evidence: "'; DROP TABLE records.persons; --", valid_from: '2026-02-30' }, 'valid_from'],
    [{ kind: 'disability_crh', evidence: 'x'.repeat(501), valid_from: '2026-02-01' }, 'evidence'],
  ];
  for (const [json, field] of bad) {
    const r = await call('addPersonCondition', { token: A.session.access, params: { id: p.id }, json });
    expectProblem(r, 422, 'validation-failed');
    assert.ok(r.body.errors.some((e) => e.field === field), `${field} not named: ${r.text}`);
  }
  const notJson = await request('POST', `/api/v1/persons/${p.id}/conditions`, { token: A.session.access, body: '{"kind":', contentType: 'application/json' });
  expectProblem(notJson, 400, 'invalid-json');
  const { rows } = await psql(`SELECT count(*) FROM records.person_conditions WHERE person_id = ${lit(p.id)}`);
  assert.equal(Number(rows[0][0]), 0, 'nothing stored');

  const good = { kind: 'disability_hiv', evidence: 'x', valid_from: '2026-01-01' };
  expectProblem(await call('addPersonCondition', { token: B.session.access, params: { id: p.id }, json: good }), 404, 'not-found');
  expectProblem(await call('listPersonConditions', { token: B.session.access, params: { id: p.id } }), 404, 'not-found');
  expectProblem(await call('addPersonCondition', { token: I.session.access, params: { id: p.id }, json: good }), 403, 'forbidden');
  expectProblem(await call('addPersonCondition', { params: { id: p.id }, json: good }), 401, 'unauthorized');
  expectProblem(await call('revokePersonCondition', { token: A.session.access, params: { id: p.id, condition_id: '00000000-0000-4000-8000-000000000000' }, json: { reason: 'x' } }), 404, 'not-found');
});

test('RSV: the weeks come from the H-7 pregnancy record when the dose has none', async () => {
  const w = await person(A, { birth_date: '1994-04-04', sex: '2' });
  const on = addDays(today(), -2);
  const dose = hist(w.id, { vaccine_code: '631302101', vaccinated_on: on });
  const none = await call('checkImmunization', { token: A.session.access, json: dose });
  assert.equal(none.status, 200);
  assert.equal(none.body.outcome, 'refused', 'no weeks and no pregnancy record');
  // 30 weeks on the vaccination date: due in 70 days
  const edd = addDays(on, 70);
  await qmOk('createMchRecord', 201, {
    token: A.session.access,
    json: { person_id: w.id, kind: 'pregnancy', examined_on: addDays(today(), -30), source: 'municipality', data: { expected_delivery_date: edd, pregnancy_weeks: 26 } },
  });
  const withRecord = await ok('checkImmunization', 200, { token: A.session.access, json: dose });
  assert.equal(withRecord.outcome, 'recorded');
  assert.equal(withRecord.category, 'routine');
  const stored = await ok('createImmunization', 201, { token: A.session.access, json: dose });
  assert.equal(stored.pregnancy_weeks, 30);
});

test('a correction that would make a later dose short of its interval is refused (R-CORRECTION-LATER)', async () => {
  const c = await person(A, { birth_date: addDays(today(), -240) });
  const d1 = await ok('createImmunization', 201, { token: A.session.access, json: hist(c.id, { vaccine_code: '631300101', vaccinated_on: addDays(today(), -60) }) });
  await ok('createImmunization', 201, { token: A.session.access, json: hist(c.id, { vaccine_code: '631300101', dose_number: 2, vaccinated_on: addDays(today(), -30) }) });
  const r = await call('correctImmunization', { token: A.session.access, params: { id: d1.id }, json: { version: 1, reason: '日付の誤り', vaccinated_on: addDays(today(), -45) } });
  expectProblem(r, 422, 'validation-failed');
  assert.ok(r.body.errors.some((e) => e.rule === 'R-CORRECTION-LATER' && e.field === 'vaccinated_on'), r.text);
  const still = await ok('getImmunization', 200, { token: A.session.access, params: { id: d1.id } });
  assert.equal(still.version, 1, 'nothing changed');
  const fine = await ok('correctImmunization', 200, { token: A.session.access, params: { id: d1.id }, json: { version: 1, reason: '日付の誤り', vaccinated_on: addDays(today(), -52) } });
  assert.equal(fine.version, 2);
});
