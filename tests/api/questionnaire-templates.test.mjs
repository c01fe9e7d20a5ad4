// questionnaire-templates.test.mjs - screening-questionnaire templates (予診票様式, H-4):
// the shipped templates of the main vaccines, reading by every role, managing by the ministry
// and the operator only, versioning (a new version per POST; a version in use cannot change),
// the shape checks of questions and conditions, and bad inputs. Answers are checked against
// proto-schemas/questionnaires.yaml.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { request } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { orgWithAdmin, principal, suffix } from './lib/fixtures.mjs';
import { qm, qmOk, municipality, resident, reach, addMonths, today } from './lib/qmch.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let mhlw, operator, muni, inst, kokuhoren, chuo, nonins;

const TPL = '/api/v1/questionnaires/templates';

function q(code, type, extra = {}) {
  return { code, label: `質問 ${code}`, type, ...extra };
}

function templateBody(code, extra = {}) {
  return {
    code,
    title: `試験用予診票 ${code}`,
    disease_codes: ['measles'],
    questions: [q('fever', 'yes_no', { required: true }), q('fever_detail', 'text', { required: true, when: { question: 'fever', equals: true } })],
    ...extra,
  };
}

before(async () => {
  mhlw = (await orgWithAdmin('mhlw')).adminSession;
  operator = await principal('operator', 'user');
  muni = await municipality();
  inst = (await orgWithAdmin('medical_institution')).adminSession;
  kokuhoren = (await orgWithAdmin('kokuhoren')).adminSession;
  chuo = await principal('chuokai', 'admin');
  nonins = (await orgWithAdmin('non_insurance_medical_institution')).adminSession;
});

test('the contract documents lint clean with redocly', async () => {
  const out = await new Promise((resolve) => {
    execFile(
      'npx',
      ['redocly', 'lint', '--config', '../../proto-schemas/redocly.yaml', '../../proto-schemas/questionnaires.yaml', '../../proto-schemas/mch.yaml'],
      { cwd: here, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, text: stdout + stderr }),
    );
  });
  assert.equal(out.code, 0, out.text.slice(-2000));
});

test('the main vaccines have shipped templates, readable by every role', async () => {
  for (const who of [muni.user, inst, mhlw, operator, kokuhoren, chuo, nonins]) {
    const page = await qmOk('listQuestionnaireTemplates', 200, { token: who.access, query: { limit: 200 } });
    const codes = new Set(page.items.map((t) => t.code));
    for (const c of ['dpt-ipv-hib', 'mr', 'bcg', 'rota', 'hpv', 'rsv-maternal', 'flu', 'zoster', 'covid19', 'pneumo-elderly', 'jev', 'varicella', 'hepb']) {
      assert.ok(codes.has(c), `no template ${c}`);
    }
    assert.ok(page.items.every((t) => t.latest === true));
  }
  const mr = await qmOk('listQuestionnaireTemplates', 200, { token: inst.access, query: { disease_code: 'measles', code: 'mr' } });
  assert.equal(mr.items.length, 1);
  const full = await qmOk('getQuestionnaireTemplate', 200, { token: inst.access, params: { id: mr.items[0].id } });
  const codes = full.questions.map((x) => x.code);
  for (const c of ['temperature', 'unwell_today', 'convulsions', 'allergy', 'previous_reaction', 'recent_vaccination', 'pregnant', 'guardian_name', 'proxy_name', 'proxy_relation', 'self_signature']) {
    assert.ok(codes.includes(c), `mr lacks ${c}`);
  }
  const preg = full.questions.find((x) => x.code === 'pregnant');
  assert.equal(preg.when.sex, '2');
  const rsv = await qmOk('listQuestionnaireTemplates', 200, { token: muni.user.access, query: { code: 'rsv-maternal' } });
  const rsvFull = await qmOk('getQuestionnaireTemplate', 200, { token: muni.user.access, params: { id: rsv.items[0].id } });
  assert.ok(rsvFull.questions.some((x) => x.code === 'pregnancy_weeks' && x.required));
  // A product of the master finds its disease's template (ミールビック: measles, rubella).
  const byProduct = await qmOk('listQuestionnaireTemplates', 200, { token: inst.access, query: { vaccine_code: '631300601' } });
  assert.ok(byProduct.items.some((t) => t.code === 'mr'));
  assert.ok(!byProduct.items.some((t) => t.code === 'bcg'));
});

test('no token: 401; templates are managed by the ministry and the operator only', async () => {
  expectProblem(await qm('listQuestionnaireTemplates', {}), 401, 'unauthorized');
  const code = `t-${suffix(4)}`;
  for (const who of [muni.admin, muni.user, inst, kokuhoren, chuo, nonins]) {
    expectProblem(await qm('createQuestionnaireTemplate', { token: who.access, json: templateBody(code) }), 403, 'forbidden');
  }
  const a = await qmOk('createQuestionnaireTemplate', 201, { token: mhlw.access, json: templateBody(code) });
  assert.equal(a.version, 1);
  assert.equal(a.in_use, false);
  for (const who of [muni.admin, inst, kokuhoren]) {
    expectProblem(await qm('updateQuestionnaireTemplate', { token: who.access, params: { id: a.id }, json: { title: 'x', questions: a.questions } }), 403, 'forbidden');
  }
  const b = await qmOk('createQuestionnaireTemplate', 201, { token: operator.access, json: templateBody(code) });
  assert.equal(b.version, 2);
  const all = await qmOk('listQuestionnaireTemplates', 200, { token: inst.access, query: { code, versions: 'all' } });
  assert.deepEqual(all.items.map((t) => [t.version, t.latest]), [[2, true], [1, false]]);
  const latest = await qmOk('listQuestionnaireTemplates', 200, { token: inst.access, query: { code } });
  assert.deepEqual(latest.items.map((t) => t.version), [2]);
});

test('a version can be replaced until answers use it; then only a new version', async () => {
  const code = `v-${suffix(4)}`;
  const v1 = await qmOk('createQuestionnaireTemplate', 201, { token: mhlw.access, json: templateBody(code) });
  const put = await qmOk('updateQuestionnaireTemplate', 200, {
    token: mhlw.access,
    params: { id: v1.id },
    json: { title: '改訂', disease_codes: ['measles', 'rubella'], questions: [q('fever', 'yes_no', { required: true })] },
  });
  assert.equal(put.version, 1);
  assert.equal(put.title, '改訂');
  assert.deepEqual(put.disease_codes, ['measles', 'rubella']);
  assert.equal(put.questions.length, 1);
  // An answer makes the version immutable.
  const child = await resident(muni, { birth: addMonths(today(), -30) });
  await reach(inst, child);
  await qmOk('createQuestionnaireAnswer', 201, { token: inst.access, json: { person_id: child.id, template_id: v1.id, answers: { fever: false } } });
  const got = await qmOk('getQuestionnaireTemplate', 200, { token: inst.access, params: { id: v1.id } });
  assert.equal(got.in_use, true);
  const r = await qm('updateQuestionnaireTemplate', { token: mhlw.access, params: { id: v1.id }, json: { title: '再改訂', questions: got.questions } });
  expectProblem(r, 409, 'conflict');
  const again = await qmOk('getQuestionnaireTemplate', 200, { token: inst.access, params: { id: v1.id } });
  assert.equal(again.title, '改訂');
  const v2 = await qmOk('createQuestionnaireTemplate', 201, { token: mhlw.access, json: { ...templateBody(code), title: '再改訂' } });
  assert.equal(v2.version, 2);
  assert.equal(v2.code, code);
});

test('the shape of questions and conditions is checked', async () => {
  const code = `s-${suffix(4)}`;
  const bad = async (questions, fields) => {
    const r = await qm('createQuestionnaireTemplate', { token: mhlw.access, json: templateBody(code, { questions }) });
    expectFieldErrors(r, fields);
  };
  await bad([q('a', 'yes_no'), q('a', 'text')], 'questions[1].code');
  await bad([q('A-b', 'yes_no')], 'questions[0].code');
  await bad([q('a', 'maybe')], 'questions[0].type');
  await bad([q('a', 'choice')], 'questions[0].choices');
  await bad([q('a', 'choice', { choices: [{ code: 'x', label: 'X' }, { code: 'x', label: 'Y' }] })], 'questions[0].choices[1].code');
  await bad([q('a', 'yes_no', { min: 1 })], 'questions[0]');
  await bad([q('a', 'number', { min: 5, max: 1 })], 'questions[0].min');
  await bad([q('a', 'number', { max_length: 3 })], 'questions[0].max_length');
  await bad([q('a', 'text', { max_length: 5000 })], 'questions[0].max_length');
  await bad([q('a', 'yes_no', { when: { question: 'b', equals: true } }), q('b', 'yes_no')], 'questions[0].when');
  await bad([q('a', 'yes_no'), q('b', 'yes_no', { when: { question: 'a', equals: 'yes' } })], 'questions[1].when');
  await bad([q('a', 'yes_no'), q('b', 'yes_no', { when: { question: 'a' } })], 'questions[1].when');
  await bad([q('a', 'yes_no', { when: { min_age_months: -1 } })], 'questions[0].when');
  await bad([q('a', 'yes_no', { when: { sex: 'F' } })], 'questions[0].when');
  await bad([q('a', 'yes_no', { when: {} })], 'questions[0].when');
  await bad([q('a', 'yes_no', { when: { weather: 'fine' } })], 'questions[0].when');
  await bad([q('a', 'yes_no', { colour: 'red' })], 'questions[0]');
  await bad([q('a', 'yes_no', { required: 'yes' })], 'questions[0].required');
  await bad([{ code: 'a', type: 'yes_no' }], 'questions[0].label');
  await bad([q('a', 'yes_no', { label: 'bad\u0007label' })], 'questions[0].label');
  await bad(['a'], 'questions[0]');
  await bad([], 'questions');
  await bad(Array.from({ length: 201 }, (_, i) => q(`q${i}`, 'yes_no')), 'questions');
  // Conditions on a choice answer and on an earlier number are fine.
  await qmOk('createQuestionnaireTemplate', 201, {
    token: mhlw.access,
    json: templateBody(code, {
      questions: [
        q('kind', 'choice', { required: true, choices: [{ code: 'a', label: 'A' }, { code: 'b', label: 'B' }] }),
        q('why', 'text', { when: { question: 'kind', equals: 'b' }, max_length: 20 }),
        q('temp', 'number', { min: 35, max: 42 }),
        q('high', 'yes_no', { when: { question: 'temp', equals: 38, min_age_months: 0, max_age_months: 1200, sex: '2' } }),
      ],
    }),
  });
});

test('bad template bodies, codes, ids and query parameters', async () => {
  const t = mhlw.access;
  expectFieldErrors(await qm('createQuestionnaireTemplate', { token: t, json: { title: 'x', questions: [q('a', 'yes_no')] } }), 'code');
  expectFieldErrors(await qm('createQuestionnaireTemplate', { token: t, json: templateBody('Bad Code') }), 'code');
  expectFieldErrors(await qm('createQuestionnaireTemplate', { token: t, json: templateBody(`u-${suffix(3)}`, { extra: 1 }) }), 'extra');
  expectFieldErrors(await qm('createQuestionnaireTemplate', { token: t, json: templateBody(`u-${suffix(3)}`, { title: 5 }) }), 'title');
  expectFieldErrors(await qm('createQuestionnaireTemplate', { token: t, json: templateBody(`u-${suffix(3)}`, { disease_codes: ["x'; DROP TABLE records.q_templates; --"] }) }), 'disease_codes[0]');
  expectFieldErrors(await qm('createQuestionnaireTemplate', { token: t, json: templateBody(`u-${suffix(3)}`, { disease_codes: ['measles', 'measles'] }) }), 'disease_codes[1]');
  expectFieldErrors(await qm('createQuestionnaireTemplate', { token: t, json: templateBody(`u-${suffix(3)}`, { questions: 'all' }) }), 'questions');
  expectProblem(await qm('createQuestionnaireTemplate', { token: t, body: '{"code": "x",', contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await qm('createQuestionnaireTemplate', { token: t, body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await qm('createQuestionnaireTemplate', { token: t, body: 'code=x', contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported-media-type');
  expectProblem(await qm('createQuestionnaireTemplate', { token: t }), 400, 'bad-request');
  const big = await request('POST', TPL, { token: t, json: templateBody('big', { title: 'x'.repeat(2_000_000) }) });
  expectProblem(big, 413, 'payload-too-large');
  // An injection string is only text: stored and returned as given.
  const inj = await qmOk('createQuestionnaireTemplate', 201, { token: t, json: templateBody(`i-${suffix(3)}`, { title: "'; DROP TABLE records.q_answers; -- <script>" }) });
  assert.equal(inj.title, "'; DROP TABLE records.q_answers; -- <script>");
  for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', "1' OR '1'='1"]) {
    expectProblem(await qm('getQuestionnaireTemplate', { token: t, params: { id } }), 404, 'not-found');
    expectProblem(await qm('updateQuestionnaireTemplate', { token: t, params: { id }, json: { title: 'x', questions: [q('a', 'yes_no')] } }), 404, 'not-found');
  }
  expectFieldErrors(await qm('updateQuestionnaireTemplate', { token: t, params: { id: inj.id }, json: { code: 'other', title: 'x', questions: [q('a', 'yes_no')] } }), 'code');
  for (const [query, field] of [
    [{ limit: 0 }, 'limit'],
    [{ limit: 201 }, 'limit'],
    [{ cursor: 'garbage' }, 'cursor'],
    [{ versions: 'some' }, 'versions'],
    [{ code: 'NOT OK' }, 'code'],
    [{ disease_code: '<x>' }, 'disease_code'],
    [{ colour: 'red' }, 'colour'],
    [{ code: '' }, 'code'],
  ]) {
    expectFieldErrors(await qm('listQuestionnaireTemplates', { token: t, query }), field);
  }
});

test('pages of templates follow the cursor without repeats', async () => {
  const seen = [];
  let cursor;
  for (let i = 0; i < 50; i++) {
    const page = await qmOk('listQuestionnaireTemplates', 200, { token: inst.access, query: { limit: 3, versions: 'all', cursor } });
    assert.ok(page.items.length <= 3);
    seen.push(...page.items.map((t) => `${t.code}/${t.version}`));
    if (page.next_cursor === null) break;
    cursor = page.next_cursor;
  }
  assert.equal(new Set(seen).size, seen.length, 'a template repeated across pages');
  const all = await qmOk('listQuestionnaireTemplates', 200, { token: inst.access, query: { limit: 200, versions: 'all' } });
  if (all.next_cursor === null) assert.equal(seen.length, all.items.length);
  const sorted = [...seen].sort((a, b) => {
    const [ca, va] = a.split('/');
    const [cb, vb] = b.split('/');
    return ca === cb ? Number(vb) - Number(va) : ca < cb ? -1 : 1;
  });
  assert.deepEqual(seen, sorted);
});
