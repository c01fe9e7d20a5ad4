// records-query.test.mjs - H-3-2 staff queries: every filter, lot recall, and what each kind
// of organisation may see (municipality, institution, 国保連合会, ministry, another municipality).
import test from 'node:test';
import assert from 'node:assert/strict';
import { call, ok } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { orgWithAdmin, allPages } from './lib/fixtures.mjs';
import { municipality, institution, person, doseBody, masterInstitution } from './lib/records.mjs';

let A, B, I, K, M, kInst, p, q, recs;
test.before(async () => {
  [A, B, I] = await Promise.all([municipality(), municipality(), institution()]);
  K = (await orgWithAdmin('kokuhoren')).adminSession;
  M = (await orgWithAdmin('mhlw')).adminSession;
  kInst = await masterInstitution(K.org.code);
  p = await person(A, { name_kana: 'ショウカイ イチロウ', birth_date: '2026-06-01' });
  q = await person(A, { name_kana: 'ショウカイ ジロウ', birth_date: '2025-06-01' });
  recs = [
    await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id, { institution_code: kInst }) }),
    await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id, { dose_number: 2, vaccinated_on: '2026-08-25' }) }),
    await ok('createImmunization', 201, { token: A.session.access, json: doseBody(q.id, { vaccine_code: '631300601', lot_no: 'MR123', vaccinated_on: '2026-06-15' }) }),
  ];
});

const ids = (body) => body.items.map((x) => x.id);

test('municipality: by resident number, kana and birth date, product, disease, dates, lot', async () => {
  const t = A.session.access;
  assert.deepEqual(ids(await ok('searchImmunizations', 200, { token: t, query: { resident_no: p.resident_no } })), [recs[0].id, recs[1].id]);
  assert.deepEqual(ids(await ok('searchImmunizations', 200, { token: t, query: { name_kana: 'ショウカイジロウ', birth_date: '2025-06-01' } })), [recs[2].id]);
  assert.deepEqual(ids(await ok('searchImmunizations', 200, { token: t, query: { person_id: p.id, disease: 'hib' } })), [recs[0].id, recs[1].id]);
  assert.deepEqual(ids(await ok('searchImmunizations', 200, { token: t, query: { vaccine_code: '631300601', lot_no: 'MR123' } })), [recs[2].id]);
  assert.deepEqual(ids(await ok('searchImmunizations', 200, { token: t, query: { person_id: p.id, from: '2026-08-02', to: '2026-12-31' } })), [recs[1].id]);
  assert.deepEqual(ids(await ok('searchImmunizations', 200, { token: t, query: { institution_code: kInst } })), [recs[0].id]);
  const paged = await allPages('searchImmunizations', { token: t, query: { lot_no: 'GB001A', limit: 1 } });
  assert.deepEqual(paged.map((x) => x.id), [recs[0].id, recs[1].id]);
});

test('another municipality sees none of them; bad filters are refused', async () => {
  const none = await ok('searchImmunizations', 200, { token: B.session.access, query: { lot_no: 'MR123', vaccine_code: '631300601' } });
  assert.ok(!none.items.some((x) => x.person_id === q.id));
  const got = await call('getImmunization', { token: B.session.access, params: { id: recs[2].id } });
  expectProblem(got, 404, 'not-found');
  for (const query of [{ from: '2026-13-01' }, { person_id: 'x' }, { status: 'gone' }, { name_kana: 'ア' }, { bogus: '1' }, { limit: 0 }]) {
    const r = await call('searchImmunizations', { token: A.session.access, query });
    expectProblem(r, 422, 'validation-failed');
  }
});

test('国保連合会: claimable records of its prefecture\'s institutions only; ministry: no persons', async () => {
  const k = await ok('searchImmunizations', 200, { token: K.access, query: { institution_code: kInst } });
  assert.deepEqual(ids(k), [recs[0].id]);
  const kOther = await call('getImmunization', { token: K.access, params: { id: recs[2].id } });
  if (recs[2].institution_code.slice(0, 2) !== K.org.code) expectProblem(kOther, 404, 'not-found');
  const byPerson = await call('searchImmunizations', { token: K.access, query: { resident_no: p.resident_no } });
  expectProblem(byPerson, 422, 'validation-failed');
  const m = await ok('getImmunization', 200, { token: M.access, params: { id: recs[1].id } });
  assert.equal(m.person_id, null);
  const mList = await ok('searchImmunizations', 200, { token: M.access, query: { lot_no: 'MR123', from: '2026-06-15', to: '2026-06-15' } });
  assert.ok(mList.items.length >= 1 && mList.items.every((x) => x.person_id === null));
  const persons = await call('getPerson', { token: M.access, params: { id: p.id } });
  expectProblem(persons, 403, 'forbidden');
});

test('institution: only its own records and identified patients', async () => {
  const none = await ok('searchImmunizations', 200, { token: I.session.access, query: { person_id: p.id } });
  assert.equal(none.items.length, 0);
  await ok('lookupPerson', 200, { token: I.session.access, json: { my_number: p.my_number, birth_date: p.birth_date } });
  const now = await ok('searchImmunizations', 200, { token: I.session.access, query: { person_id: p.id } });
  assert.deepEqual(ids(now), [recs[0].id, recs[1].id]);
});
