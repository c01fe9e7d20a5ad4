// self-view.test.mjs - the vaccinee's own view (H-3-3) and "who viewed my records": a vaccinee
// token reads its person and the minor children linked to it as guardian, and nobody else
// (another person, a sibling without a link, an adult child, a child under non-disclosure: 404);
// voided records are left out; staff tokens have no self view; bad inputs on every endpoint.
// The access log of the family shows staff as organisation + role, never a login id.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { request, call, eventually } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { municipality, person, portal, linkGuardian, immunization, vaccineeToken, dateYearsAgo } from './lib/vaccinee.mjs';

let muni, otherMuni, parent, child, sibling, adultChild, hiddenChild, stranger, p, tok, childRec, voided;

before(async () => {
  muni = await municipality();
  otherMuni = await municipality();
  parent = await person(muni);
  child = await person(muni, { birth_date: dateYearsAgo(5), sex: '2' });
  sibling = await person(muni, { birth_date: dateYearsAgo(7) }); // no link to the parent
  adultChild = await person(muni, { birth_date: dateYearsAgo(19) });
  hiddenChild = await person(muni, { birth_date: dateYearsAgo(3), non_disclosure: true });
  stranger = await person(otherMuni);
  await linkGuardian(muni, child, parent);
  await linkGuardian(muni, adultChild, parent);
  await linkGuardian(muni, hiddenChild, parent);
  await immunization(parent, muni.org.code, { vaccine_code: '182110901', disease_codes: ['covid19'], vaccinated_on: dateYearsAgo(1) });
  childRec = await immunization(child, muni.org.code, { vaccinated_on: dateYearsAgo(1, 30) });
  voided = await immunization(child, muni.org.code, { vaccinated_on: dateYearsAgo(3), status: 'voided' });
  await immunization(sibling, muni.org.code, {});
  p = await portal();
  tok = await vaccineeToken(p, parent);
});

test('GET /persons/me: the person and the minor, disclosed children it is guardian of', async () => {
  const r = await call('getSelf', { token: tok });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.person.id, parent.id);
  assert.equal(r.body.person.relationship, 'self');
  assert.equal(r.body.person.municipality_code, muni.org.code);
  assert.deepEqual(r.body.children.map((c) => c.id), [child.id]);
  assert.equal(r.body.children[0].relationship, 'child');
  for (const x of [r.body.person, ...r.body.children]) assert.equal(x.my_number, undefined);
  assert.ok(!r.text.includes(parent.my_number));
});

test('own records and the child\'s; voided records are left out; names from the masters', async () => {
  const mine = await call('getSelfImmunizations', { token: tok });
  assert.equal(mine.status, 200, mine.text);
  assert.equal(mine.body.person_id, parent.id);
  assert.equal(mine.body.items.length, 1);
  assert.equal(mine.body.items[0].vaccine_code, '182110901');
  assert.equal(mine.body.items[0].vaccine_name, 'コミナティ筋注');
  const c = await call('getSelfChild', { token: tok, params: { id: child.id } });
  assert.equal(c.status, 200, c.text);
  assert.equal(c.body.id, child.id);
  const recs = await call('getSelfChildImmunizations', { token: tok, params: { id: child.id } });
  assert.equal(recs.status, 200, recs.text);
  assert.deepEqual(recs.body.items.map((i) => i.id), [childRec.id]);
  assert.ok(!recs.body.items.some((i) => i.id === voided.id));
  assert.equal(recs.body.items[0].lot_no, childRec.lot_no);
  assert.equal(recs.body.items[0].vaccine_name, 'ミールビック');
});

test('?include=immunizations: the person (or a child) and its records in one request, as the two paths show them', async () => {
  const me = await call('getSelf', { token: tok, query: { include: 'immunizations' } });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.person.id, parent.id);
  assert.deepEqual(me.body.children.map((c) => c.id), [child.id]);
  const mine = await call('getSelfImmunizations', { token: tok });
  assert.deepEqual(me.body.immunizations, mine.body.items);
  const c = await call('getSelfChild', { token: tok, params: { id: child.id }, query: { include: 'immunizations' } });
  assert.equal(c.status, 200, c.text);
  assert.equal(c.body.id, child.id);
  assert.deepEqual(c.body.immunizations.map((i) => i.id), [childRec.id]);
  assert.ok(!c.text.includes(voided.id));
  // Without it, nothing more than before.
  const plain = await call('getSelfChild', { token: tok, params: { id: child.id } });
  assert.equal(plain.body.immunizations, undefined);
  // Nobody else's records by the include either; other values and parameters are refused.
  for (const x of [stranger, sibling, adultChild, hiddenChild]) {
    expectProblem(await call('getSelfChild', { token: tok, params: { id: x.id }, query: { include: 'immunizations' } }), 404, 'not-found');
  }
  for (const query of [{ include: 'my_number' }, { include: '' }, { include: 'immunizations', x: '1' }]) {
    expectProblem(await call('getSelf', { token: tok, query }), 422, 'validation-failed');
    expectProblem(await call('getSelfChild', { token: tok, params: { id: child.id }, query }), 422, 'validation-failed');
  }
  expectProblem(await call('getSelfChildImmunizations', { token: tok, params: { id: child.id }, query: { include: 'immunizations' } }), 422, 'validation-failed');
});

test('boundary: another person, a sibling without link, an adult or hidden child are 404', async () => {
  for (const x of [stranger, sibling, adultChild, hiddenChild, parent]) {
    expectProblem(await call('getSelfChild', { token: tok, params: { id: x.id } }), 404, 'not-found');
    expectProblem(await call('getSelfChildImmunizations', { token: tok, params: { id: x.id } }), 404, 'not-found');
  }
  // The child's own token (if the portal verified the child) sees the child, not the parent.
  const childTok = await vaccineeToken(p, child);
  const me = await call('getSelf', { token: childTok });
  assert.equal(me.body.person.id, child.id);
  assert.deepEqual(me.body.children, []);
  expectProblem(await call('getSelfChild', { token: childTok, params: { id: parent.id } }), 404, 'not-found');
  // Staff endpoints stay closed to a vaccinee, whoever the id names.
  for (const id of [parent.id, child.id, stranger.id]) {
    expectProblem(await request('GET', `/api/v1/persons/${id}`, { token: tok }), 403, 'forbidden');
  }
});

test('staff and API clients have no self view; no token is 401', async () => {
  for (const op of ['getSelf', 'getSelfImmunizations']) {
    expectProblem(await call(op, { token: muni.access }), 403, 'forbidden');
    expectProblem(await call(op, {}), 401, 'unauthorized');
  }
  expectProblem(await call('getSelfChild', { token: muni.access, params: { id: child.id } }), 403, 'forbidden');
  expectProblem(await call('getAccessLogsAboutMe', { token: muni.access }), 403, 'forbidden');
  expectProblem(await call('getAccessLogsAboutMe', {}), 401, 'unauthorized');
});

test('bad inputs: query parameters, ids that are no uuid, injection, a forged token', async () => {
  expectProblem(await call('getSelf', { token: tok, query: { include: 'my_number' } }), 422, 'validation-failed');
  expectProblem(await call('getSelfImmunizations', { token: tok, query: { person_id: child.id } }), 422, 'validation-failed');
  for (const id of ['me', 'not-a-uuid', "x' OR '1'='1", '00000000-0000-4000-8000-000000000000']) {
    expectProblem(await call('getSelfChild', { token: tok, params: { id } }), 404, 'not-found');
  }
  const forged = `${tok.slice(0, -4)}AAAA`;
  expectProblem(await call('getSelf', { token: forged }), 401, 'unauthorized');
  const r = await request('GET', '/api/v1/persons/me?x=%FF', { token: tok });
  expectProblem(r, 400, 'bad-request');
});

test('who viewed my records: staff as organisation and role; own views left out; only the family', async () => {
  // The municipality's staff read the child's record and the parent.
  const v1 = await request('GET', `/api/v1/persons/${child.id}`, { token: muni.access });
  assert.equal(v1.status, 200, v1.text);
  const v2 = await request('GET', `/api/v1/persons/${parent.id}`, { token: muni.access });
  assert.equal(v2.status, 200, v2.text);
  await eventually(async () => {
    const r = await call('getAccessLogsAboutMe', { token: tok });
    assert.equal(r.status, 200, r.text);
    const staff = r.body.items.filter((i) => i.viewer.kind === 'staff');
    assert.ok(staff.some((i) => i.person_id === child.id), r.text);
    assert.ok(staff.some((i) => i.person_id === parent.id), r.text);
    for (const i of staff) {
      assert.equal(i.viewer.organization_type, 'municipality');
      assert.equal(i.viewer.organization_type_label, '市区町村');
      assert.equal(i.viewer.municipality_code, muni.org.code);
      assert.equal(i.viewer.role, 'admin');
    }
    assert.ok(!r.text.includes(muni.user_id), 'a login id leaked');
    // The parent's own views are left out; the child's own token did view the child.
    assert.ok(r.body.items.filter((i) => i.viewer.kind === 'vaccinee').every((i) => i.person_id === child.id), 'own views are left out');
    assert.ok(r.body.items.every((i) => [parent.id, child.id].includes(i.person_id)));
  }, { timeoutMs: 8000 });
  // Narrowed to the child; a stranger or a sibling is 404.
  const c = await call('getAccessLogsAboutMe', { token: tok, query: { person_id: child.id, limit: 1 } });
  assert.equal(c.status, 200, c.text);
  assert.equal(c.body.items.length, 1);
  assert.equal(c.body.items[0].person_id, child.id);
  if (c.body.next_cursor) {
    const n = await call('getAccessLogsAboutMe', { token: tok, query: { person_id: child.id, limit: 1, cursor: c.body.next_cursor } });
    assert.equal(n.status, 200, n.text);
    assert.notDeepEqual(n.body.items, c.body.items);
  }
  for (const x of [stranger, sibling]) {
    expectProblem(await call('getAccessLogsAboutMe', { token: tok, query: { person_id: x.id } }), 404, 'not-found');
  }
  expectProblem(await call('getAccessLogsAboutMe', { token: tok, query: { actor: 'x' } }), 422, 'validation-failed');
  expectProblem(await call('getAccessLogsAboutMe', { token: tok, query: { limit: 0 } }), 422, 'validation-failed');
  expectProblem(await call('getAccessLogsAboutMe', { token: tok, query: { cursor: 'bm90LWEtY3Vyc29y' } }), 422, 'validation-failed');
  // The stranger's own view shows none of this family's rows.
  const s = await call('getAccessLogsAboutMe', { token: await vaccineeToken(p, stranger) });
  assert.equal(s.status, 200);
  assert.ok(s.body.items.every((i) => i.person_id === stranger.id));
});
