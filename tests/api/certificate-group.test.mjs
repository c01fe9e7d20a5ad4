// certificate-group.test.mjs - issuances share commits (libs/common group.h, docs/architecture.md
// §3a): many concurrent issuances, some under one Idempotency-Key and some that fail inside the
// shared transaction (a reissue_of of another person), each answered on its own: every 201 is a
// certificate that is there, the keyed ones one certificate, the failed ones leave nothing, and
// the access log has exactly one row for every request (the committed ones with their change,
// the failed ones through the dispatcher), whatever batch each ended up in.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { expectContract } from './lib/contract.mjs';
import { municipality, person, immunization, dateYearsAgo } from './lib/vaccinee.mjs';

let muni, q, other, otherCert;

before(async () => {
  muni = await municipality();
  q = await person(muni, { name: '同時 発行' });
  other = await person(muni, { name: '別人 発行' });
  await immunization(q, muni.org.code, { vaccinated_on: dateYearsAgo(1) });
  await immunization(other, muni.org.code, { vaccinated_on: dateYearsAgo(1) });
  const c = await request('POST', '/api/v1/certificates', {
    token: muni.access, json: { person_id: other.id, identity_check: { method: 'passport' } },
  });
  assert.equal(c.status, 201, c.text);
  otherCert = c.body;
});

async function certsOf(personId) {
  const r = await request('GET', '/api/v1/certificates', { token: muni.access, query: { person_id: personId, limit: 200 } });
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

// Every access-log row of the certificate service for these request ids (the records service
// logs its reads under the same ids, as resource type person: not counted here).
async function rowsOf(rids, since) {
  const rows = [];
  let cursor;
  do {
    const r = await request('GET', '/api/v1/access-logs', {
      token: muni.access,
      query: { organization_id: muni.org.id, resource_type: 'certificate', from: since, limit: 200, ...(cursor ? { cursor } : {}) },
    });
    assert.equal(r.status, 200, r.text);
    rows.push(...r.body.items.filter((e) => rids.has(e.request_id)));
    cursor = r.body.next_cursor;
  } while (cursor);
  return rows;
}

test('concurrent issuances share commits: each atomic, each answered once durable, one log row each', async () => {
  const since = new Date(Date.now() - 5000).toISOString();
  const tag = `grp-${Date.now()}`;
  const body = { person_id: q.id, identity_check: { method: 'passport' } };
  const plain = Array.from({ length: 16 }, (_, i) => ({ rid: `${tag}-p${i}`, json: body, headers: {} }));
  const keyed = Array.from({ length: 4 }, (_, i) => ({ rid: `${tag}-k${i}`, json: body, headers: { 'Idempotency-Key': `${tag}-key` } }));
  // A reissue_of that names another person's certificate: refused inside the shared transaction.
  const bad = Array.from({ length: 4 }, (_, i) => ({ rid: `${tag}-b${i}`, json: { ...body, reissue_of: otherCert.id }, headers: {} }));
  const all = [...plain, ...keyed, ...bad].sort(() => Math.random() - 0.5);
  const before = (await certsOf(q.id)).length;
  const answers = new Map(await Promise.all(all.map(async (x) => [x.rid,
    await request('POST', '/api/v1/certificates', { token: muni.access, json: x.json, headers: x.headers, requestId: x.rid })])));

  const made = new Set();
  for (const x of plain) {
    const r = answers.get(x.rid);
    assert.equal(r.status, 201, r.text);
    expectContract(r, 'issueCertificate');
    assert.ok(!made.has(r.body.id), 'every request without a key is a certificate of its own');
    made.add(r.body.id);
  }
  const keyedIds = new Set(keyed.map((x) => answers.get(x.rid)).map((r) => {
    assert.equal(r.status, 201, r.text);
    return r.body.id;
  }));
  assert.equal(keyedIds.size, 1, 'the requests under one key are one certificate');
  for (const x of bad) {
    const r = answers.get(x.rid);
    expectProblem(r, 422, 'validation-failed');
    assert.ok(r.body.errors.some((e) => e.field === 'reissue_of'), r.text);
  }
  // Each 201 was answered after its commit: the certificate is there, and nothing else is.
  const now = await certsOf(q.id);
  assert.equal(now.length, before + plain.length + 1, 'the failed ones left nothing behind');
  for (const id of [...made, ...keyedIds]) assert.ok(now.some((c) => c.id === id), `${id} is in the log`);
  for (const id of made) {
    const g = await request('GET', `/api/v1/certificates/${id}`, { token: muni.access });
    assert.equal(g.status, 200, g.text);
  }

  const rids = new Set(all.map((x) => x.rid));
  const rows = await rowsOf(rids, since);
  for (const x of all) {
    const mine = rows.filter((e) => e.request_id === x.rid && e.method === 'POST');
    assert.equal(mine.length, 1, `exactly one access-log row for ${x.rid}: ${JSON.stringify(mine)}`);
    assert.equal(mine[0].status, answers.get(x.rid).status, `${x.rid}: the row has the answer's status`);
  }
  for (const x of plain) {
    const row = rows.find((e) => e.request_id === x.rid);
    assert.equal(row.resource_id, answers.get(x.rid).body.id, 'the row names the certificate it committed with');
  }
});
