// fhir.test.mjs - the FHIR R4 interface (JP-Core) of the records service, queried with
// fhir-kit-client and every resource validated with the `fhir` library: Patient read,
// Immunization search by patient, date (eq/ge/le/gt/lt, partial dates, ranges), vaccine-code,
// lot-number, identifier, status, paging; ImmunizationRecommendation due and overdue from the
// schedule master. Authorisation as the staff queries: a municipality reads its residents (its
// API client with records:read too), a vaccinee its family; anything else 404 or an empty Bundle.
// Errors of the FHIR handlers are OperationOutcome; answers are checked against fhir.yaml.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'fhir-kit-client';
import { Fhir } from 'fhir';
import { BASE } from './lib/env.mjs';
import { request, call } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { orgWithAdmin } from './lib/fixtures.mjs';
import { municipality, person, portal, linkGuardian, immunization, vaccineeToken, dateYearsAgo } from './lib/vaccinee.mjs';

const fhir = new Fhir();
let muni, otherMuni, alice, baby, bob, p, vtok, recs, clientTok;

// A FHIR client with a bearer token.
function client(token) {
  return new Client({ baseUrl: `${BASE}/fhir`, customHeaders: token ? { Authorization: `Bearer ${token}` } : {} });
}

// Valid R4 with no error and no unexpected property.
function valid(resource) {
  const r = fhir.validate(resource);
  const bad = r.messages.filter((m) => m.severity === 'error' || /Unexpected property/.test(m.message));
  assert.ok(r.valid && bad.length === 0, `${resource.resourceType} invalid: ${JSON.stringify(bad)}`);
  return resource;
}

function validBundle(b) {
  valid(b);
  assert.equal(b.resourceType, 'Bundle');
  assert.equal(b.type, 'searchset');
  for (const e of b.entry ?? []) {
    valid(e.resource);
    assert.equal(e.fullUrl, `${BASE}/fhir/${e.resource.resourceType}/${e.resource.id}`);
  }
  const self = (b.link ?? []).find((l) => l.relation === 'self');
  assert.ok(self && self.url.startsWith(`${BASE}/fhir/`), `no self link: ${JSON.stringify(b.link)}`);
  return b;
}

// Follow every fullUrl and every link of a searchset with the FHIR client itself (absolute
// references it resolves against its base): each entry reads back as the same resource, the
// self link answers the same page, next the page after.
async function followAll(c, b) {
  for (const e of b.entry ?? []) {
    const got = valid(await c.resolve({ reference: e.fullUrl }));
    // A recommendation is computed at each answer: its date is the time of the answer.
    const strip = (x) => (x.resourceType === 'ImmunizationRecommendation' ? { ...x, date: undefined } : x);
    assert.deepEqual(strip(got), strip(e.resource), `${e.fullUrl} reads back as another resource`);
  }
  for (const l of b.link ?? []) {
    const page = validBundle(await c.resolve({ reference: l.url }));
    if (l.relation === 'self') {
      assert.deepEqual((page.entry ?? []).map((e) => e.fullUrl), (b.entry ?? []).map((e) => e.fullUrl));
    }
  }
}

async function status(promise) {
  try {
    await promise;
    return 200;
  } catch (e) {
    return e.response?.status ?? e.status ?? -1;
  }
}

before(async () => {
  muni = await municipality();
  otherMuni = await municipality();
  alice = await person(muni, { birth_date: dateYearsAgo(30), sex: '2' });
  baby = await person(muni, { birth_date: dateYearsAgo(0, 200) }); // about 6.5 months old
  bob = await person(otherMuni);
  await linkGuardian(muni, baby, alice);
  recs = [
    await immunization(alice, muni.org.code, { vaccine_code: '182110901', disease_codes: ['covid19'], vaccinated_on: '2025-10-01', lot_no: 'FK0001' }),
    await immunization(alice, muni.org.code, { vaccine_code: '631302201', disease_codes: ['flu'], vaccinated_on: '2025-11-15', lot_no: 'FLU99' }),
    await immunization(alice, muni.org.code, { vaccine_code: '182110901', disease_codes: ['covid19'], vaccinated_on: '2025-12-20', status: 'voided' }),
    // The baby: Hib dose 1 at two months; dose 2 of Hib is then due, as are others.
    await immunization(baby, muni.org.code, { vaccine_code: '631300901', disease_codes: ['hib'], vaccinated_on: dateYearsAgo(0, 140), dose_number: 1 }),
  ];
  await immunization(bob, otherMuni.org.code, { lot_no: 'FK0001', vaccine_code: '182110901', disease_codes: ['covid19'] });
  p = await portal();
  vtok = await vaccineeToken(p, alice);
  const admin = muni;
  const c = await request('POST', '/api/v1/api-clients', { token: admin.access, json: { name: `hms-${Date.now()}`, scopes: ['records:read'] } });
  assert.equal(c.status, 201, c.text);
  const t = await request('POST', '/oauth2/token', {
    body: 'grant_type=client_credentials',
    contentType: 'application/x-www-form-urlencoded',
    headers: { Authorization: `Basic ${Buffer.from(`${c.body.id}:${c.body.client_secret}`).toString('base64')}` },
  });
  assert.equal(t.status, 200, t.text);
  clientTok = t.body.access_token;
});

test('metadata: a valid CapabilityStatement, public', async () => {
  const cs = await client().capabilityStatement();
  valid(cs);
  assert.equal(cs.fhirVersion, '4.0.1');
  const r = await call('fhirMetadata', {});
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/fhir\+json/);
});

test('Patient read: staff of the municipality, its API client, the vaccinee and guardian; others 404', async () => {
  for (const tok of [muni.access, clientTok, vtok]) {
    const pat = valid(await client(tok).read({ resourceType: 'Patient', id: alice.id }));
    assert.equal(pat.id, alice.id);
    assert.equal(pat.gender, 'female');
    assert.equal(pat.birthDate, alice.birth_date);
    assert.ok(pat.meta.profile[0].endsWith('JP_Patient'));
    assert.deepEqual(pat.name.map((n) => n.text), [alice.name, alice.name_kana]);
    assert.ok(!JSON.stringify(pat).includes(alice.my_number));
  }
  valid(await client(vtok).read({ resourceType: 'Patient', id: baby.id }));
  // Another municipality's resident, and a stranger to the vaccinee.
  assert.equal(await status(client(muni.access).read({ resourceType: 'Patient', id: bob.id })), 404);
  assert.equal(await status(client(vtok).read({ resourceType: 'Patient', id: bob.id })), 404);
  const r = await call('fhirReadPatient', { token: muni.access, params: { id: bob.id } });
  assert.equal(r.status, 404);
  valid(r.body);
  assert.equal(r.body.resourceType, 'OperationOutcome');
  assert.equal(r.body.issue[0].code, 'not-found');
  assert.equal((await call('fhirReadPatient', { token: muni.access, params: { id: 'not-a-uuid' } })).status, 404);
  // _format: JSON only (R4 http.html: an unsupported format is 406 Not Acceptable).
  assert.equal((await call('fhirReadPatient', { token: muni.access, params: { id: alice.id }, query: { _format: 'xml' } })).status, 406);
  assert.equal((await call('fhirReadPatient', { token: muni.access, params: { id: alice.id }, query: { _format: 'nonsense' } })).status, 400);
  assert.equal((await call('fhirReadPatient', { token: muni.access, params: { id: alice.id }, query: { foo: 'bar' } })).status, 400);
});

test('who has no FHIR access: 403 OperationOutcome; no token: 401 problem', async () => {
  const inst = (await orgWithAdmin('medical_institution')).adminSession;
  const r = await call('fhirSearchImmunization', { token: inst.access, query: { patient: alice.id } });
  assert.equal(r.status, 403);
  valid(r.body);
  expectProblem(await call('fhirSearchImmunization', { query: { patient: alice.id } }), 401, 'unauthorized');
  expectProblem(await call('fhirReadPatient', { params: { id: alice.id } }), 401, 'unauthorized');
});

test('Immunization search by patient: a valid searchset of JP_Immunization, voided as entered-in-error', async () => {
  const b = validBundle(await client(muni.access).search({ resourceType: 'Immunization', searchParams: { patient: `Patient/${alice.id}` } }));
  assert.equal(b.total, 3);
  const byId = Object.fromEntries(b.entry.map((e) => [e.resource.id, e.resource]));
  const covid = byId[recs[0].id];
  assert.equal(covid.status, 'completed');
  // The current JP-Core system (HOT9 of MEDIS), then the OID of JP-Core 1.1 for the same code.
  assert.equal(covid.vaccineCode.coding[0].system, 'http://medis.or.jp/CodeSystem/master-HOT9');
  assert.equal(covid.vaccineCode.coding[0].code, '182110901');
  assert.deepEqual(covid.vaccineCode.coding[1], { ...covid.vaccineCode.coding[0], system: 'urn:oid:1.2.392.200119.4.403.1' });
  assert.equal(covid.vaccineCode.coding[0].display, 'コミナティ筋注');
  assert.equal(covid.occurrenceDateTime, '2025-10-01');
  assert.equal(covid.lotNumber, 'FK0001');
  assert.equal(covid.patient.reference, `Patient/${alice.id}`);
  assert.equal(covid.protocolApplied[0].doseNumberPositiveInt, 1);
  assert.equal(covid.protocolApplied[0].targetDisease[0].coding[0].code, 'covid19');
  assert.deepEqual(covid.doseQuantity, { value: 0.5, unit: 'mL', system: 'http://unitsofmeasure.org', code: 'mL' });
  assert.equal(byId[recs[2].id].status, 'entered-in-error');
  // The same through the contract check.
  const r = await call('fhirSearchImmunization', { token: muni.access, query: { patient: alice.id } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/fhir\+json/);
});

test('date with prefixes, partial dates and ranges; vaccine-code; lot-number; identifier; status', async () => {
  const c = client(muni.access);
  const ids = async (params) => (validBundle(await c.search({ resourceType: 'Immunization', searchParams: { patient: alice.id, ...params } })).entry ?? []).map((e) => e.resource.id).sort();
  const [r0, r1, r2] = recs.map((x) => x.id);
  assert.deepEqual(await ids({ date: '2025-10-01' }), [r0]);
  assert.deepEqual(await ids({ date: 'eq2025-11' }), [r1]);
  assert.deepEqual(await ids({ date: '2025' }), [r0, r1, r2].sort());
  assert.deepEqual(await ids({ date: 'ge2025-11-15' }), [r1, r2].sort());
  assert.deepEqual(await ids({ date: 'gt2025-11-15' }), [r2]);
  assert.deepEqual(await ids({ date: 'le2025-11-15' }), [r0, r1].sort());
  assert.deepEqual(await ids({ date: 'lt2025-11-15' }), [r0]);
  assert.deepEqual(await ids({ date: ['ge2025-10-02', 'le2025-12-19'] }), [r1]);
  assert.deepEqual(await ids({ 'vaccine-code': '182110901' }), [r0, r2].sort());
  assert.deepEqual(await ids({ 'vaccine-code': 'urn:oid:1.2.392.200119.4.403.1|631302201' }), [r1]);
  assert.deepEqual(await ids({ 'vaccine-code': 'http://medis.or.jp/CodeSystem/master-HOT9|631302201' }), [r1]);
  assert.deepEqual(await ids({ 'vaccine-code': 'http://medis.or.jp/CodeSystem/master-HOT13|631302201' }), []);
  assert.deepEqual(await ids({ 'vaccine-code': 'http://other.example|631302201' }), []);
  assert.deepEqual(await ids({ 'lot-number': 'FLU99' }), [r1]);
  assert.deepEqual(await ids({ identifier: `urn:ietf:rfc:3986|urn:uuid:${r1}` }), [r1]);
  assert.deepEqual(await ids({ identifier: `urn:uuid:${r0}` }), [r0]);
  assert.deepEqual(await ids({ status: 'completed' }), [r0, r1].sort());
  assert.deepEqual(await ids({ status: 'entered-in-error' }), [r2]);
  assert.deepEqual(await ids({ status: 'not-done' }), []);
  assert.deepEqual(await ids({ status: 'completed,entered-in-error' }), [r0, r1, r2].sort());
  // Recall by lot across the municipality: only its own residents (bob's dose of FK0001 is not).
  const lot = validBundle(await c.search({ resourceType: 'Immunization', searchParams: { 'lot-number': 'FK0001' } }));
  assert.ok(lot.entry.every((e) => e.resource.patient.reference !== `Patient/${bob.id}`));
  assert.ok(lot.entry.some((e) => e.resource.id === r0));
});

test('paging with _count and the next link (fhir-kit-client nextPage)', async () => {
  const c = client(muni.access);
  const first = validBundle(await c.search({ resourceType: 'Immunization', searchParams: { patient: alice.id, _count: 2 } }));
  assert.equal(first.entry.length, 2);
  assert.equal(first.total, 3);
  const next = first.link.find((l) => l.relation === 'next');
  assert.ok(next, 'no next link');
  const second = validBundle(await c.nextPage({ bundle: first }));
  assert.equal(second.entry.length, 1);
  const all = [...first.entry, ...second.entry].map((e) => e.resource.id).sort();
  assert.deepEqual(all, recs.slice(0, 3).map((r) => r.id).sort());
  assert.equal(second.link.find((l) => l.relation === 'next'), undefined);
  assert.equal(second.link.find((l) => l.relation === 'self').url, next.url);
});

test('the vaccinee searches its family only; another person gives an empty Bundle', async () => {
  const c = client(vtok);
  const mine = validBundle(await c.search({ resourceType: 'Immunization', searchParams: {} }));
  const patients = new Set(mine.entry.map((e) => e.resource.patient.reference));
  assert.deepEqual([...patients].sort(), [`Patient/${alice.id}`, `Patient/${baby.id}`].sort());
  const none = validBundle(await c.search({ resourceType: 'Immunization', searchParams: { patient: bob.id } }));
  assert.equal(none.total, 0);
  assert.equal((none.entry ?? []).length, 0);
  const staff = validBundle(await client(muni.access).search({ resourceType: 'Immunization', searchParams: { patient: bob.id } }));
  assert.equal(staff.total, 0);
});

test('bad search parameters are 400 OperationOutcome', async () => {
  const bad = [
    { foo: 'bar' },
    { patient: 'Patient/not-a-uuid' },
    { date: 'xx2025-01-01' },
    { date: '2025-13-01' },
    { date: '2025-02-30' },
    { date: ['ge2025', 'le2026', 'gt2020', 'lt2030', 'eq2025'] },
    { 'vaccine-code': "1' OR '1'='1" },
    { identifier: 'urn:uuid:nope' },
    { status: 'finished' },
    { _count: '0' },
    { _count: '201' },
    { _cursor: 'garbage' },
    { 'lot-number': 'x'.repeat(21) },
    { patient: '' },
  ];
  for (const q of bad) {
    const query = Object.entries(q).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]));
    const r = await call('fhirSearchImmunization', { token: muni.access, query });
    assert.equal(r.status, 400, `${JSON.stringify(q)}: ${r.status} ${r.text}`);
    valid(r.body);
    assert.equal(r.body.resourceType, 'OperationOutcome');
  }
  // Only date may repeat.
  const r = await call('fhirSearchImmunization', { token: muni.access, query: [['patient', alice.id], ['patient', bob.id]] });
  assert.equal(r.status, 400);
});

test('ImmunizationRecommendation: due and overdue from the schedule master', async () => {
  const b = validBundle(await client(muni.access).search({ resourceType: 'ImmunizationRecommendation', searchParams: { patient: baby.id } }));
  assert.equal(b.total, 1);
  const rec = b.entry[0].resource;
  assert.equal(rec.patient.reference, `Patient/${baby.id}`);
  const by = (d, n) => rec.recommendation.find((x) => x.targetDisease.coding[0].code === d && x.doseNumberPositiveInt === n);
  // Hib dose 1 is recorded: dose 1 is not recommended, dose 2 is due.
  assert.equal(by('hib', 1), undefined);
  const hib2 = by('hib', 2);
  assert.ok(hib2, JSON.stringify(rec.recommendation.map((x) => [x.targetDisease.coding[0].code, x.doseNumberPositiveInt])));
  assert.equal(hib2.forecastStatus.coding[0].code, 'due');
  assert.ok(rec.recommendation.some((x) => x.vaccineCode === undefined || x.vaccineCode[0].coding[0].system.startsWith('http://')));
  for (const x of rec.recommendation) {
    assert.ok(['due', 'overdue'].includes(x.forecastStatus.coding[0].code));
    assert.ok(x.dateCriterion[0].value <= new Date().toISOString().slice(0, 10));
  }
  // BCG (結核) closes at one year: due for a 6-month-old.
  assert.equal(by('tb', 1)?.forecastStatus.coding[0].code, 'due');
  // The vaccinee (guardian) gets the same; a stranger's is an empty Bundle.
  const v = validBundle(await client(vtok).search({ resourceType: 'ImmunizationRecommendation', searchParams: { patient: baby.id } }));
  assert.deepEqual(v.entry[0].resource.recommendation, rec.recommendation);
  const none = validBundle(await client(vtok).search({ resourceType: 'ImmunizationRecommendation', searchParams: { patient: bob.id } }));
  assert.equal(none.total, 0);
  // Bad inputs.
  for (const query of [{}, { patient: 'nope' }, { patient: baby.id, date: '2025' }]) {
    const r = await call('fhirSearchImmunizationRecommendation', { token: muni.access, query });
    assert.equal(r.status, 400, r.text);
    valid(r.body);
  }
});

test('overdue: a window that closed without the dose within the last year', async () => {
  // A child who just turned 91 months: 5種混合 (diphtheria etc.) closed at 90 months, never given.
  const d = new Date();
  d.setUTCMonth(d.getUTCMonth() - 91);
  const late = await person(muni, { birth_date: d.toISOString().slice(0, 10) });
  const b = validBundle(await client(muni.access).search({ resourceType: 'ImmunizationRecommendation', searchParams: { patient: late.id } }));
  const diph = b.entry[0].resource.recommendation.find((x) => x.targetDisease.coding[0].code === 'diphtheria' && x.doseNumberPositiveInt === 1);
  assert.ok(diph, 'no diphtheria dose 1');
  assert.equal(diph.forecastStatus.coding[0].code, 'overdue');
});

test('every fullUrl and link of every search reads back (fhir-kit-client), for staff, API client and vaccinee', async () => {
  for (const tok of [muni.access, clientTok, vtok]) {
    const c = client(tok);
    for (const [resourceType, searchParams] of [
      ['Immunization', { patient: alice.id, _count: 2 }],
      ['Immunization', { patient: baby.id }],
      ['Patient', { identifier: alice.resident_no }],
      ['ImmunizationRecommendation', { patient: baby.id }],
    ]) {
      const b = validBundle(await c.search({ resourceType, searchParams }));
      assert.ok((b.entry ?? []).length > 0, `${resourceType} ${JSON.stringify(searchParams)}: nothing`);
      await followAll(c, b);
      if (b.link.some((l) => l.relation === 'next')) await followAll(c, validBundle(await c.nextPage({ bundle: b })));
    }
  }
  // Not yours: a read of another municipality's record or person is 404 OperationOutcome.
  const bobs = validBundle(await client(otherMuni.access).search({ resourceType: 'Immunization', searchParams: { patient: bob.id } }));
  const bobRec = bobs.entry[0].resource.id;
  for (const [tok, what] of [[muni.access, 'staff'], [vtok, 'vaccinee'], [clientTok, 'client']]) {
    for (const [op, id] of [['fhirReadImmunization', bobRec], ['fhirReadImmunizationRecommendation', bob.id], ['fhirReadPatient', bob.id]]) {
      const r = await call(op, { token: tok, params: { id } });
      assert.equal(r.status, 404, `${what} ${op}: ${r.status}`);
      assert.equal(r.body.resourceType, 'OperationOutcome');
    }
  }
  const inst = (await orgWithAdmin('medical_institution')).adminSession;
  assert.equal((await call('fhirReadImmunization', { token: inst.access, params: { id: recs[0].id } })).status, 403);
  expectProblem(await call('fhirReadImmunization', { params: { id: recs[0].id } }), 401, 'unauthorized');
});

test('reads carry ETag = W/"versionId"; If-None-Match answers 304', async () => {
  for (const [op, id] of [['fhirReadImmunization', recs[0].id], ['fhirReadPatient', alice.id], ['fhirReadImmunizationRecommendation', baby.id]]) {
    const r = await call(op, { token: muni.access, params: { id } });
    assert.equal(r.status, 200, r.text);
    const etag = r.headers.get('etag');
    assert.match(etag, /^W\/"[^"]+"$/);
    if (r.body.meta?.versionId) assert.equal(etag, `W/"${r.body.meta.versionId}"`);
    const same = await call(op, { token: muni.access, params: { id }, headers: { 'If-None-Match': etag } });
    assert.equal(same.status, 304);
    assert.equal(same.text, '');
    assert.equal(same.headers.get('etag'), etag);
    assert.equal(same.headers.get('content-length'), null, 'a 304 carries no Content-Length (RFC 9110 8.6)');
    const strong = await call(op, { token: muni.access, params: { id }, headers: { 'If-None-Match': `"x", ${etag.slice(2)}` } });
    assert.equal(strong.status, 304);
    const other = await call(op, { token: muni.access, params: { id }, headers: { 'If-None-Match': 'W/"999999"' } });
    assert.equal(other.status, 200);
  }
  // meta.versionId is the record's version (1 for a record never corrected).
  const imm = await call('fhirReadImmunization', { token: muni.access, params: { id: recs[1].id } });
  assert.equal(imm.body.meta.versionId, '1');
  assert.equal(imm.headers.get('etag'), 'W/"1"');
  // Another caller's If-None-Match on a record not theirs is still 404, never 304.
  const probe = await call('fhirReadImmunization', { token: otherMuni.access, params: { id: recs[0].id }, headers: { 'If-None-Match': '*' } });
  assert.equal(probe.status, 404);
});

test('unknown FHIR paths and methods answer OperationOutcome (fhir+json), not problem+json', async () => {
  const cases = [
    ['GET', '/fhir/Observation', 404],
    ['GET', '/fhir/Observation/123', 404],
    ['GET', `/fhir/Patient/${alice.id}/_history/1`, 404],
    ['GET', '/fhir/', 404],
    ['GET', '/fhir/metadata/x', 404],
    ['POST', '/fhir/Immunization', 405],
    ['PUT', `/fhir/Patient/${alice.id}`, 405],
    ['DELETE', `/fhir/Immunization/${recs[0].id}`, 405],
  ];
  for (const [method, p, st] of cases) {
    for (const token of [muni.access, undefined]) {
      const r = await request(method, p, { token, json: method === 'GET' || method === 'DELETE' ? undefined : { resourceType: 'Patient' } });
      assert.equal(r.status, st, `${method} ${p}: ${r.status} ${r.text}`);
      assert.match(r.headers.get('content-type'), /^application\/fhir\+json/, `${method} ${p}`);
      valid(r.body);
      assert.equal(r.body.resourceType, 'OperationOutcome');
      if (st === 405) assert.equal(r.headers.get('allow'), 'GET, HEAD');
    }
  }
  const head = await request('HEAD', '/fhir/metadata');
  assert.equal(head.status, 200);
  assert.match(head.headers.get('content-type'), /^application\/fhir\+json/);
});

test('general parameters: _format, _pretty, _summary, _elements as R4 says', async () => {
  const c = client(muni.access);
  for (const f of ['json', 'application/json', 'application/fhir+json']) {
    const r = await call('fhirReadPatient', { token: muni.access, params: { id: alice.id }, query: { _format: f } });
    assert.equal(r.status, 200, `${f}: ${r.text}`);
  }
  for (const [q, st] of [[{ _format: 'xml' }, 406], [{ _format: 'application/fhir+xml' }, 406], [{ _format: 'x' }, 400], [{ _pretty: 'yes' }, 400], [{ _summary: 'all' }, 400], [{ _elements: 'a,,b' }, 400], [{ _summary: 'count', _format: 'ttl' }, 406]]) {
    const r = await call('fhirSearchImmunization', { token: muni.access, query: { patient: alice.id, ...q } });
    assert.equal(r.status, st, `${JSON.stringify(q)}: ${r.text}`);
    valid(r.body);
  }
  const xmlOnly = await call('fhirReadPatient', { token: muni.access, params: { id: alice.id }, accept: 'application/fhir+xml' });
  assert.equal(xmlOnly.status, 406);
  const pretty = await call('fhirReadPatient', { token: muni.access, params: { id: alice.id }, query: { _pretty: 'true' } });
  assert.match(pretty.text, /\n  "resourceType"/);
  assert.doesNotMatch((await call('fhirReadPatient', { token: muni.access, params: { id: alice.id } })).text, /\n/);
  // _summary=count: the total, no entries.
  const count = validBundle(await c.search({ resourceType: 'Immunization', searchParams: { patient: alice.id, _summary: 'count' } }));
  assert.equal(count.total, 3);
  assert.equal(count.entry, undefined);
  // _elements: what was asked and the mandatory elements, tagged SUBSETTED, still valid R4.
  const el = validBundle(await c.search({ resourceType: 'Immunization', searchParams: { patient: alice.id, _elements: 'lotNumber' } }));
  for (const { resource: x } of el.entry) {
    const allowed = ['id', 'lotNumber', 'meta', 'occurrenceDateTime', 'patient', 'resourceType', 'status', 'vaccineCode'];
    assert.deepEqual(Object.keys(x).filter((k) => !allowed.includes(k)), [], JSON.stringify(x));
    for (const k of ['status', 'vaccineCode', 'patient', 'occurrenceDateTime']) assert.ok(k in x, k);
    assert.ok(x.meta.tag.some((t) => t.code === 'SUBSETTED'));
  }
  // _summary=true on a read: the summary elements; Immunization keeps no doseQuantity.
  const sum = valid((await call('fhirReadImmunization', { token: muni.access, params: { id: recs[0].id }, query: { _summary: 'true' } })).body);
  assert.equal(sum.doseQuantity, undefined);
  assert.equal(sum.vaccineCode.coding[0].code, '182110901');
  assert.ok(sum.meta.tag.some((t) => t.code === 'SUBSETTED'));
  const full = valid((await call('fhirReadImmunization', { token: muni.access, params: { id: recs[0].id }, query: { _summary: 'false' } })).body);
  assert.ok(full.doseQuantity);
  assert.equal(full.meta.tag, undefined);
});

test('Patient search: identifier (JP-Core SHALL), name, family, given, birthdate, gender; within the caller reach', async () => {
  const c = client(muni.access);
  const ids = async (tc, searchParams) => (validBundle(await tc.search({ resourceType: 'Patient', searchParams })).entry ?? []).map((e) => e.resource.id).sort();
  assert.deepEqual(await ids(c, { identifier: alice.resident_no }), [alice.id]);
  assert.deepEqual(await ids(c, { identifier: `urn:sesshu:resident-no:${alice.muni_code}|${alice.resident_no}` }), [alice.id]);
  assert.deepEqual(await ids(c, { identifier: `urn:sesshu:resident-no:${bob.muni_code}|${alice.resident_no}` }), []);
  assert.deepEqual(await ids(c, { identifier: bob.resident_no }), [], 'another municipality resident');
  const [family, given] = alice.name.split(' ');
  assert.ok((await ids(c, { name: family, birthdate: alice.birth_date })).includes(alice.id));
  assert.ok((await ids(c, { name: alice.name.replace(' ', '') , gender: 'female' })).includes(alice.id));
  assert.ok((await ids(c, { family, given, birthdate: alice.birth_date.slice(0, 7) })).includes(alice.id));
  assert.ok((await ids(c, { name: alice.name_kana.slice(0, 3), birthdate: alice.birth_date })).includes(alice.id));
  assert.deepEqual(await ids(c, { _id: alice.id, gender: 'male' }), []);
  // The vaccinee: itself and its minor child, never another person.
  assert.deepEqual(await ids(client(vtok), {}), [alice.id, baby.id].sort());
  assert.deepEqual(await ids(client(vtok), { identifier: bob.resident_no }), []);
  for (const q of [{ gender: 'x' }, { birthdate: '2020-13' }, { _id: 'nope' }, { identifier: 'urn:x|1' }, { foo: '1' }, { name: ['a', 'b'] }]) {
    const query = Object.entries(q).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]));
    const r = await call('fhirSearchPatient', { token: muni.access, query });
    assert.equal(r.status, 400, `${JSON.stringify(q)}: ${r.status}`);
    valid(r.body);
  }
});

test('CapabilityStatement declares security (OAuth bearer, the token endpoint) and every interaction', async () => {
  const cs = valid(await client().capabilityStatement());
  const rest = cs.rest[0];
  assert.equal(rest.security.service[0].coding[0].code, 'OAuth');
  assert.equal(rest.security.service[0].coding[0].system, 'http://terminology.hl7.org/CodeSystem/restful-security-service');
  const uris = rest.security.extension.find((e) => e.url.endsWith('/oauth-uris'));
  assert.equal(uris.extension.find((e) => e.url === 'token').valueUri, `${BASE}/oauth2/token`);
  const by = Object.fromEntries(rest.resource.map((r) => [r.type, r]));
  for (const t of ['Patient', 'Immunization', 'ImmunizationRecommendation']) {
    assert.deepEqual(by[t].interaction.map((i) => i.code).sort(), ['read', 'search-type']);
  }
  assert.ok(by.Patient.searchParam.some((p) => p.name === 'identifier'));
  assert.ok(cs.format.includes('application/fhir+json'));
});
