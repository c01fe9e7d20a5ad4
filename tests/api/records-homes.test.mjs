// records-homes.test.mjs - a person's partition found from their id (records migration 052):
// records.person_homes maps each person to their current municipality, the partition of
// records.persons they are in. It follows a move (転入) in the move's own transaction, a move
// that fails leaves it as it was, and the service's reads by id open the one partition it names
// (the statements' own text, run as the service runs them: a generic plan).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { call, ok } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { municipality, institution, person, doseBody, ensureLots } from './lib/records.mjs';
import { today } from './lib/dates.mjs';
import { psql, lit } from './lib/sql.mjs';

let A, B, C, I;
test.before(async () => {
  [A, B, C, I] = await Promise.all([municipality(), municipality(), municipality(), institution()]);
  await ensureLots();
});

// The map's row of a person, and whether the person's row is in the partition of that code.
async function home(id) {
  const { rows } = await psql(
    `SELECT h.muni_code, p.muni_code, p.tableoid::regclass::text FROM records.person_homes h ` +
      `LEFT JOIN records.persons p ON p.id = h.id WHERE h.id = ${lit(id)}`,
  );
  assert.equal(rows.length, 1, `one map row for ${id}: ${JSON.stringify(rows)}`);
  const [mapped, actual, part] = rows[0];
  assert.equal(mapped, actual, `the map says ${mapped}, the person is in ${actual} (${part})`);
  return mapped;
}

// A statement of services/records/sql/<file>.sql by name, as the service prepares it.
function statement(file, name) {
  const text = readFileSync(new URL(`../../services/records/sql/${file}.sql`, import.meta.url), 'utf8');
  const start = text.indexOf(`-- name: ${name}\n`);
  assert.ok(start >= 0, `${name} in ${file}.sql`);
  const end = text.indexOf('\n-- name: ', start + 1);
  return text
    .slice(start, end < 0 ? undefined : end)
    .trim()
    .replace(/;$/, '');
}

// EXPLAIN ANALYZE of a statement with a generic plan (what the service's prepared statements
// end up with): how many of the table's partitions (records.persons by default) ran, and how
// many were left (pruned when the executor started, or set up and never executed).
async function partitionsRead(file, name, args, table = 'persons') {
  const { rows } = await psql(
    `BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; PREPARE s AS ${statement(file, name)}; ` +
      `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE s(${args.map((a) => (a === null ? 'NULL' : lit(a))).join(', ')}); ` +
      `ROLLBACK;`,
  );
  const plan = rows.map((r) => r[0]);
  const scans = plan.filter((l) => new RegExp(` on ${table}_p\\d\\d `).test(l) && !/^\s*Update on/.test(l));
  const never = scans.filter((l) => l.includes('(never executed)')).length;
  // Pruned when the executor starts: the partitions are not in the plan's tree at all.
  const removed = plan.reduce((n, l) => n + Number(/Subplans Removed: (\d+)/.exec(l)?.[1] ?? 0), 0);
  return { ran: scans.length - never, left: never + removed, plan: plan.join('\n') };
}

test('person_homes: follows each move in its transaction, a failed move leaves it; reads by id find the person where they live', async () => {
  const p = await person(A);
  const rec = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id) });
  assert.equal(await home(p.id), A.code);

  await ok('moveInPerson', 200, {
    token: B.session.access,
    json: { my_number: p.my_number, birth_date: p.birth_date, resident_no: `B-${p.resident_no}`, address: '新住所', moved_on: today() },
  });
  assert.equal(await home(p.id), B.code);
  const inB = await ok('getPerson', 200, { token: B.session.access, params: { id: p.id }, query: { include: 'immunizations' } });
  assert.equal(inB.relationship, 'resident');
  assert.equal(inB.muni_code, B.code);
  assert.deepEqual(
    inB.immunizations.map((i) => i.id),
    [rec.id],
  );
  const inA = await ok('getPerson', 200, { token: A.session.access, params: { id: p.id } });
  assert.equal(inA.relationship, 'former_resident');
  expectProblem(await call('patchPerson', { token: A.session.access, params: { id: p.id }, json: { address: 'x' } }), 404, 'not-found');
  expectProblem(await call('getPerson', { token: C.session.access, params: { id: p.id } }), 404, 'not-found');
  const found = await ok('lookupPerson', 200, { token: I.session.access, json: { my_number: p.my_number, birth_date: p.birth_date } });
  assert.equal(found.muni_code, B.code);
  // A dose registered after the move names the person's new municipality (048's person_muni,
  // read from the map by the write's person check and the rule check).
  const later = await ok('createImmunization', 201, {
    token: B.session.access,
    json: doseBody(p.id, { dose_number: 2, vaccinated_on: '2026-09-01' }),
  });
  const { rows: pm } = await psql(`SELECT person_muni FROM records.immunizations WHERE id = ${lit(later.id)}`);
  assert.deepEqual(pm, [[B.code]]);

  // A move into C that fails (C's resident number already taken) rolls the map back with it.
  const other = await person(C);
  const clash = await call('moveInPerson', {
    token: C.session.access,
    json: { my_number: p.my_number, birth_date: p.birth_date, resident_no: other.resident_no, address: '別住所', moved_on: today() },
  });
  expectProblem(clash, 409);
  assert.equal(await home(p.id), B.code);
  // and one that succeeds moves it again; both former municipalities see a former resident.
  await ok('moveInPerson', 200, {
    token: C.session.access,
    json: { my_number: p.my_number, birth_date: p.birth_date, resident_no: `C-${p.resident_no}`, address: '新新住所', moved_on: today() },
  });
  assert.equal(await home(p.id), C.code);
  for (const who of [A, B]) {
    const former = await ok('getPerson', 200, { token: who.session.access, params: { id: p.id } });
    assert.equal(former.relationship, 'former_resident');
  }
  assert.equal((await ok('getPerson', 200, { token: C.session.access, params: { id: p.id } })).relationship, 'resident');
});

test('person_homes: the reads of a person by id open one partition of records.persons', async () => {
  const p = await person(A);
  await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id) });
  await ok('moveInPerson', 200, {
    token: B.session.access,
    json: { my_number: p.my_number, birth_date: p.birth_date, resident_no: `B-${p.resident_no}`, address: '新住所', moved_on: today() },
  });
  const {
    rows: [[hash]],
  } = await psql(`SELECT my_number_hash FROM records.persons WHERE id = ${lit(p.id)}`);
  const cases = [
    ['persons', 'rec_person_get', [p.id, A.code]],
    ['persons', 'rec_person_get_records', [p.id, B.code, 201]],
    ['persons', 'rec_person_lookup', [hash, p.birth_date, '00000000-0000-0000-0000-000000000000']],
    ['immunizations', 'rec_imm_person_for_write', [p.id, B.code, null]],
    ['immunizations', 'rec_imm_person_known', ['muni', A.code, null, null, p.id]],
    ['self', 'rec_self_child_get', [p.id]],
    ['fhir', 'rec_fhir_patient_get', [p.id]],
  ];
  for (const [file, name, args] of cases) {
    const { ran, left, plan } = await partitionsRead(file, name, args);
    assert.equal(ran, 1, `${name}: persons partitions read\n${plan}`);
    assert.ok(left >= 15, `${name}: ${left} partitions left unread\n${plan}`);
  }
});

test('immunization_homes: the reads of a record by id open one partition of records.immunizations (records 053)', async () => {
  const p = await person(A);
  const rec = await ok('createImmunization', 201, { token: A.session.access, json: doseBody(p.id) });
  const cases = [
    ['immunizations', 'rec_imm_get_muni', [rec.id, A.code]],
    ['immunizations', 'rec_imm_get_mhlw', [rec.id]],
    ['immunizations', 'rec_imm_history', ['muni', A.code, null, null, rec.id]],
    ['immunizations', 'rec_imm_for_correction', [rec.id, A.code, null]],
    ['immunizations', 'rec_imm_void_lock', [rec.id, A.code, null]],
  ];
  for (const [file, name, args] of cases) {
    const { ran, left, plan } = await partitionsRead(file, name, args, 'immunizations');
    assert.equal(ran, 1, `${name}: immunizations partitions read\n${plan}`);
    assert.ok(left >= 15, `${name}: ${left} partitions left unread\n${plan}`);
  }
});
