// audit-gateway.test.mjs - issue 14: requests the gateway refuses itself (here 413, a body over
// its client_max_body_size) are in the access log too, from nginx's JSON access log, as rows of
// service "gateway" in the same structure, with the request id the client sent.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { ok, request, requestId, eventually } from './lib/http.mjs';
import { chuokai } from './lib/fixtures.mjs';

let ck;
before(async () => {
  ck = await chuokai();
});

test('issue 14: a request refused by the gateway (413) has its access-log row', { timeout: 60_000 }, async () => {
  const rid = requestId();
  const from = new Date(Date.now() - 60_000).toISOString();
  // First a request a service answered (404 from the audit service): logged by that service,
  // never again by the importer, which reads the gateway's log in order and so has passed its
  // line once it has the 413's.
  const rid2 = requestId();
  const nf = await request('GET', '/api/v1/access-logs/no-such-thing', { token: ck.access, requestId: rid2 });
  assert.equal(nf.status, 404);
  const r = await request('POST', '/api/v1/persons?secret=not-logged', {
    requestId: rid,
    body: Buffer.alloc(2 * 1024 * 1024, 0x61),
    contentType: 'application/json',
  });
  assert.equal(r.status, 413, `${r.status} ${r.text.slice(0, 200)}`);
  const row = await eventually(
    async () => {
      const page = await ok('listAccessLogs', 200, { token: ck.access, query: { status: 413, from, limit: 200 } });
      const found = page.items.find((i) => i.request_id === rid);
      assert.ok(found, `no row for ${rid} yet`);
      return found;
    },
    { timeoutMs: 20_000, intervalMs: 500 },
  );
  assert.equal(row.service, 'gateway');
  assert.equal(row.actor_kind, 'anonymous');
  assert.equal(row.method, 'POST');
  assert.equal(row.path, '/api/v1/persons', 'the query string is not logged');
  assert.equal(row.status, 413);
  const again = await ok('listAccessLogs', 200, { token: ck.access, query: { status: 404, from, limit: 200 } });
  const mine = again.items.filter((i) => i.request_id === rid2);
  assert.deepEqual(mine.map((i) => i.service), ['audit'], `rows of the 404: ${JSON.stringify(mine)}`);
});
