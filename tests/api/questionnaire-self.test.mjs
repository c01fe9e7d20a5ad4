// questionnaire-self.test.mjs - the vaccinee's side of screening questionnaires (H-4) through
// the portal: a vaccinee token (RFC 8693 exchange by a portal client, lib/vaccinee.mjs)
// answers before the visit for itself or a minor child in its care, naming the institution;
// that institution (and only it) sees and judges the answers, the municipality sees them in
// its queries; the vaccinee reads its own and its children's answers and nobody else's. Also
// its maternal/child health records (H-7). Every other role's refusal, bad inputs.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { orgWithAdmin, suffix } from './lib/fixtures.mjs';
import { person, portal, linkGuardian, vaccineeToken, dateYearsAgo } from './lib/vaccinee.mjs';
import { withWrongCheckDigit } from './lib/codes.mjs';
import { qm, qmOk, municipality, addMonths, addDays, today } from './lib/qmch.mjs';

let muni, otherMuni, inst, otherInst, parent, child, adultChild, stranger, p, tok, strangerTok, cond;

before(async () => {
  muni = await municipality();
  otherMuni = await municipality();
  inst = (await orgWithAdmin('medical_institution')).adminSession;
  otherInst = (await orgWithAdmin('medical_institution')).adminSession;
  parent = await person(muni.admin, { birth_date: '1990-04-04', sex: '2' });
  child = await person(muni.admin, { birth_date: addMonths(today(), -14), sex: '1' });
  adultChild = await person(muni.admin, { birth_date: dateYearsAgo(20) });
  stranger = await person(otherMuni.admin, { birth_date: '1985-01-01' });
  await linkGuardian(muni.admin, child, parent);
  await linkGuardian(muni.admin, adultChild, parent);
  p = await portal();
  tok = await vaccineeToken(p, parent);
  strangerTok = await vaccineeToken(p, stranger);
  const mhlw = (await orgWithAdmin('mhlw')).adminSession;
  cond = await qmOk('createQuestionnaireTemplate', 201, {
    token: mhlw.access,
    json: {
      code: `self-${suffix(4)}`,
      title: 'ポータル試験',
      questions: [
        { code: 'temperature', label: '体温', type: 'number', required: true, min: 34, max: 42 },
        { code: 'unwell', label: '体調不良', type: 'yes_no', required: true },
        { code: 'unwell_detail', label: '症状', type: 'text', required: true, when: { question: 'unwell', equals: true } },
        { code: 'guardian_name', label: '保護者署名', type: 'text', required: true, when: { max_age_months: 191 } },
      ],
    },
  });
});

function own(person_, answers, extra = {}) {
  return { person_id: person_.id, template_id: cond.id, institution_code: inst.org.code, answers, ...extra };
}

test('a vaccinee answers for itself and for its child; the institution of the visit judges', async () => {
  const mine = await qmOk('submitOwnQuestionnaireAnswer', 201, { token: tok, json: own(parent, { temperature: 36.4, unwell: false }) });
  assert.equal(mine.submitted_via, 'portal');
  assert.equal(mine.person_id, parent.id);
  assert.equal(mine.institution_code, inst.org.code);
  const kid = await qmOk('submitOwnQuestionnaireAnswer', 201, {
    token: tok,
    json: own(child, { temperature: 37.0, unwell: true, unwell_detail: '鼻水', guardian_name: '試験 母' }, { visit_on: addDays(today(), 7) }),
  });
  // The same checks as at the institution: the child needs the guardian's signature.
  expectFieldErrors(await qm('submitOwnQuestionnaireAnswer', { token: tok, json: own(child, { temperature: 37.0, unwell: false }) }), 'answers.guardian_name');
  expectFieldErrors(await qm('submitOwnQuestionnaireAnswer', { token: tok, json: own(parent, { temperature: 36.4, unwell: false, guardian_name: 'x' }) }), 'answers.guardian_name');
  // The institution named sees and judges them; another institution does not.
  const seen = await qmOk('getQuestionnaireAnswer', 200, { token: inst.access, params: { id: kid.id } });
  assert.deepEqual(seen.answers, kid.answers);
  expectProblem(await qm('getQuestionnaireAnswer', { token: otherInst.access, params: { id: kid.id } }), 404, 'not-found');
  const listed = await qmOk('listQuestionnaireAnswers', 200, { token: inst.access, query: { person_id: child.id } });
  assert.deepEqual(listed.items.map((x) => x.id), [kid.id]);
  await qmOk('judgeQuestionnaireAnswer', 200, { token: inst.access, params: { id: kid.id }, json: { result: 'postpone', doctor_name: '医師', explained: true, note: '鼻水' } });
  // The municipality sees its residents' portal answers.
  const m = await qmOk('listQuestionnaireAnswers', 200, { token: muni.user.access, query: { person_id: parent.id } });
  assert.deepEqual(m.items.map((x) => x.id), [mine.id]);
  expectProblem(await qm('getQuestionnaireAnswer', { token: otherMuni.user.access, params: { id: mine.id } }), 404, 'not-found');
  // The vaccinee reads both, with the judgement.
  const all = await qmOk('listOwnQuestionnaireAnswers', 200, { token: tok });
  assert.deepEqual(new Set(all.items.map((x) => x.id)), new Set([mine.id, kid.id]));
  const k = await qmOk('getOwnQuestionnaireAnswer', 200, { token: tok, params: { id: kid.id } });
  assert.equal(k.judgement.result, 'postpone');
  const onlyChild = await qmOk('listOwnQuestionnaireAnswers', 200, { token: tok, query: { person_id: child.id } });
  assert.deepEqual(onlyChild.items.map((x) => x.id), [kid.id]);
});

test('nobody else\'s: a stranger, an adult child, another vaccinee', async () => {
  const body = { temperature: 36.5, unwell: false };
  expectFieldErrors(await qm('submitOwnQuestionnaireAnswer', { token: tok, json: own(stranger, body) }), 'person_id');
  expectFieldErrors(await qm('submitOwnQuestionnaireAnswer', { token: tok, json: own(adultChild, body) }), 'person_id');
  expectFieldErrors(await qm('submitOwnQuestionnaireAnswer', { token: tok, json: own({ id: '00000000-0000-4000-8000-000000000000' }, body) }), 'person_id');
  const theirs = await qmOk('submitOwnQuestionnaireAnswer', 201, { token: strangerTok, json: own(stranger, body) });
  expectProblem(await qm('getOwnQuestionnaireAnswer', { token: tok, params: { id: theirs.id } }), 404, 'not-found');
  const mineList = await qmOk('listOwnQuestionnaireAnswers', 200, { token: tok, query: { limit: 200 } });
  assert.ok(!mineList.items.some((x) => x.id === theirs.id));
  const filtered = await qmOk('listOwnQuestionnaireAnswers', 200, { token: tok, query: { person_id: stranger.id } });
  assert.equal(filtered.items.length, 0);
  const strangers = await qmOk('listOwnQuestionnaireAnswers', 200, { token: strangerTok });
  assert.deepEqual(strangers.items.map((x) => x.id), [theirs.id]);
});

test('a vaccinee token has no staff functions; staff tokens have no portal functions', async () => {
  const body = own(parent, { temperature: 36.5, unwell: false });
  expectProblem(await qm('createQuestionnaireAnswer', { token: tok, json: body }), 403, 'forbidden');
  expectProblem(await qm('listQuestionnaireAnswers', { token: tok }), 403, 'forbidden');
  expectProblem(await qm('createQuestionnaireTemplate', { token: tok, json: { code: 'x', title: 'x', questions: [] } }), 403, 'forbidden');
  expectProblem(await qm('listMchRecords', { token: tok }), 403, 'forbidden');
  // Templates are readable by the portal.
  const t = await qmOk('getQuestionnaireTemplate', 200, { token: tok, params: { id: cond.id } });
  assert.equal(t.id, cond.id);
  for (const who of [muni.admin, inst]) {
    expectProblem(await qm('submitOwnQuestionnaireAnswer', { token: who.access, json: body }), 403, 'forbidden');
    expectProblem(await qm('listOwnQuestionnaireAnswers', { token: who.access }), 403, 'forbidden');
    expectProblem(await qm('listOwnMchRecords', { token: who.access }), 403, 'forbidden');
  }
  expectProblem(await qm('listOwnQuestionnaireAnswers', {}), 401, 'unauthorized');
  expectProblem(await qm('listOwnQuestionnaireAnswers', { token: `${tok.slice(0, -4)}AAAA` }), 401, 'unauthorized');
});

test('bad portal submissions and queries', async () => {
  const ok = own(parent, { temperature: 36.5, unwell: false });
  for (const [json, field] of [
    [{ ...ok, institution_code: undefined }, 'institution_code'],
    [{ ...ok, institution_code: withWrongCheckDigit(inst.org.code) }, 'institution_code'],
    [{ ...ok, institution_code: '99' + inst.org.code.slice(2) }, 'institution_code'],
    [{ ...ok, institution_code: 12345 }, 'institution_code'],
    [{ ...ok, template_id: '00000000-0000-4000-8000-000000000000' }, 'template_id'],
    [{ ...ok, answers: { temperature: 50, unwell: false } }, 'answers.temperature'],
    [{ ...ok, answers: { temperature: 36.5, unwell: false, unwell_detail: 'x' } }, 'answers.unwell_detail'],
    [{ ...ok, visit_on: '2020-01-01' }, 'visit_on'],
    [{ ...ok, role: 'admin' }, 'role'],
  ]) {
    expectFieldErrors(await qm('submitOwnQuestionnaireAnswer', { token: tok, json }), field);
  }
  expectProblem(await qm('submitOwnQuestionnaireAnswer', { token: tok, body: '{', contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await qm('submitOwnQuestionnaireAnswer', { token: tok, body: 'x', contentType: 'text/plain' }), 415, 'unsupported-media-type');
  for (const [query, field] of [
    [{ person_id: 'me' }, 'person_id'],
    [{ limit: 0 }, 'limit'],
    [{ cursor: '%%%' }, 'cursor'],
    [{ all: 'true' }, 'all'],
  ]) {
    expectFieldErrors(await qm('listOwnQuestionnaireAnswers', { token: tok, query }), field);
  }
  for (const id of ['00000000-0000-4000-8000-000000000000', "' OR 1=1"]) {
    expectProblem(await qm('getOwnQuestionnaireAnswer', { token: tok, params: { id } }), 404, 'not-found');
  }
});

test('maternal/child health through the portal: one\'s own and one\'s minor children\'s', async () => {
  const rec = (who, kind, data) => ({ person_id: who.id, kind, examined_on: today(), source: 'municipality', data });
  const preg = await qmOk('createMchRecord', 201, {
    token: muni.user.access,
    json: rec(parent, 'pregnancy', { expected_delivery_date: today(), pregnancy_weeks: 40 }),
  });
  const kid = await qmOk('createMchRecord', 201, {
    token: muni.user.access,
    json: rec(child, 'infant_checkup', { checkup_age: 'other', height_cm: 76, weight_kg: 9.8, overall: 'normal' }),
  });
  const adult = await qmOk('createMchRecord', 201, {
    token: muni.user.access,
    json: rec(adultChild, 'checkup', { checkup_type: 'workplace', results: [{ code: 'bmi', value: 21 }] }),
  });
  const mine = await qmOk('listOwnMchRecords', 200, { token: tok, query: { limit: 200 } });
  assert.deepEqual(new Set(mine.items.map((x) => x.id)), new Set([preg.id, kid.id]));
  assert.ok(!mine.items.some((x) => x.id === adult.id));
  const onlyKid = await qmOk('listOwnMchRecords', 200, { token: tok, query: { person_id: child.id, kind: 'infant_checkup' } });
  assert.deepEqual(onlyKid.items.map((x) => x.id), [kid.id]);
  const none = await qmOk('listOwnMchRecords', 200, { token: strangerTok });
  assert.equal(none.items.length, 0);
  const leak = await qmOk('listOwnMchRecords', 200, { token: strangerTok, query: { person_id: parent.id } });
  assert.equal(leak.items.length, 0);
  expectFieldErrors(await qm('listOwnMchRecords', { token: tok, query: { kind: 'all' } }), 'kind');
  expectFieldErrors(await qm('listOwnMchRecords', { token: tok, query: { person_id: 'x' } }), 'person_id');
});

test('who viewed my questionnaires: staff reads are in the vaccinee\'s access log', async () => {
  const a = await qmOk('submitOwnQuestionnaireAnswer', 201, { token: tok, json: own(child, { temperature: 36.8, unwell: false, guardian_name: '試験 母' }) });
  await qmOk('getQuestionnaireAnswer', 200, { token: inst.access, params: { id: a.id } });
  await qmOk('listQuestionnaireAnswers', 200, { token: muni.user.access, query: { person_id: child.id } });
  const r = await request('GET', '/api/v1/access-logs/about-me', { token: tok, query: { person_id: child.id, limit: 200 } });
  assert.equal(r.status, 200, r.text);
  const q = r.body.items.filter((x) => x.resource_type === 'questionnaire' && x.person_id === child.id);
  assert.ok(q.some((x) => x.viewer.organization_type === 'medical_institution' && x.method === 'GET'), r.text.slice(0, 800));
  assert.ok(q.some((x) => x.viewer.organization_type === 'municipality'), r.text.slice(0, 800));
  // The vaccinee's own reads are left out.
  assert.ok(!r.body.items.some((x) => x.viewer.kind === 'vaccinee'));
});
