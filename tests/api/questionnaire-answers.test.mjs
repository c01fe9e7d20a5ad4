// questionnaire-answers.test.mjs - answers to screening questionnaires (予診票, H-4), staff
// side: the institution enters answers at the visit, validated against the template version
// (types, ranges, required questions, conditions on age, sex and earlier answers); the
// doctor's judgement (可 / 見合わせ) and the consent; the record link; municipality queries of
// their residents (H-4-1), institutions' of their visits; every role and tenant boundary;
// bad inputs. Answers are checked against proto-schemas/questionnaires.yaml.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { request, call } from './lib/http.mjs';
import { institution, myNumber, currentLot } from './lib/records.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { orgWithAdmin, principal, suffix, userIn } from './lib/fixtures.mjs';
import { qm, qmOk, municipality, resident, reach, clientToken, addMonths, addDays, today } from './lib/qmch.mjs';

let mhlw, muniA, muniB, instA, instB, nonins, kokuhoren, chuo, ops;
let child, woman, man, teen, otherPerson, childMyNumber; // residents (muniA) and muniB's
let mr, cond; // the shipped MR template; a test template with conditions

// Answers to the shipped MR template for a person under 16 (guardian signs).
function mrMinor(extra = {}) {
  return {
    explanation_read: true,
    temperature: 36.6,
    unwell_today: false,
    ill_last_month: false,
    birth_problem: false,
    chronic_disease: false,
    convulsions: false,
    allergy: false,
    immunodeficiency_relative: false,
    previous_reaction: false,
    transfusion_6m: false,
    recent_vaccination: false,
    measles_history: false,
    rubella_history: false,
    guardian_name: '試験 母',
    proxy_attended: false,
    ...extra,
  };
}

// The same for an adult (own signature, no guardian or infant questions).
function mrAdult(extra = {}) {
  const a = mrMinor(extra);
  delete a.birth_problem;
  delete a.guardian_name;
  delete a.proxy_attended;
  return { self_signature: '試験 本人', ...a, ...extra };
}

before(async () => {
  mhlw = (await orgWithAdmin('mhlw')).adminSession;
  muniA = await municipality();
  muniB = await municipality();
  const i = await institution(); // in the institution master: it registers records
  instA = i.session;
  instB = await userIn((await orgWithAdmin('medical_institution')).adminSession, 'user');
  nonins = (await orgWithAdmin('non_insurance_medical_institution')).adminSession;
  kokuhoren = await principal('kokuhoren', 'user');
  chuo = await principal('chuokai', 'user');
  ops = await principal('operator', 'user');
  childMyNumber = myNumber();
  child = await resident(muniA, { birth: addMonths(today(), -14), sex: '2', my_number: childMyNumber });
  teen = await resident(muniA, { birth: addMonths(today(), -13 * 12 - 2), sex: '2' });
  woman = await resident(muniA, { birth: '1994-05-05', sex: '2' });
  man = await resident(muniA, { birth: '1990-01-10', sex: '1' });
  otherPerson = await resident(muniB, { birth: addMonths(today(), -20), sex: '1' });
  // The institutions identify the patients they see (their care links).
  await reach(instA, child, teen, woman, man);
  await reach(nonins, teen);
  const list = await qmOk('listQuestionnaireTemplates', 200, { token: instA.access, query: { code: 'mr' } });
  mr = list.items[0];
  cond = await qmOk('createQuestionnaireTemplate', 201, {
    token: mhlw.access,
    json: {
      code: `cond-${suffix(4)}`,
      title: '条件付き質問の試験',
      disease_codes: ['varicella'],
      questions: [
        { code: 'fever', label: '発熱', type: 'yes_no', required: true },
        { code: 'fever_temp', label: '体温', type: 'number', required: true, min: 37, max: 42, when: { question: 'fever', equals: true } },
        { code: 'kind', label: '種類', type: 'choice', choices: [{ code: 'a', label: 'A' }, { code: 'b', label: 'B' }] },
        { code: 'kind_b_note', label: 'Bの理由', type: 'text', required: true, max_length: 10, when: { question: 'kind', equals: 'b' } },
        { code: 'infant_only', label: '乳児のみ', type: 'yes_no', required: true, when: { max_age_months: 23 } },
        { code: 'women_only', label: '女性のみ', type: 'yes_no', required: true, when: { sex: '2', min_age_months: 192 } },
        { code: 'last_dose', label: '前回接種日', type: 'date' },
        { code: 'count', label: '回数', type: 'number', integer: true, min: 0, max: 5 },
      ],
    },
  });
});

function submit(token, person, template, answers, extra = {}) {
  return qm('createQuestionnaireAnswer', { token, json: { person_id: person.id, template_id: template.id, answers, ...extra } });
}

test('an institution enters valid MR answers at the visit', async () => {
  const r = await submit(instA.access, child, mr, mrMinor(), { vaccine_code: '631300601' });
  assert.equal(r.status, 201, r.text);
  const a = r.body;
  assert.equal(a.person_id, child.id);
  assert.equal(a.template.code, 'mr');
  assert.equal(a.template.version, mr.version);
  assert.equal(a.institution_code, instA.org.code);
  assert.equal(a.submitted_via, 'institution');
  assert.equal(a.visit_on, today());
  assert.equal(a.age_months, 14);
  assert.equal(a.vaccine_code, '631300601');
  assert.equal(a.judgement, null);
  assert.equal(a.record_id, null);
  assert.equal(a.answers.temperature, 36.6);
  const got = await qmOk('getQuestionnaireAnswer', 200, { token: instA.access, params: { id: a.id } });
  assert.deepEqual(got, a);
  // An adult signs herself; the pregnancy question is asked of a woman (sex 2, 12+).
  expectFieldErrors(await submit(instA.access, woman, mr, mrAdult()), 'answers.pregnant');
  await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: woman.id, template_id: mr.id, answers: mrAdult({ pregnant: false }) } });
  // ... and not of a man.
  expectFieldErrors(await submit(instA.access, man, mr, mrAdult({ pregnant: false })), 'answers.pregnant');
  await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: man.id, template_id: mr.id, answers: mrAdult() } });
  // Non-insurance institutions enter answers too.
  await qmOk('createQuestionnaireAnswer', 201, { token: nonins.access, json: { person_id: teen.id, template_id: mr.id, answers: mrMinor({ birth_problem: undefined, pregnant: false }) } });
});

test('signatures: the guardian under 16, a proxy with name and relation, the vaccinee from 16', async () => {
  expectFieldErrors(await submit(instA.access, child, mr, mrMinor({ guardian_name: undefined })), 'answers.guardian_name');
  expectFieldErrors(await submit(instA.access, child, mr, mrMinor({ self_signature: '本人' })), 'answers.self_signature');
  const e = expectFieldErrors(await submit(instA.access, child, mr, mrMinor({ proxy_attended: true })), ['answers.proxy_name', 'answers.proxy_relation']);
  assert.equal(e.errors.length, 2);
  await qmOk('createQuestionnaireAnswer', 201, {
    token: instA.access,
    json: { person_id: child.id, template_id: mr.id, answers: mrMinor({ proxy_attended: true, proxy_name: '試験 祖母', proxy_relation: '祖母' }) },
  });
  expectFieldErrors(await submit(instA.access, man, mr, mrAdult({ self_signature: undefined })), 'answers.self_signature');
  expectFieldErrors(await submit(instA.access, man, mr, mrAdult({ guardian_name: '親' })), 'answers.guardian_name');
});

test('conditional questions: shown only for some answers, ages and sexes', async () => {
  const base = { fever: false, infant_only: true };
  await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: child.id, template_id: cond.id, answers: base } });
  // fever = true asks the temperature (required); fever = false must not answer it.
  expectFieldErrors(await submit(instA.access, child, cond, { ...base, fever: true }), 'answers.fever_temp');
  expectFieldErrors(await submit(instA.access, child, cond, { ...base, fever_temp: 38 }), 'answers.fever_temp');
  await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: child.id, template_id: cond.id, answers: { ...base, fever: true, fever_temp: 38.2 } } });
  // A choice answer asks its follow-up.
  expectFieldErrors(await submit(instA.access, child, cond, { ...base, kind: 'b' }), 'answers.kind_b_note');
  expectFieldErrors(await submit(instA.access, child, cond, { ...base, kind: 'a', kind_b_note: 'x' }), 'answers.kind_b_note');
  await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: child.id, template_id: cond.id, answers: { ...base, kind: 'b', kind_b_note: '理由' } } });
  // Age: infant_only is required of a 14-month-old, refused of an adult.
  expectFieldErrors(await submit(instA.access, child, cond, { fever: false }), 'answers.infant_only');
  expectFieldErrors(await submit(instA.access, man, cond, { fever: false, infant_only: true }), 'answers.infant_only');
  await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: man.id, template_id: cond.id, answers: { fever: false } } });
  // Sex and age together: women_only for a woman of 16+, not a girl of 13 nor a man.
  expectFieldErrors(await submit(instA.access, woman, cond, { fever: false }), 'answers.women_only');
  await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: woman.id, template_id: cond.id, answers: { fever: false, women_only: false } } });
  expectFieldErrors(await submit(instA.access, teen, cond, { fever: false, women_only: false }), 'answers.women_only');
  // The age is taken on the visit day: a visit 92 days ahead is allowed, 93 not.
  const r = await submit(instA.access, child, cond, base, { visit_on: addDays(today(), 92) });
  assert.equal(r.status, 201, r.text);
  assert.ok(r.body.age_months >= 17);
  expectFieldErrors(await submit(instA.access, child, cond, base, { visit_on: addDays(today(), 93) }), 'visit_on');
  expectFieldErrors(await submit(instA.access, child, cond, base, { visit_on: addDays(today(), -32) }), 'visit_on');
});

test('answer types, ranges and unknown questions', async () => {
  const base = { fever: false, infant_only: true };
  for (const [answers, field] of [
    [{ ...base, fever: 'no' }, 'answers.fever'],
    [{ ...base, fever: null }, 'answers.fever'],
    [{ ...base, fever: true, fever_temp: 36 }, 'answers.fever_temp'],
    [{ ...base, fever: true, fever_temp: '38' }, 'answers.fever_temp'],
    [{ ...base, kind: 'c' }, 'answers.kind'],
    [{ ...base, kind: 1 }, 'answers.kind'],
    [{ ...base, kind: 'b', kind_b_note: 'とても長い理由を書きました' }, 'answers.kind_b_note'],
    [{ ...base, kind: 'b', kind_b_note: 'a\u0007b' }, 'answers.kind_b_note'],
    [{ ...base, last_dose: '2024-02-30' }, 'answers.last_dose'],
    [{ ...base, last_dose: 20240201 }, 'answers.last_dose'],
    [{ ...base, count: 1.5 }, 'answers.count'],
    [{ ...base, count: 6 }, 'answers.count'],
    [{ ...base, unknown_q: true }, 'answers.unknown_q'],
    [{ ...base, "x'; DROP TABLE records.q_answers; --": true }, 'answers.(unknown)'],
    [{}, 'answers.fever'],
  ]) {
    expectFieldErrors(await submit(instA.access, child, cond, answers), field);
  }
});

test('an institution writes answers only for the persons it identified; "not yours" says nothing more', async () => {
  // instB never looked up child (muniA) or teen: a real person, a person of another
  // municipality and an unknown id all get the same refusal, and nothing is stored.
  const unknown = '00000000-0000-4000-8000-000000000000';
  const answers = { fever: false, infant_only: true };
  const count = async (p, muni) => (await qmOk('listQuestionnaireAnswers', 200, { token: muni.user.access, query: { person_id: p.id, limit: 200 } })).items.length;
  const before = [await count(child, muniA), await count(teen, muniA)];
  const seen = [];
  for (const p of [child, teen, otherPerson, { id: unknown }]) {
    const r = await submit(instB.access, p, cond, answers);
    expectFieldErrors(r, 'person_id');
    seen.push(JSON.stringify(r.body.errors));
  }
  assert.equal(new Set(seen).size, 1, `refusals differ: ${seen.join(' | ')}`);
  // Answers that would be wrong for the person's age or sex change nothing: the refusal comes first.
  const adultAnswers = mrAdult({ pregnant: false });
  assert.equal(JSON.stringify((await submit(instB.access, child, mr, adultAnswers)).body.errors), seen[0]);
  assert.deepEqual([await count(child, muniA), await count(teen, muniA)], before, 'a refused answer was stored');
});

test('bad submissions: persons, templates, dates, codes, bodies', async () => {
  const t = instA.access;
  const ok = { person_id: child.id, template_id: cond.id, answers: { fever: false, infant_only: true } };
  const none = '00000000-0000-4000-8000-000000000000';
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: t, json: { ...ok, person_id: none } }), 'person_id');
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: t, json: { ...ok, template_id: none } }), 'template_id');
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: t, json: { ...ok, person_id: 'x'.repeat(36) } }), 'person_id');
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: t, json: { ...ok, template_id: 42 } }), 'template_id');
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: t, json: { ...ok, visit_on: '2026-13-01' } }), 'visit_on');
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: t, json: { ...ok, vaccine_code: '<script>' } }), 'vaccine_code');
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: t, json: { ...ok, institution_code: instB.org.code } }), 'institution_code');
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: t, json: { ...ok, answers: [true] } }), 'answers');
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: t, json: { ...ok, surprise: 1 } }), 'surprise');
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: t, json: { template_id: cond.id, answers: {} } }), 'person_id');
  // A date before birth.
  const baby = await resident(muniA, { birth: addDays(today(), -3) });
  await reach(instA, baby);
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: t, json: { ...ok, person_id: baby.id, visit_on: addDays(today(), -10) } }), 'visit_on');
  expectProblem(await qm('createQuestionnaireAnswer', { token: t, body: '{"person_id":', contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await qm('createQuestionnaireAnswer', { token: t, body: Buffer.from('{"a":"\xff"}', 'latin1'), contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await qm('createQuestionnaireAnswer', { token: t, body: 'a,b', contentType: 'text/csv' }), 415, 'unsupported-media-type');
  expectProblem(await request('POST', '/api/v1/questionnaires/answers', { token: t, json: { ...ok, pad: 'x'.repeat(1_100_000) } }), 413, 'payload-too-large');
  // Nothing of the refused submissions was stored.
  const page = await qmOk('listQuestionnaireAnswers', 200, { token: t, query: { person_id: baby.id } });
  assert.equal(page.items.length, 0);
});

test('who may enter answers: institutions only', async () => {
  const body = { person_id: child.id, template_id: cond.id, answers: { fever: false, infant_only: true } };
  expectProblem(await qm('createQuestionnaireAnswer', { json: body }), 401, 'unauthorized');
  for (const who of [muniA.admin, muniA.user, mhlw, kokuhoren, chuo, ops]) {
    expectProblem(await qm('createQuestionnaireAnswer', { token: who.access, json: body }), 403, 'forbidden');
  }
  // An institution, and only for a patient it identified (instB has no care link to child).
  expectFieldErrors(await qm('createQuestionnaireAnswer', { token: instB.access, json: body }), 'person_id');
  await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: body });
});

test('the judgement and the consent: once, by the visit institution, with the rules', async () => {
  const a = await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: child.id, template_id: mr.id, answers: mrMinor() } });
  const judge = (token, json) => qm('judgeQuestionnaireAnswer', { token, params: { id: a.id }, json });
  const good = { result: 'ok', doctor_name: '試験 医師', explained: true, consent: 'agree', consent_signer: 'guardian' };
  expectFieldErrors(await judge(instA.access, { ...good, explained: false }), 'explained');
  expectFieldErrors(await judge(instA.access, { result: 'ok', doctor_name: '医師', explained: true }), 'consent');
  expectFieldErrors(await judge(instA.access, { ...good, consent_signer: undefined }), 'consent_signer');
  expectFieldErrors(await judge(instA.access, { ...good, consent_signer: 'self' }), 'consent_signer');
  expectFieldErrors(await judge(instA.access, { ...good, result: 'maybe' }), 'result');
  expectFieldErrors(await judge(instA.access, { ...good, doctor_name: '' }), 'doctor_name');
  expectFieldErrors(await judge(instA.access, { ...good, extra: true }), 'extra');
  expectProblem(await judge(instB.access, good), 404, 'not-found');
  expectProblem(await judge(muniA.admin.access, good), 403, 'forbidden');
  expectProblem(await judge(undefined, good), 401, 'unauthorized');
  const j = await judge(instA.access, { ...good, note: '問題なし' });
  assert.equal(j.status, 200, j.text);
  assert.equal(j.body.judgement.result, 'ok');
  assert.equal(j.body.judgement.consent, 'agree');
  assert.equal(j.body.judgement.consent_signer, 'guardian');
  assert.equal(j.body.judgement.doctor_name, '試験 医師');
  assert.equal(j.body.judgement.note, '問題なし');
  expectProblem(await judge(instA.access, good), 409, 'conflict');
  // 見合わせ needs no consent; an adult may sign himself.
  const b = await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: man.id, template_id: mr.id, answers: mrAdult({ unwell_today: true, unwell_today_detail: '発熱' }) } });
  const p = await qmOk('judgeQuestionnaireAnswer', 200, { token: instA.access, params: { id: b.id }, json: { result: 'postpone', doctor_name: '医師', explained: true, note: '37.8℃' } });
  assert.equal(p.judgement.result, 'postpone');
  assert.equal(p.judgement.consent, null);
  const c = await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: man.id, template_id: mr.id, answers: mrAdult() } });
  await qmOk('judgeQuestionnaireAnswer', 200, { token: instA.access, params: { id: c.id }, json: { ...good, consent_signer: 'self' } });
  for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
    expectProblem(await qm('judgeQuestionnaireAnswer', { token: instA.access, params: { id }, json: good }), 404, 'not-found');
  }
});

test('the record link: only for ok with consent, only a record of the same person', async () => {
  const a = await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: child.id, template_id: mr.id, answers: mrMinor() } });
  const link = (token, id, record_id) => qm('linkQuestionnaireRecord', { token, params: { id }, json: { record_id } });
  const none = '00000000-0000-4000-8000-000000000000';
  expectProblem(await link(instA.access, a.id, none), 409, 'conflict'); // not judged yet
  await qmOk('judgeQuestionnaireAnswer', 200, { token: instA.access, params: { id: a.id }, json: { result: 'ok', doctor_name: '医師', explained: true, consent: 'agree', consent_signer: 'guardian' } });
  expectFieldErrors(await link(instA.access, a.id, none), 'record_id');
  expectFieldErrors(await link(instA.access, a.id, 'not-a-uuid'), 'record_id');
  expectProblem(await link(instB.access, a.id, none), 404, 'not-found');
  expectProblem(await link(muniA.admin.access, a.id, none), 403, 'forbidden');
  const d = await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: child.id, template_id: mr.id, answers: mrMinor() } });
  await qmOk('judgeQuestionnaireAnswer', 200, { token: instA.access, params: { id: d.id }, json: { result: 'ok', doctor_name: '医師', explained: true, consent: 'disagree', consent_signer: 'guardian' } });
  expectProblem(await link(instA.access, d.id, none), 409, 'conflict');
  // The record the visit produced (records core's registration after identifying the person
  // at reception by 個人番号), linked once.
  const who = await call('lookupPerson', { token: instA.access, json: { my_number: childMyNumber, birth_date: child.birth_date } });
  assert.equal(who.status, 200, who.text);
  const reg = await call('createImmunization', {
    token: instA.access,
    json: { person_id: child.id, vaccinated_on: addDays(today(), -1), vaccine_code: '631300601', dose_number: 1, lot_no: await currentLot('631300601'), institution_code: instA.org.code, doctor_name: '医師', dose_ml: 0.5, site: '左上腕', category: 'routine' },
  });
  assert.equal(reg.status, 201, reg.text);
  const other = await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: man.id, template_id: mr.id, answers: mrAdult() } });
  await qmOk('judgeQuestionnaireAnswer', 200, { token: instA.access, params: { id: other.id }, json: { result: 'ok', doctor_name: '医師', explained: true, consent: 'agree', consent_signer: 'self' } });
  expectFieldErrors(await link(instA.access, other.id, reg.body.id), 'record_id'); // another person's record
  const linked = await link(instA.access, a.id, reg.body.id);
  assert.equal(linked.status, 200, linked.text);
  assert.equal(linked.body.record_id, reg.body.id);
  assert.ok(linked.body.linked_at);
  expectProblem(await link(instA.access, a.id, reg.body.id), 409, 'conflict');
  const e = await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: child.id, template_id: mr.id, answers: mrMinor() } });
  await qmOk('judgeQuestionnaireAnswer', 200, { token: instA.access, params: { id: e.id }, json: { result: 'ok', doctor_name: '医師', explained: true, consent: 'agree', consent_signer: 'proxy' } });
  expectProblem(await link(instA.access, e.id, reg.body.id), 409, 'conflict'); // already linked to another answer
  const seen = await qmOk('getQuestionnaireAnswer', 200, { token: muniA.user.access, params: { id: a.id } });
  assert.equal(seen.record_id, reg.body.id);
  // A record registered naming another questionnaire (records core's questionnaire_id) is not
  // linked to this one; naming this one, it is.
  const mn = myNumber();
  const kid = await resident(muniA, { birth: addMonths(today(), -13), sex: '1', my_number: mn });
  assert.equal((await call('lookupPerson', { token: instA.access, json: { my_number: mn, birth_date: kid.birth_date } })).status, 200);
  const judged = async () => {
    const x = await qmOk('createQuestionnaireAnswer', 201, { token: instA.access, json: { person_id: kid.id, template_id: mr.id, answers: mrMinor() } });
    await qmOk('judgeQuestionnaireAnswer', 200, { token: instA.access, params: { id: x.id }, json: { result: 'ok', doctor_name: '医師', explained: true, consent: 'agree', consent_signer: 'guardian' } });
    return x;
  };
  const [k1, k2] = [await judged(), await judged()];
  // questionnaire_id must name an answer of the same person: another person's or an unknown
  // one is refused and writes nothing.
  for (const q of [a.id, '6f1c1d1e-0000-4000-8000-00000000dead']) {
    const bad = await call('createImmunization', {
      token: instA.access,
      json: { person_id: kid.id, vaccinated_on: addDays(today(), -2), vaccine_code: '631300601', dose_number: 1, lot_no: await currentLot('631300601'), institution_code: instA.org.code, doctor_name: '医師', dose_ml: 0.5, site: '右上腕', category: 'routine', questionnaire_id: q },
    });
    expectFieldErrors(bad, 'questionnaire_id');
  }
  const reg2 = await call('createImmunization', {
    token: instA.access,
    json: { person_id: kid.id, vaccinated_on: addDays(today(), -1), vaccine_code: '631300601', dose_number: 1, lot_no: await currentLot('631300601'), institution_code: instA.org.code, doctor_name: '医師', dose_ml: 0.5, site: '左上腕', category: 'routine', questionnaire_id: k2.id },
  });
  assert.equal(reg2.status, 201, reg2.text);
  expectFieldErrors(await link(instA.access, k1.id, reg2.body.id), 'record_id');
  assert.equal((await link(instA.access, k2.id, reg2.body.id)).status, 200);
});

test('queries: a municipality its residents, an institution its visits, nobody else', async () => {
  await reach(instB, otherPerson);
  const mine = await qmOk('createQuestionnaireAnswer', 201, { token: instB.access, json: { person_id: otherPerson.id, template_id: cond.id, answers: { fever: false, infant_only: true } } });
  // muniA sees its resident's answers, not muniB's person.
  const pa = await qmOk('listQuestionnaireAnswers', 200, { token: muniA.user.access, query: { person_id: child.id, limit: 200 } });
  assert.ok(pa.items.length >= 3);
  assert.ok(pa.items.every((x) => x.person_id === child.id));
  const pb = await qmOk('listQuestionnaireAnswers', 200, { token: muniA.user.access, query: { person_id: otherPerson.id } });
  assert.equal(pb.items.length, 0);
  expectProblem(await qm('getQuestionnaireAnswer', { token: muniA.user.access, params: { id: mine.id } }), 404, 'not-found');
  const gb = await qmOk('getQuestionnaireAnswer', 200, { token: muniB.user.access, params: { id: mine.id } });
  assert.equal(gb.person_id, otherPerson.id);
  // Institutions see their own visits only.
  await qmOk('getQuestionnaireAnswer', 200, { token: instB.access, params: { id: mine.id } });
  expectProblem(await qm('getQuestionnaireAnswer', { token: instA.access, params: { id: mine.id } }), 404, 'not-found');
  const ia = await qmOk('listQuestionnaireAnswers', 200, { token: instA.access, query: { limit: 200 } });
  assert.ok(ia.items.length > 0);
  assert.ok(ia.items.every((x) => x.institution_code === instA.org.code));
  // Roles without questionnaires.read.
  for (const who of [mhlw, kokuhoren, chuo, ops]) {
    expectProblem(await qm('listQuestionnaireAnswers', { token: who.access }), 403, 'forbidden');
    expectProblem(await qm('getQuestionnaireAnswer', { token: who.access, params: { id: mine.id } }), 403, 'forbidden');
  }
  expectProblem(await qm('listQuestionnaireAnswers', {}), 401, 'unauthorized');
  // A health-management system of muniB with questionnaires:read.
  const tok = await clientToken(muniB.admin, ['questionnaires:read']);
  const viaClient = await qmOk('listQuestionnaireAnswers', 200, { token: tok, query: { person_id: otherPerson.id } });
  assert.deepEqual(viaClient.items.map((x) => x.id), [mine.id]);
  expectProblem(await qm('getQuestionnaireAnswer', { token: tok, params: { id: pa.items[0].id } }), 404, 'not-found');
  expectProblem(await qm('createQuestionnaireAnswer', { token: tok, json: { person_id: otherPerson.id, template_id: cond.id, answers: {} } }), 403, 'forbidden');
});

test('query filters by template, vaccine, disease, date and judgement; pages', async () => {
  const t = muniA.user.access;
  const byTemplate = await qmOk('listQuestionnaireAnswers', 200, { token: t, query: { person_id: child.id, template_code: cond.code, limit: 200 } });
  assert.ok(byTemplate.items.length >= 3);
  assert.ok(byTemplate.items.every((x) => x.template.code === cond.code));
  const byDisease = await qmOk('listQuestionnaireAnswers', 200, { token: t, query: { person_id: child.id, disease_code: 'measles', limit: 200 } });
  assert.ok(byDisease.items.length >= 1 && byDisease.items.every((x) => x.template.code === 'mr'));
  const byVaccine = await qmOk('listQuestionnaireAnswers', 200, { token: t, query: { person_id: child.id, vaccine_code: '631300601', limit: 200 } });
  assert.ok(byVaccine.items.some((x) => x.vaccine_code === '631300601'));
  assert.ok(byVaccine.items.every((x) => x.template.code === 'mr'));
  const future = await qmOk('listQuestionnaireAnswers', 200, { token: t, query: { person_id: child.id, from: addDays(today(), 1) } });
  assert.ok(future.items.length >= 1 && future.items.every((x) => x.visit_on > today()));
  const past = await qmOk('listQuestionnaireAnswers', 200, { token: t, query: { person_id: child.id, to: today(), limit: 200 } });
  assert.ok(past.items.every((x) => x.visit_on <= today()));
  const judged = await qmOk('listQuestionnaireAnswers', 200, { token: t, query: { person_id: child.id, judgement: 'ok', limit: 200 } });
  assert.ok(judged.items.length >= 1 && judged.items.every((x) => x.judgement?.result === 'ok'));
  const pending = await qmOk('listQuestionnaireAnswers', 200, { token: t, query: { person_id: child.id, judgement: 'pending', limit: 200 } });
  assert.ok(pending.items.every((x) => x.judgement === null));
  // Pages of 2 cover the same answers as one page, newest visit first, without repeats.
  const whole = await qmOk('listQuestionnaireAnswers', 200, { token: t, query: { person_id: child.id, limit: 200 } });
  const ids = [];
  let cursor;
  for (let i = 0; i < 100; i++) {
    const p = await qmOk('listQuestionnaireAnswers', 200, { token: t, query: { person_id: child.id, limit: 2, cursor } });
    ids.push(...p.items.map((x) => x.id));
    if (p.next_cursor === null) break;
    cursor = p.next_cursor;
  }
  assert.deepEqual(ids, whole.items.map((x) => x.id));
  for (const [query, field] of [
    [{ person_id: 'abc' }, 'person_id'],
    [{ from: '2026-02-31' }, 'from'],
    [{ to: 'yesterday' }, 'to'],
    [{ judgement: 'maybe' }, 'judgement'],
    [{ template_code: "' OR 1=1 --" }, 'template_code'],
    [{ limit: 500 }, 'limit'],
    [{ cursor: 'bm90IGEgY3Vyc29y' }, 'cursor'],
    [{ sort: 'name' }, 'sort'],
  ]) {
    expectFieldErrors(await qm('listQuestionnaireAnswers', { token: t, query }), field);
  }
});
