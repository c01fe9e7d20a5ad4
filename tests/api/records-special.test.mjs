// records-special.test.mjs - the 特例 for a birth cohort (docs/rules.md §7b) and the forecast of
// doses only a 特例 makes 定期, through the gateway: the MR 特例 (condition mr_shortage, recorded by
// the municipality and logged), 風しん第5期 (rubella_low_antibody, the test date required), the
// 日本脳炎 特例 (no condition: the birth cohort), and ImmunizationRecommendation proposing what the
// dry run accepts (長期療養特例, MR 特例, 日本脳炎 特例). The law's dates are fixed: vaccination dates
// are pinned, and where the answer depends on whether the period has ended by today, the test
// says which side today is on (the check of a date after today is refused as R-DATE-FUTURE and
// still gives the category it would have).
import test from 'node:test';
import assert from 'node:assert/strict';
import { call, ok } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { psql, lit } from './lib/sql.mjs';
import { today, addDays, addMonths } from './lib/dates.mjs';
import { municipality, person } from './lib/records.mjs';

const MR = '631300601';
const JE = '631301701';
const rules = (r) => (r.rules ?? []).map((x) => x.rule);
const hist = (personId, extra) => ({ person_id: personId, source: 'handbook', category: 'routine', dose_number: 1, ...extra });
// n months after birth b as the law counts it (生後n月に至った日 / n歳に達した日: master.age_on):
// the day before the same date n months later, or the last day of that month when there is none.
const ageOn = (b, months) => {
  const x = addMonths(b, months);
  return x.slice(8) === b.slice(8) ? addDays(x, -1) : x;
};
// What the check says of a dose on a pinned date: recorded when the date has come, refused as
// R-DATE-FUTURE before, with the same category either way.
async function checkOn(token, body, category) {
  const r = await ok('checkImmunization', 200, { token, json: body });
  assert.equal(r.category, category, JSON.stringify(r));
  if (body.vaccinated_on > today()) {
    assert.equal(r.outcome, 'refused');
    assert.ok(rules(r).includes('R-DATE-FUTURE'));
  } else {
    assert.equal(r.outcome, 'recorded', JSON.stringify(r));
  }
  return r;
}
async function forecast(token, id) {
  const b = await ok('fhirSearchImmunizationRecommendation', 200, { token, query: { patient: id } });
  return b.total === 0 ? [] : b.entry[0].resource.recommendation;
}
const entry = (recs, disease, n) => recs.find((x) => x.targetDisease.coding[0].code === disease && x.doseNumberPositiveInt === n);
const dates = (x) => [x.dateCriterion[0].value, x.dateCriterion[1].value];

let A, B;
test.before(async () => {
  [A, B] = await Promise.all([municipality(), municipality()]);
});

test('MR 特例: the 市町村長\'s recognition on file makes the FY2024 cohort 定期 (logged); revoked it does not', async () => {
  const p = await person(A, { birth_date: '2023-04-01' });
  const dose = hist(p.id, { vaccine_code: MR, vaccinated_on: '2026-11-02' });
  const before = await checkOn(A.session.access, dose, 'voluntary');
  assert.ok(rules(before).includes('R-WINDOW'));

  const body = { kind: 'mr_shortage', evidence: '市長決定 令和7年 第12号 (MR供給不足による未接種)', evidence_on: '2025-05-01', valid_from: '2025-04-01' };
  const r = await call('addPersonCondition', { token: A.session.access, params: { id: p.id }, json: body });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.kind, 'mr_shortage');
  const { rows } = await psql(`SELECT count(*) FROM audit.access_log WHERE request_id = ${lit(r.requestId)} AND service = 'records'`);
  assert.equal(Number(rows[0][0]), 1, 'the write is in the access log');
  expectProblem(await call('addPersonCondition', { token: B.session.access, params: { id: p.id }, json: body }), 404, 'not-found');

  const after = await checkOn(A.session.access, dose, 'routine');
  assert.equal(after.schedule_code, 'measles-1-mr');
  assert.ok(rules(after).includes('R-MR-SHORTAGE'));
  assert.ok(!rules(after).includes('R-PERSON-CONDITION'));
  assert.equal(after.claimable, true);
  // the last day of the period, and the day after
  await checkOn(A.session.access, { ...dose, vaccinated_on: '2027-03-31' }, 'routine');
  const late = await checkOn(A.session.access, { ...dose, vaccinated_on: '2027-04-01' }, 'voluntary');
  assert.ok(!rules(late).includes('R-MR-SHORTAGE'));

  // the forecast proposes it while the period runs
  const recs = await forecast(A.session.access, p.id);
  const m1 = entry(recs, 'measles', 1);
  if (today() <= '2027-03-31') {
    assert.ok(m1, JSON.stringify(recs));
    assert.equal(m1.forecastStatus.coding[0].code, 'due');
    assert.deepEqual(dates(m1), ['2025-04-01', '2027-03-31']);
    assert.match(m1.description, /R-MR-SHORTAGE/);
  } else {
    assert.equal(m1, undefined);
  }

  const stored = await ok('createImmunization', 201, { token: A.session.access, json: dose });
  assert.equal(stored.category, 'routine');
  assert.ok(stored.flags.includes('R-MR-SHORTAGE'));

  // a recognition entered in error and revoked no longer counts
  const q = await person(A, { birth_date: '2022-04-02', sex: '2' });
  const qd = hist(q.id, { vaccine_code: '631300701', vaccinated_on: '2026-11-03' });
  const c = await ok('addPersonCondition', 201, { token: A.session.access, params: { id: q.id }, json: body });
  assert.ok(rules(await checkOn(A.session.access, qd, 'routine')).includes('R-MR-SHORTAGE'));
  await ok('revokePersonCondition', 200, { token: A.session.access, params: { id: q.id, condition_id: c.id }, json: { reason: '誤登録' } });
  const revoked = await checkOn(A.session.access, qd, 'voluntary');
  assert.ok(!rules(revoked).includes('R-MR-SHORTAGE'));
  assert.equal(entry(await forecast(A.session.access, q.id), 'measles', 1), undefined);
});

test('風しん第5期: the antibody test needs its date; by 2025-03-31 it opens the row for men of the cohort', async () => {
  const man = await person(A, { birth_date: '1975-08-08', sex: '1' });
  const kind = 'rubella_low_antibody';
  const noDate = await call('addPersonCondition', { token: A.session.access, params: { id: man.id }, json: { kind, evidence: 'HI法 1:8', valid_from: '2025-03-01' } });
  expectProblem(noDate, 422, 'validation-failed');
  assert.ok(noDate.body.errors.some((e) => e.field === 'evidence_on'), noDate.text);
  const bad = await call('addPersonCondition', { token: A.session.access, params: { id: man.id }, json: { kind, evidence: 'x', evidence_on: '2025-02-30', valid_from: '2025-03-01' } });
  expectProblem(bad, 422, 'validation-failed');
  const { rows } = await psql(`SELECT count(*) FROM records.person_conditions WHERE person_id = ${lit(man.id)}`);
  assert.equal(Number(rows[0][0]), 0, 'nothing stored');

  const dose = hist(man.id, { vaccine_code: MR, vaccinated_on: '2026-11-02' });
  await ok('addPersonCondition', 201, { token: A.session.access, params: { id: man.id }, json: { kind, evidence: 'HI法 1:8', evidence_on: '2025-03-31', valid_from: '2025-03-31' } });
  const r = await checkOn(A.session.access, dose, 'routine');
  assert.equal(r.schedule_code, 'rubella-5');
  assert.deepEqual(r.disease_codes, ['rubella']);
  assert.ok(rules(r).includes('R-RUBELLA-5'));

  const late = await person(A, { birth_date: '1975-08-08', sex: '1' });
  await ok('addPersonCondition', 201, { token: A.session.access, params: { id: late.id }, json: { kind, evidence: 'HI法 1:8', evidence_on: '2025-04-01', valid_from: '2025-04-01' } });
  const tooLate = await checkOn(A.session.access, hist(late.id, { vaccine_code: MR, vaccinated_on: '2026-11-02' }), 'voluntary');
  assert.ok(!rules(tooLate).includes('R-RUBELLA-5'));
});

test('日本脳炎 特例: the birth cohort alone, to 20歳未満; the forecast proposes it while the last cohort is under 20', async () => {
  const last = await person(A, { birth_date: '2007-04-01', sex: '2' });
  const r = await checkOn(A.session.access, hist(last.id, { vaccine_code: JE, vaccinated_on: '2026-11-02' }), 'routine');
  assert.equal(r.schedule_code, 'jev-t-1');
  assert.ok(rules(r).includes('R-JE-SPECIAL'));
  await checkOn(A.session.access, hist(last.id, { vaccine_code: JE, vaccinated_on: '2027-03-31' }), 'routine');
  await checkOn(A.session.access, hist(last.id, { vaccine_code: JE, vaccinated_on: '2027-04-01' }), 'voluntary');
  const after = await person(A, { birth_date: '2007-04-02', sex: '2' });
  const out = await checkOn(A.session.access, hist(after.id, { vaccine_code: JE, vaccinated_on: '2026-11-02' }), 'voluntary');
  assert.ok(!rules(out).includes('R-JE-SPECIAL'));

  const je = entry(await forecast(A.session.access, last.id), 'jev', 1);
  if (today() <= '2027-03-31') {
    assert.ok(je);
    assert.equal(je.forecastStatus.coding[0].code, 'due');
    assert.equal(dates(je)[1], '2027-03-31');
    assert.match(je.description, /jev-t-1.*R-JE-SPECIAL/);
  } else {
    assert.ok(je === undefined || je.forecastStatus.coding[0].code === 'overdue');
  }
  assert.equal(entry(await forecast(A.session.access, after.id), 'jev', 1), undefined);
});

test('長期療養特例: the forecast proposes the window the check accepts after the ordinary one has passed', async () => {
  // 40 months old: MR 1期 (生後12月..24月) closed 16 months ago; the illness ended 10 days ago
  const birth = addMonths(today(), -40);
  const c = await person(A, { birth_date: birth });
  assert.equal(entry(await forecast(A.session.access, c.id), 'measles', 1), undefined, 'nothing without the 特例');
  const ended = addDays(today(), -10);
  await ok('addPersonCondition', 201, {
    token: A.session.access,
    params: { id: c.id },
    json: { kind: 'long_term_illness', disease_codes: ['measles', 'rubella'], evidence: '医師の理由書 (白血病治療)', valid_from: addDays(birth, 300), valid_to: ended },
  });
  const m1 = entry(await forecast(A.session.access, c.id), 'measles', 1);
  assert.ok(m1, 'the 特例 window is proposed');
  assert.equal(m1.forecastStatus.coding[0].code, 'due');
  assert.match(m1.description, /R-LONG-TERM-ILLNESS/);
  const [from, to] = dates(m1);
  assert.equal(from, ended);
  assert.equal(to, ageOn(ended, 24), 'two years after the reason ended');
  // what the forecast proposes is what the check accepts: both ends in, the day outside each not
  const dose = (on) => hist(c.id, { vaccine_code: MR, vaccinated_on: on });
  const first = await checkOn(A.session.access, dose(from), 'routine');
  assert.ok(rules(first).includes('R-LONG-TERM-ILLNESS'));
  await checkOn(A.session.access, dose(addDays(from, -1)), 'voluntary');
  await checkOn(A.session.access, dose(to), 'routine');
  await checkOn(A.session.access, dose(addDays(to, 1)), 'voluntary');
  await checkOn(A.session.access, dose(today()), 'routine');
});
