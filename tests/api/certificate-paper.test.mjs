// H-5-3 in one request: municipality staff enter the doses a paper record shows and issue the
// certificate in the same request (`paper_doses` of POST /api/v1/certificates). The doses go
// through the records API as the caller (source paper, its rules and access log); a refused
// dose is 422 naming it with nothing registered and no certificate; Idempotency-Key replays
// without entering the doses again; bad shapes are refused before anything is written.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { municipality, person, immunization, dateYearsAgo } from './lib/vaccinee.mjs';
import { addMonths, addDays, today } from './lib/dates.mjs';
import { verifyCard } from './lib/shc.mjs';
import { BASE } from './lib/env.mjs';
import { currentLot } from './lib/records.mjs';

let muni, otherMuni;

before(async () => {
  muni = await municipality();
  otherMuni = await municipality();
});

// A resident born two years ago and the MR dose 1 a paper record shows at 13 months, of a lot in
// use around today (the shipped lots expire: the suite runs on any date).
async function resident(name) {
  const birth = dateYearsAgo(2);
  const lot = await currentLot('631300601');
  const q = await person(muni, { name, birth_date: birth, sex: '2' });
  const dose = {
    vaccinated_on: addMonths(birth, 13), vaccine_code: '631300601', dose_number: 1, lot_no: lot,
    institution_code: '1311012346', doctor_name: '医師 花子', category: 'routine',
  };
  return { q, dose };
}

const issue = (json, headers = {}, requestId = undefined) =>
  request('POST', '/api/v1/certificates', { token: muni.access, json, headers, requestId });

async function recordsOf(personId) {
  const r = await request('GET', `/api/v1/persons/${personId}/immunizations`, { token: muni.access });
  assert.equal(r.status, 200, r.text);
  return r.body.items.filter((i) => i.status !== 'voided');
}

async function logOf(personId) {
  const r = await request('GET', `/api/v1/certificates?person_id=${personId}`, { token: muni.access });
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

test('H-5-3: paper doses entered and certified in one request, through the records API', async () => {
  const { q, dose } = await resident('紙一括 花子');
  // A record the municipality holds already (another disease, so the paper MR dose is no duplicate).
  const held = await immunization(q, muni.org.code, { vaccinated_on: addMonths(dateYearsAgo(2), 2), vaccine_code: '182110901', disease_codes: ['covid19'] });
  const c = await issue({
    person_id: q.id, identity_check: { method: 'passport' }, immunization_ids: [held.id], paper_doses: [dose],
  }, {}, `h53-${q.id}`);
  assert.equal(c.status, 201, c.text);
  const recs = await recordsOf(q.id);
  const entered = recs.find((i) => i.source === 'paper');
  assert.ok(entered, 'the paper dose is a record of the records service');
  assert.equal(entered.source, 'paper');
  assert.equal(c.body.doses.length, 2, 'the chosen record and the paper dose');
  const d = c.body.doses.find((x) => x.immunization_id === entered.id);
  assert.equal(d.paper, true);
  assert.equal(d.source, 'paper');
  assert.deepEqual(c.body.records.map((r) => r.id).sort(), [held.id, entered.id].sort());
  const card = await verifyCard(c.body.jws, `${BASE}/shc`);
  const lots = card.bundle.entry.filter((e) => e.resource.resourceType === 'Immunization').map((e) => e.resource.lotNumber);
  assert.ok(lots.includes(await currentLot('631300601')) && lots.includes(held.lot_no), 'the card carries both doses');
  // The records service logged the entry under the same request, as the staff user.
  const log = await request('GET', '/api/v1/access-logs', { token: muni.access, query: { resource_id: entered.id, limit: 200 } });
  assert.equal(log.status, 200, log.text);
  assert.ok(log.body.items.some((e) => e.service === 'records' && e.method === 'POST' && e.request_id === `h53-${q.id}`),
    'the records entry is in the access log, under the issuance request');
});

test('H-5-3: a refused paper dose is 422 naming it; nothing registered, no certificate', async () => {
  const { q, dose } = await resident('紙拒否 花子');
  const bad = { ...dose, vaccinated_on: addDays(today(), 3) };
  const r = await issue({ person_id: q.id, identity_check: { method: 'passport' }, paper_doses: [dose, bad] });
  await expectProblem(r, 422);
  assert.ok(r.body.errors.some((e) => e.field === 'paper_doses[1]'), r.text);
  assert.ok(!r.body.errors.some((e) => e.field === 'paper_doses[0]'), r.text);
  assert.equal((await recordsOf(q.id)).length, 0, 'the good dose was not registered either');
  assert.equal((await logOf(q.id)).length, 0, 'no certificate');
});

test('H-5-3: bad paper_doses are refused before anything is written', async () => {
  const { q, dose } = await resident('紙不正 花子');
  const stranger = await person(otherMuni);
  const cases = [
    [[1], 'paper_doses[0]'],
    [[{ ...dose, person_id: stranger.id }], 'paper_doses[0]'],
    [[{ ...dose, source: 'institution' }], 'paper_doses[0]'],
    [[], 'paper_doses'],
    [Array.from({ length: 21 }, () => dose), 'paper_doses'],
    ['x', 'paper_doses'],
  ];
  for (const [paper, field] of cases) {
    const r = await issue({ person_id: q.id, identity_check: { method: 'passport' }, paper_doses: paper });
    await expectProblem(r, 422);
    assert.ok(r.body.errors?.some((e) => e.field === field), `${JSON.stringify(paper).slice(0, 80)}: ${r.text}`);
  }
  // Another municipality's person: 404 before any dose is entered.
  const r = await issue({ person_id: stranger.id, identity_check: { method: 'passport' }, paper_doses: [dose] });
  await expectProblem(r, 404);
  assert.equal((await recordsOf(q.id)).length, 0);
  const s = await request('GET', `/api/v1/persons/${stranger.id}/immunizations`, { token: otherMuni.access });
  assert.equal(s.status, 200, s.text);
  assert.equal(s.body.items.length, 0, "nothing entered for the other municipality's person");
});

test('H-5-3: under Idempotency-Key a retry replays the certificate and enters no dose again', async () => {
  const { q, dose } = await resident('紙再送 花子');
  const key = `h53-${q.id}`;
  const body = { person_id: q.id, identity_check: { method: 'my_number_card' }, paper_doses: [dose] };
  const a = await issue(body, { 'Idempotency-Key': key });
  assert.equal(a.status, 201, a.text);
  const b = await issue(body, { 'Idempotency-Key': key });
  assert.equal(b.status, 201, b.text);
  assert.equal(b.body.id, a.body.id);
  assert.equal((await recordsOf(q.id)).length, 1, 'the dose once');
  assert.equal((await logOf(q.id)).length, 1, 'one certificate');
});
