// server.mjs - the Node.js peer of bench/lookup.sh (benchmark only, not part of the product).
//
// GET /bench/fastify/immunizations/:id does the work of the records service's
// GET /api/v1/immunizations/:id, the way a Fastify service would: verify the bearer token
// (ES256 with jose against the stack's JWKS, issuer, expiry), take the caller's organisation
// from the claims, run the same SQL (the viewer CASE of services/records/sql/immunizations.sql,
// as a prepared statement on a pg pool), and have the same
// access-log row committed before answering - written the way a good Node engineer would
// (issue 14 §3), so that "ahead of the peer" means ahead of a good one:
//   * verified tokens are cached until they expire (a bounded Map keyed by the token; a token
//     is verified once, then each request costs a lookup and an expiry check);
//   * log rows are group-committed: requests queue their rows and wait; one flusher sends all
//     rows queued so far in one statement (the library's own audit.append with one array per
//     column and the peer's writer stream, services/audit/migrations/007) and wakes them; rows
//     queued meanwhile form the next batch. Durability is the service's: no answer before its
//     row has committed.
//
// Configuration from the environment: PORT, PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD,
// JWKS_URL, ISSUER, POOL (default 4).
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';
import * as jose from 'jose';

const port = Number(process.env.PORT ?? 8198);
const issuer = process.env.ISSUER;
const jwks = jose.createLocalJWKSet(await (await fetch(process.env.JWKS_URL)).json());
const pool = new pg.Pool({ max: Number(process.env.POOL ?? 4) });

// The record as the viewer sees it and who sees it, as in services/records/sql/immunizations.sql.
const LOOKUP =
  "SELECT (CASE WHEN $1 = 'mhlw' THEN records.immunization_json(im) || jsonb_build_object(" +
  "'person_id', NULL) ELSE records.immunization_json(im) END)::text FROM records.immunizations im WHERE " +
  "im.id = $5::uuid AND (CASE $1 WHEN 'muni' THEN EXISTS (SELECT 1 FROM records.persons vp WHERE vp.id = im" +
  ".person_id AND (vp.muni_code = $2 OR (im.muni_code = $2 AND records.person_visible(vp, $2)))) " +
  'WHEN \'inst\' THEN im.registered_org_id = $3::uuid OR EXISTS (SELECT 1 FROM records.care_links cl ' +
  'WHERE cl.org_id = $3::uuid AND cl.person_id = im.person_id AND cl.until > now()) WHEN ' +
  "'kokuhoren' THEN im.claimable AND left(im.institution_code, 2) = $4 WHEN 'mhlw' THEN true ELSE false END)";

// Verbatim from libs/common/src/audit_batch.c: one array per column, then the stream.
const LOG =
  'SELECT audit.append($21::text, $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], ' +
  '$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], ' +
  '$13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], ' +
  '$19::integer[], $20::bigint[])';
const COLS = ['request_id', 'service', 'actor_kind', 'actor_id', 'actor_login', 'org_id', 'org_type',
  'muni_code', 'role', 'method', 'route', 'path', 'res_type', 'res_id', 'person_id', 'subject_org_id',
  'subject_muni', 'client_ip', 'status', 'duration_us'];
const STREAM = `bench-fastify/${process.pid}/w`;

// Group commit: one flusher at a time; each request waits for the batch that carries its row.
let queue = [];
let flushing = false;
async function flush() {
  flushing = true;
  while (queue.length > 0) {
    const batch = queue;
    queue = [];
    const values = COLS.map((c) => batch.map((b) => b.row[c]));
    values.push(STREAM);
    try {
      await pool.query({ name: 'log', text: LOG, values });
      for (const b of batch) b.resolve();
    } catch (e) {
      for (const b of batch) b.reject(e);
    }
  }
  flushing = false;
}
function logRow(row) {
  return new Promise((resolve, reject) => {
    queue.push({ row, resolve, reject });
    if (!flushing) flush();
  });
}

// Verified tokens until they expire (at most 10,000; the oldest entries go first).
const verified = new Map();
async function claimsOf(token) {
  const hit = verified.get(token);
  const now = Date.now() / 1000;
  if (hit && hit.exp > now) return hit;
  const { payload } = await jose.jwtVerify(token, jwks, { issuer, algorithms: ['ES256'], clockTolerance: 30 });
  if (verified.size >= 10000) verified.delete(verified.keys().next().value);
  verified.set(token, payload);
  return payload;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function viewer(c) {
  if (c.org_type === 'municipality' && c.muni) return 'muni';
  if (c.org_type === 'medical_institution' || c.org_type === 'non_insurance_medical_institution') return 'inst';
  if (c.org_type === 'kokuhoren' && c.pref) return 'kokuhoren';
  if (c.org_type === 'mhlw') return 'mhlw';
  return null;
}

const app = Fastify({ logger: { level: 'error' } });

app.get('/bench/fastify/immunizations/:id', async (req, reply) => {
  const t0 = process.hrtime.bigint();
  const rid = req.headers['x-request-id'] ?? randomUUID();
  let claims = null;
  let status = 200;
  let body = null;
  const auth = req.headers.authorization ?? '';
  try {
    claims = await claimsOf(auth.slice(7));
  } catch {
    status = 401;
  }
  const v = claims && viewer(claims);
  const scopes = claims?.client_id ? String(claims.scope ?? '').split(' ') : null;
  if (status === 200 && (!v || (scopes && !scopes.includes('records:read')))) status = 403;
  let person = null;
  if (status === 200) {
    const id = req.params.id;
    const r = UUID.test(id)
      ? await pool.query({ name: 'lookup', text: LOOKUP, rowMode: 'array', values: [v, claims.muni ?? null, claims.org, claims.pref ?? null, id] })
      : { rowCount: 0 };
    if (r.rowCount === 1) {
      body = r.rows[0][0];
      person = JSON.parse(body).person_id ?? null;
    } else status = 404;
  }
  const row = {
    request_id: rid, service: 'records', actor_kind: claims ? (claims.client_id ? 'client' : 'user') : 'anonymous',
    actor_id: claims?.sub ?? null, actor_login: claims?.uid ?? null, org_id: claims?.org ?? null,
    org_type: claims?.org_type ?? null, muni_code: claims?.muni ?? null, role: claims?.role ?? null,
    method: 'GET', route: '/api/v1/immunizations/:id', path: req.url, res_type: 'immunization',
    res_id: req.params.id, person_id: person, subject_org_id: null, subject_muni: null, status,
    client_ip: req.headers['x-real-ip'] ?? req.ip, duration_us: Number((process.hrtime.bigint() - t0) / 1000n),
  };
  try {
    await logRow(row);
  } catch {
    reply.code(503).header('content-type', 'application/problem+json').header('x-request-id', rid);
    return JSON.stringify({ status: 503, title: 'the access log is unavailable' });
  }
  reply.code(status).header('content-type', status === 200 ? 'application/json' : 'application/problem+json').header('x-request-id', rid);
  return body ?? JSON.stringify({ status });
});

await app.listen({ port, host: '127.0.0.1' });
const stop = async () => {
  await app.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
