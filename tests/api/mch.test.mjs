// mch.test.mjs - maternal/child health and check-up information (母子保健・健診情報, H-7):
// typed records (infant check-ups with their age windows and development items, pregnancy
// information with its dates, other check-ups), entered by municipality staff (H-7-2) or
// sent by a health-management system with an mch:write API client (H-7-1), singly with
// Idempotency-Key or as NDJSON (all-or-nothing and partial); read by the person's
// municipality only; every role and tenant boundary; bad inputs. Answers are checked against
// proto-schemas/mch.yaml.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { orgWithAdmin, principal, suffix } from './lib/fixtures.mjs';
import { qm, qmOk, qmContract, municipality, resident, clientToken, addMonths, addDays, today } from './lib/qmch.mjs';

let muniA, muniB, inst, mhlw, nonins, others, client, baby, toddler, mother, father, otherBaby;

const infant = (extra = {}) => ({
  checkup_age: '3-4m',
  height_cm: 62.5,
  weight_kg: 6.4,
  head_circumference_cm: 40.2,
  findings: [
    { code: 'head_control', result: 'normal' },
    { code: 'social_smile', result: 'follow_up', note: '次回確認' },
  ],
  overall: 'normal',
  ...extra,
});

function pregnancyData(examined, weeks = 20, extra = {}) {
  return { expected_delivery_date: addDays(examined, 280 - weeks * 7), pregnancy_weeks: weeks, gravida: 1, parity: 0, ...extra };
}

function rec(person, kind, data, extra = {}) {
  return { person_id: person.id, kind, examined_on: today(), source: 'municipality', data, ...extra };
}

before(async () => {
  muniA = await municipality();
  muniB = await municipality();
  inst = (await orgWithAdmin('medical_institution')).adminSession;
  mhlw = await principal('mhlw', 'user');
  nonins = (await orgWithAdmin('non_insurance_medical_institution')).adminSession;
  others = [await principal('kokuhoren', 'user'), await principal('chuokai', 'user'), await principal('operator', 'admin')];
  baby = await resident(muniA, { birth: addMonths(today(), -4), sex: '2' });
  toddler = await resident(muniA, { birth: addMonths(today(), -19), sex: '1' });
  mother = await resident(muniA, { birth: '1995-03-03', sex: '2' });
  father = await resident(muniA, { birth: '1993-03-03', sex: '1' });
  otherBaby = await resident(muniB, { birth: addMonths(today(), -4), sex: '1' });
  client = await clientToken(muniA.admin, ['mch:write']);
});

test('staff enter an infant check-up, a pregnancy and another check-up (H-7-2)', async () => {
  const a = await qmOk('createMchRecord', 201, { token: muniA.user.access, json: rec(baby, 'infant_checkup', infant(), { source_name: '保健センター' }) });
  assert.equal(a.person_id, baby.id);
  assert.equal(a.municipality_code, muniA.code);
  assert.equal(a.kind, 'infant_checkup');
  assert.equal(a.entered_via, 'staff');
  assert.equal(a.source, 'municipality');
  assert.equal(a.source_name, '保健センター');
  assert.equal(a.data.head_circumference_cm, 40.2);
  const p = await qmOk('createMchRecord', 201, { token: muniA.admin.access, json: rec(mother, 'pregnancy', pregnancyData(today(), 29, { pregnancy_days: 3, multiple_pregnancy: false }), { source: 'institution' }) });
  assert.equal(p.data.pregnancy_weeks, 29);
  const c = await qmOk('createMchRecord', 201, {
    token: muniA.user.access,
    json: rec(father, 'checkup', { checkup_type: 'specific_health', results: [{ code: 'bmi', value: 24.1 }, { code: 'hba1c', value: 5.6, unit: '%' }, { code: 'smoker', value: false }, { code: 'remark', value: '異常なし' }], overall: 'normal' }),
  });
  assert.equal(c.data.results.length, 4);
  const t = await qmOk('createMchRecord', 201, {
    token: muniA.user.access,
    json: rec(toddler, 'infant_checkup', infant({ checkup_age: '1y6m', height_cm: 80, weight_kg: 10.5, head_circumference_cm: 47, findings: [{ code: 'walking', result: 'normal' }, { code: 'meaningful_words', result: 'referred' }], overall: 'referred' })),
  });
  assert.equal(t.data.overall, 'referred');
  // Decimals come back as they were sent (not 8.8000000000000007), in the answer and stored.
  const w = await qm('createMchRecord', { token: muniA.user.access, json: rec(toddler, 'infant_checkup', infant({ checkup_age: '1y6m', height_cm: 80.1, weight_kg: 8.8, head_circumference_cm: 47.3, findings: [{ code: 'walking', result: 'normal' }], overall: 'normal' })) });
  assert.equal(w.status, 201, w.text);
  assert.match(w.text, /"weight_kg":8\.8[,}]/);
  const wr = await qm('getMchRecord', { token: muniA.user.access, params: { id: w.body.id } });
  assert.match(wr.text, /"weight_kg":8\.8[,}]/);
  assert.match(wr.text, /"height_cm":80\.1[,}]/);
  const got = await qmOk('getMchRecord', 200, { token: muniA.user.access, params: { id: a.id } });
  assert.deepEqual(got, a);
});

test('typed rules: age windows, development items, head circumference, pregnancy dates and sex', async () => {
  const t = muniA.user.access;
  const bad = async (json, field) => expectFieldErrors(await qm('createMchRecord', { token: t, json }), field);
  await bad(rec(baby, 'infant_checkup', infant({ checkup_age: '1y6m', findings: [] })), 'examined_on');
  await bad(rec(toddler, 'infant_checkup', infant()), 'examined_on');
  await bad(rec(baby, 'infant_checkup', infant({ findings: [{ code: 'walking', result: 'normal' }] })), 'data.findings[0].code');
  await bad(rec(baby, 'infant_checkup', infant({ findings: [{ code: 'head_control', result: 'normal' }, { code: 'head_control', result: 'normal' }] })), 'data.findings[1].code');
  await bad(rec(baby, 'infant_checkup', infant({ findings: [{ code: 'head_control', result: 'fine' }] })), 'data.findings[0]');
  await bad(rec(baby, 'infant_checkup', infant({ head_circumference_cm: undefined })), 'data.head_circumference_cm');
  await bad(rec(baby, 'infant_checkup', infant({ height_cm: 300 })), 'data.height_cm');
  await bad(rec(baby, 'infant_checkup', infant({ weight_kg: '6' })), 'data.weight_kg');
  await bad(rec(baby, 'infant_checkup', infant({ overall: 'fine' })), 'data.overall');
  await bad(rec(baby, 'infant_checkup', infant({ checkup_age: '2y' })), 'data.checkup_age');
  await bad(rec(baby, 'infant_checkup', infant({ eye_colour: 'brown' })), 'data.eye_colour');
  await bad(rec(baby, 'infant_checkup', { ...infant(), overall: undefined }), 'data.overall');
  await bad(rec(mother, 'pregnancy', pregnancyData(today(), 20, { expected_delivery_date: addDays(today(), 30) })), 'data.expected_delivery_date');
  await bad(rec(mother, 'pregnancy', pregnancyData(today(), 50)), 'data.pregnancy_weeks');
  await bad(rec(mother, 'pregnancy', pregnancyData(today(), 20, { pregnancy_days: 7 })), 'data.pregnancy_days');
  await bad(rec(mother, 'pregnancy', { pregnancy_weeks: 20 }), 'data.expected_delivery_date');
  await bad(rec(father, 'pregnancy', pregnancyData(today())), 'kind');
  await bad(rec(father, 'checkup', { checkup_type: 'school', results: [] }), 'data.results');
  await bad(rec(father, 'checkup', { checkup_type: 'school', results: [{ code: 'bmi', value: 1 }, { code: 'bmi', value: 2 }] }), 'data.results[1].code');
  await bad(rec(father, 'checkup', { checkup_type: 'school', results: [{ code: 'bmi', value: { x: 1 } }] }), 'data.results[0]');
  await bad(rec(father, 'checkup', { checkup_type: 'tarot', results: [{ code: 'bmi', value: 1 }] }), 'data.checkup_type');
  // The date: not in the future, not before birth.
  await bad({ ...rec(father, 'checkup', { checkup_type: 'other', results: [{ code: 'x', value: 1 }] }), examined_on: addDays(today(), 1) }, 'examined_on');
  await bad({ ...rec(father, 'checkup', { checkup_type: 'other', results: [{ code: 'x', value: 1 }] }), examined_on: '1990-01-01' }, 'examined_on');
});

test('bad bodies and other tenants: nothing stored', async () => {
  const t = muniA.user.access;
  const good = rec(baby, 'infant_checkup', infant());
  for (const [json, field] of [
    [{ ...good, person_id: otherBaby.id }, 'person_id'],
    [{ ...good, person_id: '00000000-0000-4000-8000-000000000000' }, 'person_id'],
    [{ ...good, person_id: "1' OR '1'='1" }, 'person_id'],
    [{ ...good, kind: 'horoscope' }, 'kind'],
    [{ ...good, source: 'rumour' }, 'source'],
    [{ ...good, examined_on: '2026-02-30' }, 'examined_on'],
    [{ ...good, data: 'x' }, 'data'],
    [{ ...good, data: undefined }, 'data'],
    [{ ...good, extra: 1 }, 'extra'],
    [{ ...good, source_name: 'a\u0001b' }, 'source_name'],
    [{ ...good, external_id: 'x'.repeat(101) }, 'external_id'],
  ]) {
    expectFieldErrors(await qm('createMchRecord', { token: t, json }), field);
  }
  expectProblem(await qm('createMchRecord', { token: t, body: '{"kind": ', contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await qm('createMchRecord', { token: t, body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await qm('createMchRecord', { token: t, body: '[]', contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await qm('createMchRecord', { token: t, body: 'kind=x', contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported-media-type');
  expectProblem(await qm('createMchRecord', { token: t }), 400, 'bad-request');
  expectProblem(await request('POST', '/api/v1/maternal-child-health/records', { token: t, json: { ...good, pad: 'x'.repeat(1_100_000) } }), 413, 'payload-too-large');
  // An injection string in a note is text, stored as given.
  const inj = await qmOk('createMchRecord', 201, { token: t, json: rec(baby, 'infant_checkup', infant({ note: "'); DELETE FROM records.mch_records; --" })) });
  assert.equal(inj.data.note, "'); DELETE FROM records.mch_records; --");
  const list = await qmOk('listMchRecords', 200, { token: t, query: { person_id: otherBaby.id } });
  assert.equal(list.items.length, 0);
});

test('roles: municipality staff and mch:write clients write and read; nobody else', async () => {
  const body = rec(baby, 'infant_checkup', infant());
  expectProblem(await qm('createMchRecord', { json: body }), 401, 'unauthorized');
  expectProblem(await qm('listMchRecords', {}), 401, 'unauthorized');
  for (const who of [inst, mhlw, nonins, ...others]) {
    expectProblem(await qm('createMchRecord', { token: who.access, json: body }), 403, 'forbidden');
    expectProblem(await qm('listMchRecords', { token: who.access }), 403, 'forbidden');
    expectProblem(await qm('bulkMchRecords', { token: who.access, body: JSON.stringify(body), contentType: 'application/x-ndjson' }), 403, 'forbidden');
  }
  const c = await qmOk('createMchRecord', 201, { token: client, json: { ...body, source: 'health_system', source_name: '健康管理システム' } });
  assert.equal(c.entered_via, 'api');
  const seen = await qmOk('getMchRecord', 200, { token: client, params: { id: c.id } });
  assert.equal(seen.id, c.id);
  // Another municipality (its staff and its client) sees nothing of muniA's.
  const clientB = await clientToken(muniB.admin, ['mch:write']);
  for (const tok of [muniB.user.access, clientB]) {
    expectProblem(await qm('getMchRecord', { token: tok, params: { id: c.id } }), 404, 'not-found');
    const l = await qmOk('listMchRecords', 200, { token: tok, query: { person_id: baby.id } });
    assert.equal(l.items.length, 0);
    expectFieldErrors(await qm('createMchRecord', { token: tok, json: body }), 'person_id');
  }
  // A client without mch:write.
  const readOnly = await clientToken(muniA.admin, ['records:read']);
  expectProblem(await qm('createMchRecord', { token: readOnly, json: body }), 403, 'forbidden');
  expectProblem(await qm('listMchRecords', { token: readOnly }), 403, 'forbidden');
});

test('Idempotency-Key: a retry replays the first answer; external_id is unique per municipality', async () => {
  const key = `k-${suffix(8)}`;
  const body = rec(baby, 'infant_checkup', infant(), { source: 'health_system', external_id: `ext-${suffix(6)}` });
  const first = await qm('createMchRecord', { token: client, json: body, headers: { 'Idempotency-Key': key } });
  assert.equal(first.status, 201, first.text);
  const again = await qm('createMchRecord', { token: client, json: body, headers: { 'Idempotency-Key': key } });
  assert.equal(again.status, 201);
  assert.deepEqual(again.body, first.body);
  const other = await qm('createMchRecord', { token: client, json: { ...body, source_name: 'changed' }, headers: { 'Idempotency-Key': key } });
  assert.equal(other.status, 422, other.text);
  // Without the key, the same external_id is a conflict, not a second record.
  expectProblem(await qm('createMchRecord', { token: client, json: body }), 409, 'conflict');
  const all = await qmOk('listMchRecords', 200, { token: client, query: { person_id: baby.id, limit: 200 } });
  assert.equal(all.items.filter((x) => x.external_id === body.external_id).length, 1);
  expectProblem(await qm('createMchRecord', { token: client, json: body, headers: { 'Idempotency-Key': 'x'.repeat(300) } }), 400, 'bad-request');
});

function ndjson(lines) {
  return lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
}

test('bulk NDJSON, all or nothing (default): every line stored, or none with each bad line named', async () => {
  const tag = suffix(4);
  const lines = [
    rec(baby, 'infant_checkup', infant(), { source: 'health_system', external_id: `b-${tag}-1` }),
    rec(mother, 'pregnancy', pregnancyData(today(), 12), { source: 'health_system', external_id: `b-${tag}-2` }),
    rec(father, 'checkup', { checkup_type: 'dental', results: [{ code: 'caries', value: 0 }] }, { source: 'health_system', external_id: `b-${tag}-3` }),
  ];
  const ok = await qm('bulkMchRecords', { token: client, body: ndjson(lines), contentType: 'application/x-ndjson' });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.received, 3);
  assert.equal(ok.body.accepted, 3);
  assert.deepEqual(ok.body.items.map((x) => x.line), [1, 2, 3]);
  for (const it of ok.body.items) await qmOk('getMchRecord', 200, { token: muniA.user.access, params: { id: it.id } });
  // One bad line refuses the whole body; blank lines are skipped but counted as lines.
  const tag2 = suffix(4);
  const bad = await qm('bulkMchRecords', {
    token: client,
    body: ndjson([
      rec(baby, 'infant_checkup', infant(), { external_id: `c-${tag2}-1` }),
      '',
      rec(baby, 'infant_checkup', infant({ height_cm: 500 }), { external_id: `c-${tag2}-2` }),
      'not json',
      { ...rec(otherBaby, 'infant_checkup', infant()), external_id: `c-${tag2}-3` },
      rec(baby, 'infant_checkup', infant(), { external_id: `b-${tag}-1` }),
    ]),
    contentType: 'application/x-ndjson',
  });
  const p = expectFieldErrors(bad, ['lines[3].data.height_cm', 'lines[4].(line)', 'lines[5].person_id', 'lines[6].external_id']);
  assert.ok(!p.errors.some((e) => e.field.startsWith('lines[1]')));
  const l = await qmOk('listMchRecords', 200, { token: client, query: { person_id: baby.id, limit: 200 } });
  assert.ok(!l.items.some((x) => x.external_id === `c-${tag2}-1`), 'a line of a refused bulk was stored');
});

test('bulk NDJSON, partial: the good lines stored, the bad ones reported; idempotent', async () => {
  const tag = suffix(4);
  const body = ndjson([
    rec(baby, 'infant_checkup', infant(), { external_id: `p-${tag}-1` }),
    rec(father, 'pregnancy', pregnancyData(today()), { external_id: `p-${tag}-2` }),
    '{"person_id": "x", "kind": 1}',
    rec(mother, 'pregnancy', pregnancyData(today(), 30), { external_id: `p-${tag}-4` }),
  ]);
  const key = `bulk-${suffix(6)}`;
  const r = await qm('bulkMchRecords', { token: muniA.user.access, body, contentType: 'application/x-ndjson', query: { mode: 'partial' }, headers: { 'Idempotency-Key': key } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.mode, 'partial');
  assert.equal(r.body.received, 4);
  assert.equal(r.body.accepted, 2);
  assert.equal(r.body.rejected, 2);
  assert.deepEqual(r.body.items.map((x) => x.line), [1, 4]);
  assert.deepEqual(r.body.errors.map((x) => x.line), [2, 3]);
  assert.ok(r.body.errors[0].errors.some((e) => e.field === 'kind'));
  const again = await qm('bulkMchRecords', { token: muniA.user.access, body, contentType: 'application/x-ndjson', query: { mode: 'partial' }, headers: { 'Idempotency-Key': key } });
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, r.body);
  const l = await qmOk('listMchRecords', 200, { token: muniA.user.access, query: { person_id: baby.id, limit: 200 } });
  assert.equal(l.items.filter((x) => x.external_id === `p-${tag}-1`).length, 1);
});

test('bulk bad inputs: media type, empty, invalid UTF-8, oversized, mode', async () => {
  const line = JSON.stringify(rec(baby, 'infant_checkup', infant()));
  expectProblem(await qm('bulkMchRecords', { token: client, body: line, contentType: 'application/json' }), 415, 'unsupported-media-type');
  expectProblem(await qm('bulkMchRecords', { token: client, body: line }), 415, 'unsupported-media-type');
  expectProblem(await qm('bulkMchRecords', { token: client, body: '\n\n', contentType: 'application/x-ndjson' }), 400, 'bad-request');
  expectFieldErrors(await qm('bulkMchRecords', { token: client, body: line, contentType: 'application/x-ndjson', query: { mode: 'some' } }), 'mode');
  expectFieldErrors(await qm('bulkMchRecords', { token: client, body: line, contentType: 'application/x-ndjson', query: { dry_run: '1' } }), 'dry_run');
  const utf = Buffer.concat([Buffer.from('{"note":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
  expectFieldErrors(await qm('bulkMchRecords', { token: client, body: utf, contentType: 'application/x-ndjson' }), 'lines[1].(line)');
  const big = await request('POST', '/api/v1/maternal-child-health/records/bulk', { token: client, body: `${line}\n`.repeat(4000), contentType: 'application/x-ndjson' });
  expectProblem(big, 413, 'payload-too-large');
  const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
  expectFieldErrors(await qm('bulkMchRecords', { token: client, body: deep, contentType: 'application/x-ndjson' }), 'lines[1].(line)');
});

test('queries by kind and date, newest first, in pages', async () => {
  const t = muniA.user.access;
  const all = await qmOk('listMchRecords', 200, { token: t, query: { person_id: baby.id, limit: 200 } });
  assert.ok(all.items.length >= 3);
  const kinds = await qmOk('listMchRecords', 200, { token: t, query: { kind: 'pregnancy', limit: 200 } });
  assert.ok(kinds.items.length >= 1 && kinds.items.every((x) => x.kind === 'pregnancy'));
  const none = await qmOk('listMchRecords', 200, { token: t, query: { person_id: baby.id, from: addDays(today(), 1) } });
  assert.equal(none.items.length, 0);
  const ids = [];
  let cursor;
  for (let i = 0; i < 100; i++) {
    const p = await qmOk('listMchRecords', 200, { token: t, query: { person_id: baby.id, limit: 2, cursor } });
    ids.push(...p.items.map((x) => x.id));
    if (p.next_cursor === null) break;
    cursor = p.next_cursor;
  }
  assert.deepEqual(ids, all.items.map((x) => x.id));
  for (const [query, field] of [
    [{ kind: 'x' }, 'kind'],
    [{ from: 'soon' }, 'from'],
    [{ person_id: '123' }, 'person_id'],
    [{ cursor: 'AAAA' }, 'cursor'],
    [{ limit: -1 }, 'limit'],
    [{ order: 'asc' }, 'order'],
  ]) {
    expectFieldErrors(await qm('listMchRecords', { token: t, query }), field);
  }
  for (const id of ['00000000-0000-4000-8000-000000000000', 'zzz']) {
    expectProblem(await qm('getMchRecord', { token: t, params: { id } }), 404, 'not-found');
  }
  qmContract(await request('GET', `/api/v1/maternal-child-health/records/${all.items[0].id}`, { token: t }), 'getMchRecord');
});

test('a bulk of 3,000 records within the body limit is stored in one request', async (t) => {
  const tag = suffix(4);
  const lines = [];
  for (let i = 0; i < 3000; i++) {
    const who = [baby, mother, father][i % 3];
    const kind = ['infant_checkup', 'pregnancy', 'checkup'][i % 3];
    const data = [infant(), pregnancyData(today(), 20), { checkup_type: 'other', results: [{ code: 'n', value: i }] }][i % 3];
    lines.push({ person_id: who.id, kind, examined_on: today(), source: 'health_system', external_id: `big-${tag}-${i}`, data });
  }
  const body = ndjson(lines);
  assert.ok(body.length < 1_048_576, `${body.length} bytes`);
  const t0 = Date.now();
  const r = await qm('bulkMchRecords', { token: client, body, contentType: 'application/x-ndjson', headers: { 'Idempotency-Key': `big-${tag}` }, timeoutMs: 120_000 });
  const ms = Date.now() - t0;
  assert.equal(r.status, 201, r.text.slice(0, 500));
  assert.equal(r.body.accepted, 3000);
  t.diagnostic(`3000 records (${body.length} bytes) in ${ms} ms`);
  const page = await qmOk('listMchRecords', 200, { token: client, query: { person_id: father.id, kind: 'checkup', limit: 200 } });
  assert.ok(page.items.filter((x) => x.external_id?.startsWith(`big-${tag}-`)).length >= 150);
});
