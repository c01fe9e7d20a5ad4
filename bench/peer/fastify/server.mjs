// server.mjs - the Node.js peer of bench/lookup.sh (benchmark only, not part of the product).
//
// GET /bench/fastify/immunizations/:id does the work of the records service's
// GET /api/v1/immunizations/:id, the way a Fastify service would: verify the bearer token
// (ES256 with jose against the stack's JWKS, issuer, expiry), take the caller's organisation
// from the claims, run the same SQL (services/records/records_read.c: rec_h_imm_get with
// REC_IMM_VIEW and REC_IMM_VISIBLE, as a prepared statement on a pg pool), and append the same
// access-log row (audit.access_log, the library's INSERT ... json_to_recordset) before answering.
// No token cache and no batching of log rows: one verification and one commit per request, as
// a plain Fastify handler does.
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

// Verbatim from services/records/records_read.c (REC_IMM_VIEW("im"), REC_IMM_VISIBLE("im")).
const LOOKUP =
  "SELECT (CASE WHEN $1 = 'mhlw' THEN records.immunization_json(im) || jsonb_build_object(" +
  "'person_id', NULL) ELSE records.immunization_json(im) END)::text FROM records.immunizations im WHERE " +
  "im.id = $5::uuid AND (CASE $1 WHEN 'muni' THEN EXISTS (SELECT 1 FROM records.persons vp WHERE vp.id = im" +
  ".person_id AND (vp.muni_code = $2 OR (im.muni_code = $2 AND records.person_visible(vp, $2)))) " +
  'WHEN \'inst\' THEN im.registered_org_id = $3::uuid OR EXISTS (SELECT 1 FROM records.care_links cl ' +
  'WHERE cl.org_id = $3::uuid AND cl.person_id = im.person_id AND cl.until > now()) WHEN ' +
  "'kokuhoren' THEN im.claimable AND left(im.institution_code, 2) = $4 WHEN 'mhlw' THEN true ELSE false END)";

// Verbatim from libs/common/src/audit.c.
const LOG =
  'INSERT INTO audit.access_log (request_id, service, actor_kind, actor_id, actor_login, ' +
  'org_id, org_type, muni_code, role, method, route, path, res_type, res_id, person_id, ' +
  'subject_org_id, subject_muni, status, client_ip, duration_us) ' +
  'SELECT x.request_id, x.service, x.actor_kind, x.actor_id, x.actor_login, x.org_id, ' +
  'x.org_type, x.muni_code, x.role, x.method, x.route, x.path, x.res_type, x.res_id, ' +
  'x.person_id, x.subject_org_id, x.subject_muni, x.status, x.client_ip, x.duration_us ' +
  'FROM json_to_recordset($1::json) AS x(request_id text, service text, actor_kind text, ' +
  'actor_id text, actor_login text, org_id text, org_type text, muni_code text, role text, ' +
  'method text, route text, path text, res_type text, res_id text, person_id text, ' +
  'subject_org_id text, subject_muni text, status integer, client_ip text, ' +
  'duration_us bigint)';

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
    ({ payload: claims } = await jose.jwtVerify(auth.slice(7), jwks, { issuer, algorithms: ['ES256'], clockTolerance: 30 }));
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
  await pool.query({ name: 'log', text: LOG, values: [JSON.stringify([row])] });
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
