// records-linkage.test.mjs - H-3-1: the change feeds of a municipality's records and persons
// (new, corrected, voided, moved out), their cursors and their tenant boundary.
import test from 'node:test';
import assert from 'node:assert/strict';
import { call, ok, eventually } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { municipality, institution, person, doseBody } from './lib/records.mjs';

let A, B, I;
test.before(async () => {
  [A, B, I] = await Promise.all([municipality(), municipality(), institution()]);
});

async function pollAll(opId, token, after) {
  const items = [];
  let cursor = after;
  for (let i = 0; i < 50; i++) {
    const page = await ok(opId, 200, { token, query: { after: cursor, limit: 2 } });
    items.push(...page.items);
    if (page.items.length === 0) return { items, after: page.next_after };
    cursor = page.next_after;
  }
  throw new Error('feed did not end');
}

test('immunization feed: new, corrected and voided records in order, from a cursor', async () => {
  const p = await person(A);
  const r1 = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id) });
  const r2 = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id, { dose_number: 2, vaccinated_on: '2026-08-25' }) });
  const first = await eventually(async () => {
    const f = await pollAll('feedImmunizations', A.session.access);
    assert.deepEqual(f.items.map((x) => x.immunization.id), [r1.id, r2.id]);
    return f;
  });
  assert.deepEqual(first.items.map((x) => x.change), ['registered', 'registered']);
  await ok('correctImmunization', 200, { token: A.session.access, params: { id: r2.id }, json: { version: 1, reason: 'lot', site: '右上腕' } });
  await ok('voidImmunization', 200, { token: A.session.access, params: { id: r1.id }, json: { reason: '誤登録', version: 1 } });
  await eventually(async () => {
    const f = await pollAll('feedImmunizations', A.session.access, first.after);
    assert.deepEqual(f.items.map((x) => [x.immunization.id, x.change]), [[r2.id, 'corrected'], [r1.id, 'voided']]);
  });
  const other = await ok('feedImmunizations', 200, { token: B.session.access });
  assert.ok(!other.items.some((x) => x.immunization.person_id === p.id), 'another municipality sees none of it');
});

test('person feed: created, updated, moved out for the old municipality, in for the new', async () => {
  const p = await person(A);
  await ok('patchPerson', 200, { token: A.session.access, params: { id: p.id }, json: { address: '変更後住所' } });
  const seen = await eventually(async () => {
    const f = await pollAll('feedPersons', A.session.access);
    const mine = f.items.filter((x) => x.person.id === p.id);
    assert.deepEqual(mine.map((x) => x.change), ['updated']);
    return f;
  });
  await ok('moveInPerson', 200, {
    token: B.session.access,
    json: { my_number: p.my_number, birth_date: p.birth_date, resident_no: 'B-9', address: '転入先', moved_on: '2026-11-01' },
  });
  await eventually(async () => {
    const f = await pollAll('feedPersons', A.session.access, seen.after);
    const mine = f.items.filter((x) => x.person.id === p.id);
    assert.deepEqual(mine.map((x) => x.change), ['moved_out']);
    assert.equal(mine[0].person.address, null);
    const g = await pollAll('feedPersons', B.session.access);
    assert.ok(g.items.some((x) => x.person.id === p.id && x.person.muni_code === B.code));
  });
});

test('feeds: bad cursors, other callers', async () => {
  for (const after of ['abc', '1-', '-1-2', '1-2-3', '99999999999999999999999-1']) {
    const r = await call('feedImmunizations', { token: A.session.access, query: { after } });
    expectProblem(r, 422, 'validation-failed');
  }
  const big = await call('feedPersons', { token: A.session.access, query: { limit: 1000 } });
  expectProblem(big, 422, 'validation-failed');
  const inst = await call('feedImmunizations', { token: I.session.access });
  expectProblem(inst, 403, 'forbidden');
});
