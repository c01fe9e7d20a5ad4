// records.test.mjs - persons and vaccination records (H-3 §1, §2): every validation rule with
// its violation, the replay of docs/domain.md §12's error classes, versions, voiding, idempotency,
// tenant boundaries and bad input.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { call, ok, request } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { municipality, institution, person, doseBody, ensureLots, myNumber } from './lib/records.mjs';
import { today } from './lib/dates.mjs';
import { psql, lit } from './lib/sql.mjs';

const fields = (r) => (r.body?.errors ?? []).map((e) => e.field);
const reasons = (r) => (r.body?.errors ?? []).map((e) => `${e.field}: ${e.reason}`).join('\n');

let A, B, I;
test.before(async () => {
  [A, B, I] = await Promise.all([municipality(), municipality(), institution()]);
  await ensureLots();
});

test('persons: create, read, 個人番号 only on explicit request, another municipality gets 404', async () => {
  const p = await person(A);
  assert.equal(p.muni_code, A.code);
  assert.equal(p.has_my_number, true);
  assert.equal(p.my_number, p.my_number); // the fixture's copy
  const got = await ok('getPerson', 200, { token: A.session.access, params: { id: p.id } });
  assert.equal(got.my_number, undefined, 'the 個人番号 is not returned without include');
  const withMn = await ok('getPerson', 200, { token: A.session.access, params: { id: p.id }, query: { include: 'my_number' } });
  assert.equal(withMn.my_number, p.my_number);
  const other = await call('getPerson', { token: B.session.access, params: { id: p.id } });
  expectProblem(other, 404, 'not-found');
  const inst = await call('getPerson', { token: I.session.access, params: { id: p.id } });
  expectProblem(inst, 403, 'forbidden');
});

test('persons: search by kana and birth date, by resident number, by 個人番号 (POST only)', async () => {
  const p = await person(A, { name_kana: 'ケンサク ハナコ', birth_date: '2020-02-02', sex: '2' });
  const byKana = await ok('listPersons', 200, { token: A.session.access, query: { name_kana: 'ケンサクハナコ', birth_date: '2020-02-02' } });
  assert.deepEqual(byKana.items.map((x) => x.id), [p.id]);
  const byNo = await ok('listPersons', 200, { token: A.session.access, query: { resident_no: p.resident_no } });
  assert.deepEqual(byNo.items.map((x) => x.id), [p.id]);
  const byMn = await ok('searchPersons', 200, { token: A.session.access, json: { my_number: p.my_number } });
  assert.deepEqual(byMn.items.map((x) => x.id), [p.id]);
  const none = await ok('searchPersons', 200, { token: B.session.access, json: { my_number: p.my_number } });
  assert.equal(none.items.length, 0, 'another municipality finds nobody');
  const kanaOnly = await call('listPersons', { token: A.session.access, query: { name_kana: 'ケンサク' } });
  expectProblem(kanaOnly, 422, 'validation-failed');
});

test('persons: bad input is refused with every field named', async () => {
  const bad = await call('createPerson', {
    token: A.session.access,
    json: { resident_no: '', name: 'x', name_kana: 'abc', birth_date: '2999-01-01', sex: '3', address: 'a', my_number: '123456789012', extra: 1 },
  });
  expectProblem(bad, 422, 'validation-failed');
  for (const f of ['resident_no', 'sex', 'extra']) assert.ok(fields(bad).includes(f), `${f} not named:\n${reasons(bad)}`);
  const bad2 = await call('createPerson', {
    token: A.session.access,
    json: { resident_no: 'X1', name: 'x', name_kana: 'abc', birth_date: '2999-01-01', sex: '1', address: 'a', my_number: '123456789012' },
  });
  for (const f of ['name_kana', 'birth_date', 'my_number']) assert.ok(fields(bad2).includes(f), `${f} not named:\n${reasons(bad2)}`);
  const notJson = await request('POST', '/api/v1/persons', { token: A.session.access, body: '{"resident_no":', contentType: 'application/json' });
  expectProblem(notJson, 400, 'invalid-json');
  const inj = await ok('listPersons', 200, { token: A.session.access, query: { resident_no: "x' OR '1'='1" } });
  assert.equal(inj.items.length, 0);
  const p = await person(A);
  const dup = await call('createPerson', {
    token: A.session.access,
    json: { resident_no: p.resident_no, name: 'x', name_kana: 'カ', birth_date: '2020-01-01', sex: '1', address: 'a' },
  });
  // Answered by the unique constraint's name, which a partition carries as <name>_pNN (048).
  assert.match(expectProblem(dup, 409, 'conflict').detail ?? '', /resident_no is already registered/);
  const sameMn = await call('createPerson', {
    token: B.session.access,
    json: { resident_no: 'Z1', name: 'x', name_kana: 'カ', birth_date: '2020-01-01', sex: '1', address: 'a', my_number: p.my_number },
  });
  assert.match(expectProblem(sameMn, 409, 'conflict').detail ?? '', /my_number is already registered/);
  // The database's own log keeps no personal data of the refusals: no key values (the keyed
  // hash of the 個人番号, the resident number), no statement.
  const pgLog = readFileSync(path.join(path.dirname(process.env.SESSHU_TEST_ENV_FILE), 'log', 'postgresql.log'), 'utf8');
  assert.ok(!pgLog.includes(p.resident_no), 'a resident number in the PostgreSQL log');
  assert.ok(!/Key \(/.test(pgLog), 'a key value in the PostgreSQL log');
  assert.ok(!/STATEMENT:/.test(pgLog), 'a failing statement in the PostgreSQL log');
});

test('persons: corrections are versions; a move-in keeps the history and the old records', async () => {
  const p = await person(A, { birth_date: '2025-06-01' });
  await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id, { vaccine_code: '631300601', lot_no: 'MR123', vaccinated_on: '2026-06-15' }) });
  const patched = await ok('patchPerson', 200, { token: A.session.access, params: { id: p.id }, json: { address: '東京都渋谷区宇田川町2-2' } });
  assert.equal(patched.version, 2);
  const hist = await ok('getPersonHistory', 200, { token: A.session.access, params: { id: p.id } });
  assert.deepEqual(hist.items.map((v) => v.change), ['updated', 'created']);
  const moved = await ok('moveInPerson', 200, {
    token: B.session.access,
    json: { my_number: p.my_number, birth_date: '2025-06-01', resident_no: 'B-1', address: '新住所', moved_on: '2026-10-01' },
  });
  assert.equal(moved.muni_code, B.code);
  const recs = await ok('listPersonImmunizations', 200, { token: B.session.access, params: { id: p.id } });
  assert.equal(recs.items.length, 1, 'the new municipality sees the past record');
  // Partitioned by municipality (records 048): the person's row moved to B's partition, once;
  // the rows that name the person follow (person_muni); the record keeps its 記録主体 A.
  const {
    rows: [[rows, part, inB]],
  } = await psql(
    `SELECT count(*), min(tableoid::regclass::text), bool_and(satisfies_hash_partition('records.persons'::regclass, 16, ` +
      `substr(tableoid::regclass::text, 18)::int, ${lit(B.code)}::bpchar)) FROM records.persons WHERE id = ${lit(p.id)}`,
  );
  assert.deepEqual([rows, inB], ['1', 't'], `the person is in ${part}`);
  const { rows: follow } = await psql(
    `SELECT 'residences', person_muni FROM records.residences WHERE person_id = ${lit(p.id)} UNION ALL ` +
      `SELECT 'versions', person_muni FROM records.person_versions WHERE person_id = ${lit(p.id)} UNION ALL ` +
      `SELECT 'record ' || muni_code, person_muni FROM records.immunizations WHERE person_id = ${lit(p.id)}`,
  );
  assert.ok(follow.length >= 5, JSON.stringify(follow));
  for (const [what, muni] of follow) assert.equal(muni, B.code, `${what} names the person's municipality`);
  assert.ok(follow.some(([what]) => what === `record ${A.code}`), 'the record keeps its 記録主体');
  const former = await ok('getPerson', 200, { token: A.session.access, params: { id: p.id } });
  assert.equal(former.relationship, 'former_resident');
  assert.equal(former.address, null, 'the former municipality does not see the new address');
  const formerMn = await call('getPerson', { token: A.session.access, params: { id: p.id }, query: { include: 'my_number' } });
  expectProblem(formerMn, 403, 'forbidden');
  const patchOld = await call('patchPerson', { token: A.session.access, params: { id: p.id }, json: { address: 'x' } });
  expectProblem(patchOld, 404, 'not-found');
  // 宛名番号 belong to their municipality: A finds its former resident by A's old number, B by
  // its new one, and neither by the other's.
  const byOld = await ok('listPersons', 200, { token: A.session.access, query: { resident_no: p.resident_no } });
  assert.deepEqual(byOld.items.map((x) => x.id), [p.id]);
  const byNew = await ok('listPersons', 200, { token: B.session.access, query: { resident_no: 'B-1' } });
  assert.deepEqual(byNew.items.map((x) => x.id), [p.id]);
  for (const [who, no] of [[A, 'B-1'], [B, p.resident_no]]) {
    const none = await ok('listPersons', 200, { token: who.session.access, query: { resident_no: no } });
    assert.ok(!none.items.some((x) => x.id === p.id), `found by another municipality's number ${no}`);
  }
});

test('persons: ?include=immunizations is the person and its listing in one read, before and after a move', async () => {
  // What the two reads show each caller, and the one read beside them.
  const same = async (who, id) => {
    const both = await ok('getPerson', 200, { token: who.session.access, params: { id }, query: { include: 'immunizations' } });
    const plain = await ok('getPerson', 200, { token: who.session.access, params: { id } });
    const list = await ok('listPersonImmunizations', 200, { token: who.session.access, params: { id } });
    const { immunizations, immunizations_next_cursor: next, ...rest } = both;
    assert.deepEqual(rest, plain);
    assert.deepEqual(immunizations, list.items);
    assert.equal(next, null);
    return both;
  };
  const p = await person(A);
  const rec = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id) });
  assert.deepEqual((await same(A, p.id)).immunizations.map((i) => i.id), [rec.id]);
  expectProblem(await call('getPerson', { token: B.session.access, params: { id: p.id }, query: { include: 'immunizations' } }), 404, 'not-found');
  expectProblem(await call('getPerson', { token: I.session.access, params: { id: p.id }, query: { include: 'immunizations' } }), 403, 'forbidden');
  expectProblem(await call('getPerson', { token: A.session.access, params: { id: p.id }, query: { include: 'records' } }), 422, 'validation-failed');
  // Moved to B: B sees the person and the record; A its former resident (no address) and the
  // record it made.
  await ok('moveInPerson', 200, {
    token: B.session.access,
    json: { my_number: p.my_number, birth_date: p.birth_date, resident_no: `B-${p.resident_no}`, address: '新住所', moved_on: today() },
  });
  assert.equal((await same(B, p.id)).immunizations.length, 1);
  const former = await same(A, p.id);
  assert.equal(former.relationship, 'former_resident');
  assert.equal(former.resident_no, p.resident_no);
  assert.equal(former.address, null);
  assert.deepEqual(former.immunizations.map((i) => i.id), [rec.id]);
  // Under non-disclosure only the current municipality sees the person, records or not.
  const hidden = await person(A, { non_disclosure: true });
  await ok('moveInPerson', 200, {
    token: B.session.access,
    json: { my_number: hidden.my_number, birth_date: hidden.birth_date, resident_no: `B-${hidden.resident_no}`, address: '新住所', moved_on: today() },
  });
  await same(B, hidden.id);
  for (const query of [{}, { include: 'immunizations' }]) {
    expectProblem(await call('getPerson', { token: A.session.access, params: { id: hidden.id }, query }), 404, 'not-found');
  }
});

test('guardians: link a parent to a child; another municipality cannot', async () => {
  const child = await person(A);
  const parent = await person(A, { birth_date: '1990-01-01', name: '接種 母', sex: '2' });
  const g = await ok('addGuardian', 201, { token: A.session.access, params: { id: child.id }, json: { guardian_id: parent.id } });
  assert.equal(g.relation, 'parent');
  const list = await ok('listGuardians', 200, { token: A.session.access, params: { id: child.id } });
  assert.deepEqual(list.items.map((x) => x.guardian_id), [parent.id]);
  const again = await call('addGuardian', { token: A.session.access, params: { id: child.id }, json: { guardian_id: parent.id } });
  expectProblem(again, 409, 'conflict');
  const self = await call('addGuardian', { token: A.session.access, params: { id: child.id }, json: { guardian_id: child.id } });
  expectProblem(self, 422, 'validation-failed');
  const other = await call('addGuardian', { token: B.session.access, params: { id: child.id }, json: { guardian_id: parent.id } });
  expectProblem(other, 404, 'not-found');
  const del = await request('DELETE', `/api/v1/persons/${child.id}/guardians/${parent.id}`, { token: A.session.access });
  assert.equal(del.status, 204);
});

test('guardians: no circle, directly or through others; a chain that closes nothing is fine', async () => {
  const [a, b, c] = [await person(A), await person(A), await person(A)];
  const link = (child, guardian) => call('addGuardian', { token: A.session.access, params: { id: child.id }, json: { guardian_id: guardian.id } });
  assert.equal((await link(a, b)).status, 201); // b cares for a
  assert.equal((await link(b, c)).status, 201); // c cares for b
  const direct = await link(b, a); // a would care for its own guardian b
  expectProblem(direct, 422, 'validation-failed');
  assert.equal(direct.body.errors[0].field, 'guardian_id');
  expectProblem(await link(c, a), 422, 'validation-failed'); // a → b → c → a
  // Nothing of the refused links was stored; a link that closes no circle still goes in.
  assert.deepEqual((await ok('listGuardians', 200, { token: A.session.access, params: { id: c.id } })).items, []);
  assert.equal((await link(a, c)).status, 201);
});

test('records: a valid dose is registered with its schedule; the same dose twice is 409', async () => {
  const p = await person(A);
  const r1 = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id) });
  assert.equal(r1.version, 1);
  assert.equal(r1.category, 'routine');
  assert.equal(r1.claimable, true);
  assert.deepEqual(r1.disease_codes, ['diphtheria', 'pertussis', 'tetanus', 'polio', 'hib']);
  assert.equal(r1.source, 'paper');
  const again = await call('createImmunization', { token: A.session.access, json: doseBody(p.id) });
  expectProblem(again, 409, 'conflict');
  const sameDoseOtherDay = await call('createImmunization', { token: A.session.access, json: doseBody(p.id, { vaccinated_on: '2026-08-05' }) });
  expectProblem(sameDoseOtherDay, 409, 'conflict');
});

test('records: DOMAIN.md 6.2 error classes are each refused', async () => {
  const p = await person(A);
  await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id) });
  const cases = [
    ['2nd dose before the 1st', { dose_number: 2, vaccinated_on: '2026-07-31' }, 'vaccinated_on'],
    // issue 17: a dose short of its interval is recorded as 任意 (R-INTERVAL-MIN) and a missing
    // earlier dose is a flag (R-DOSE-PREV-MISSING), not refusals: tests/integration/records_rules_test.c.
    ['lot of another product', { dose_number: 2, vaccinated_on: '2026-08-25', lot_no: 'MR123' }, 'lot_no'],
    ['unknown lot', { dose_number: 2, vaccinated_on: '2026-08-25', lot_no: 'NOPE1' }, 'lot_no'],
    ['expired lot', { dose_number: 2, vaccinated_on: '2026-08-25', lot_no: 'GB002B' }, 'lot_no'],
    ['future date', { dose_number: 2, vaccinated_on: '2099-01-01' }, 'vaccinated_on'],
    ['before birth', { dose_number: 1, vaccinated_on: '2026-05-01', vaccine_code: '631301201', lot_no: null }, 'vaccinated_on'],
    ['fake product 000000000', { dose_number: 2, vaccinated_on: '2026-08-25', vaccine_code: '000000000' }, 'vaccine_code'],
    ['fake institution 0000000000', { dose_number: 2, vaccinated_on: '2026-08-25', institution_code: '0000000000' }, 'institution_code'],
    ['fake institution 000000', { dose_number: 2, vaccinated_on: '2026-08-25', institution_code: '000000' }, 'institution_code'],
    ['institution not in the master', { dose_number: 2, vaccinated_on: '2026-08-25', institution_code: '1311012354' }, 'institution_code'],
  ];
  for (const [name, extra, field] of cases) {
    const r = await call('createImmunization', { token: A.session.access, json: doseBody(p.id, extra) });
    assert.equal(r.status, 422, `${name}: ${r.status} ${r.text}`);
    assert.ok(fields(r).includes(field), `${name}: ${field} not named:\n${reasons(r)}`);
    for (const e of r.body.errors) assert.doesNotMatch(e.reason, /\s{2,}/, `${name}: reason with a run of spaces: ${e.reason}`);
  }
  const dup = await call('createImmunization', { token: A.session.access, json: doseBody(p.id) });
  expectProblem(dup, 409, 'conflict');
  const good = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id, { dose_number: 2, vaccinated_on: '2026-08-25' }) });
  assert.equal(good.dose_number, 2);
  // Age out of range: influenza as 定期 for a 30-year-old is recorded as 任意, not claimable.
  const adult = await person(A, { birth_date: '1996-01-01' });
  const flu = await ok('createImmunization', 201, {
    token: A.session.access,
    json: doseBody(adult.id, { vaccine_code: '631302201', lot_no: 'FLU26A', vaccinated_on: '2026-10-15' }),
  });
  assert.equal(flu.category, 'voluntary');
  assert.equal(flu.requested_category, 'routine');
  assert.equal(flu.claimable, false);
  assert.deepEqual(flu.flags, ['outside_schedule', 'R-WINDOW']);
});

test('records: injected live vaccines need 27 days; HPV for a boy is outside the schedule', async () => {
  const p = await person(A, { birth_date: '2025-06-01' });
  await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id, { vaccine_code: '631300601', lot_no: 'MR123', vaccinated_on: '2026-06-15' }) });
  // Less than 27 days after another injected live vaccine: recorded, but 任意 (issue 17).
  const tooSoon = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id, { vaccine_code: '631301601', lot_no: 'VZ001', vaccinated_on: '2026-07-01' }) });
  assert.equal(tooSoon.category, 'voluntary');
  assert.ok(tooSoon.flags.includes('R-LIVE-INJ-27D'), reasons(tooSoon));
  const p2 = await person(A, { birth_date: '2025-06-01' });
  await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p2.id, { vaccine_code: '631300601', lot_no: 'MR123', vaccinated_on: '2026-06-15' }) });
  const later = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p2.id, { vaccine_code: '631301601', lot_no: 'VZ001', vaccinated_on: '2026-07-20' }) });
  assert.equal(later.claimable, true);
  const boy = await person(A, { birth_date: '2013-01-01', sex: '1' });
  const hpv = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(boy.id, { vaccine_code: '631301901', lot_no: 'HPV9-1', vaccinated_on: '2026-09-01' }) });
  assert.equal(hpv.category, 'voluntary');
  assert.equal(hpv.claimable, false);
  const girl = await person(A, { birth_date: '2013-01-01', sex: '2' });
  const hpv2 = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(girl.id, { vaccine_code: '631301901', lot_no: 'HPV9-1', vaccinated_on: '2026-09-01' }) });
  assert.equal(hpv2.claimable, true);
});

test('records: corrections make versions, voiding needs a reason, history is readable', async () => {
  const p = await person(A);
  const r1 = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id) });
  const stale = await call('correctImmunization', { token: A.session.access, params: { id: r1.id }, json: { version: 9, reason: 'x', lot_no: 'GB001A' } });
  expectProblem(stale, 409, 'conflict');
  assert.match(stale.body.detail, /version 1 is current/, stale.text);
  const badFix = await call('correctImmunization', { token: A.session.access, params: { id: r1.id }, json: { version: 1, reason: '誤入力', lot_no: 'MR123' } });
  expectProblem(badFix, 422, 'validation-failed');
  const fixed = await ok('correctImmunization', 200, { token: A.session.access, params: { id: r1.id }, json: { version: 1, reason: '接種日の誤入力', vaccinated_on: '2026-08-03' } });
  assert.equal(fixed.version, 2);
  assert.equal(fixed.status, 'corrected');
  assert.equal(fixed.vaccinated_on, '2026-08-03');
  const noReason = await call('voidImmunization', { token: A.session.access, params: { id: r1.id }, json: {} });
  expectProblem(noReason, 422, 'validation-failed');
  const other = await call('voidImmunization', { token: B.session.access, params: { id: r1.id }, json: { reason: 'x' } });
  expectProblem(other, 404, 'not-found');
  const staleVoid = await call('voidImmunization', { token: A.session.access, params: { id: r1.id }, json: { reason: 'x', version: 1 } });
  expectProblem(staleVoid, 409, 'conflict');
  assert.match(staleVoid.body.detail, /version 2 is current/, staleVoid.text);
  const voided = await ok('voidImmunization', 200, { token: A.session.access, params: { id: r1.id }, json: { reason: '別人の記録', version: 2 } });
  assert.equal(voided.status, 'voided');
  assert.equal(voided.version, 3);
  // A voided record is there but takes neither a second void nor a correction: 409 (another
  // municipality still gets 404: the record is not theirs).
  const again = await call('voidImmunization', { token: A.session.access, params: { id: r1.id }, json: { reason: '二重' } });
  expectProblem(again, 409, 'conflict');
  const fixVoided = await call('correctImmunization', { token: A.session.access, params: { id: r1.id }, json: { version: 3, reason: 'x', lot_no: 'GB001A' } });
  expectProblem(fixVoided, 409, 'conflict');
  expectProblem(await call('voidImmunization', { token: B.session.access, params: { id: r1.id }, json: { reason: 'x' } }), 404, 'not-found');
  const unknownVoid = await call('voidImmunization', { token: A.session.access, params: { id: crypto.randomUUID() }, json: { reason: 'x' } });
  expectProblem(unknownVoid, 404, 'not-found');
  const h = await ok('getImmunizationHistory', 200, { token: A.session.access, params: { id: r1.id } });
  assert.deepEqual(h.versions.map((v) => v.version), [2, 1]);
  assert.equal(h.current.version, 3);
  assert.equal(h.versions[1].record.vaccinated_on, '2026-08-01');
  // After voiding, the dose can be registered again.
  await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id) });
});

test('records: Idempotency-Key replays the first answer and refuses another request', async () => {
  const p = await person(A);
  const key = `k-${p.id}`;
  const first = await call('createImmunization', { token: A.session.access, json: doseBody(p.id), headers: { 'Idempotency-Key': key } });
  assert.equal(first.status, 201, first.text);
  const replay = await call('createImmunization', { token: A.session.access, json: doseBody(p.id), headers: { 'Idempotency-Key': key } });
  assert.equal(replay.status, 201);
  assert.equal(replay.body.id, first.body.id);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  const other = await call('createImmunization', { token: A.session.access, json: doseBody(p.id, { dose_number: 2 }), headers: { 'Idempotency-Key': key } });
  expectProblem(other, 422, 'validation-failed');
  const badKey = await call('createImmunization', { token: A.session.access, json: doseBody(p.id), headers: { 'Idempotency-Key': 'a b' } });
  expectProblem(badKey, 400, 'bad-request');
});

test('records: an institution identifies a patient by 個人番号, registers, reads past doses', async () => {
  const p = await person(A);
  await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id) });
  const before = await call('createImmunization', { token: I.session.access, json: doseBody(p.id, { dose_number: 2, vaccinated_on: '2026-08-25', institution_code: undefined }) });
  expectProblem(before, 422, 'validation-failed');
  const wrongDob = await call('lookupPerson', { token: I.session.access, json: { my_number: p.my_number, birth_date: '2026-06-02' } });
  expectProblem(wrongDob, 404, 'not-found');
  const who = await ok('lookupPerson', 200, { token: I.session.access, json: { my_number: p.my_number, birth_date: '2026-06-01' } });
  assert.equal(who.id, p.id);
  const past = await ok('listPersonImmunizations', 200, { token: I.session.access, params: { id: p.id } });
  assert.equal(past.items.length, 1);
  const { institution_code: _i, ...body } = doseBody(p.id, { dose_number: 2, vaccinated_on: '2026-08-25' });
  const r2 = await ok('createImmunization', 201, { token: I.session.access, json: body });
  assert.equal(r2.institution_code, I.code);
  assert.equal(r2.source, 'institution');
  const foreignInst = await call('createImmunization', { token: I.session.access, json: doseBody(p.id, { dose_number: 3, vaccinated_on: '2026-09-20' }) });
  expectProblem(foreignInst, 422, 'validation-failed');
  const muniLookup = await call('lookupPerson', { token: A.session.access, json: { my_number: p.my_number, birth_date: '2026-06-01' } });
  expectProblem(muniLookup, 403, 'forbidden');
  const otherMuni = await call('getImmunization', { token: B.session.access, params: { id: r2.id } });
  expectProblem(otherMuni, 404, 'not-found');
});

test('records: bad input', async () => {
  const p = await person(A);
  const r = await call('createImmunization', {
    token: A.session.access,
    json: { ...doseBody(p.id), dose_number: 'one', dose_ml: 'x', category: 'whatever', unknown: true, vaccine_code: '12' },
  });
  expectProblem(r, 422, 'validation-failed');
  for (const f of ['dose_number', 'dose_ml', 'category', 'unknown', 'vaccine_code']) assert.ok(fields(r).includes(f), `${f}:\n${reasons(r)}`);
  const notMine = await call('createImmunization', { token: B.session.access, json: doseBody(p.id) });
  expectProblem(notMine, 422, 'validation-failed');
  const badId = await call('getImmunization', { token: A.session.access, params: { id: 'not-a-uuid' } });
  expectProblem(badId, 404, 'not-found');
  const utf = await request('POST', '/api/v1/immunizations', { token: A.session.access, body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), contentType: 'application/json' });
  expectProblem(utf, 400, 'invalid-json');
  const anon = await request('GET', `/api/v1/immunizations/${p.id}`);
  assert.equal(anon.status, 401);
});

test('records: a person unknown to the caller is 404 on its record list; one of theirs with none is an empty page', async () => {
  const p = await person(A);
  expectProblem(await call('listPersonImmunizations', { token: A.session.access, params: { id: crypto.randomUUID() } }), 404, 'not-found');
  expectProblem(await call('listPersonImmunizations', { token: B.session.access, params: { id: p.id } }), 404, 'not-found');
  // An institution before it identified the person (no care link, no record of its own): 404.
  expectProblem(await call('listPersonImmunizations', { token: I.session.access, params: { id: p.id } }), 404, 'not-found');
  const empty = await ok('listPersonImmunizations', 200, { token: A.session.access, params: { id: p.id } });
  assert.deepEqual(empty.items, []);
  assert.equal(empty.next_cursor, null);
});

test('records: the check and the rule list answer as records.yaml says', async () => {
  const p = await person(A);
  const chk = await ok('checkImmunization', 200, { token: A.session.access, json: doseBody(p.id) });
  assert.equal(chk.outcome, 'recorded', JSON.stringify(chk));
  const hist = await ok('checkImmunization', 200, { token: A.session.access, json: { ...doseBody(p.id), source: 'handbook', lot_no: null, doctor_name: null } });
  assert.ok(['recorded', 'refused'].includes(hist.outcome), JSON.stringify(hist));
  const refused = await ok('checkImmunization', 200, { token: A.session.access, json: doseBody(p.id, { lot_no: 'NO-SUCH-LOT' }) });
  assert.ok(Array.isArray(refused.errors));
  const rules = await ok('listImmunizationRules', 200, { token: A.session.access });
  assert.ok(rules.items.some((x) => x.code === 'R-LOT-REQUIRED'));
  const md = await call('listImmunizationRules', { token: A.session.access, query: { format: 'markdown' } });
  assert.equal(md.status, 200);
  assert.match(md.text, /R-LOT-REQUIRED/);
  expectProblem(await call('listImmunizationRules', { token: A.session.access, query: { as_of: 'yesterday' } }), 422, 'validation-failed');
});
