// qmch.mjs - what questionnaire*.test.mjs and mch*.test.mjs share: the contracts of
// proto-schemas/questionnaires.yaml and mch.yaml as executable checks (by operationId), and
// fixtures: a municipality with residents (records core's persons API), guardian links,
// institutions, template managers, API client tokens.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { SCHEMA_DIR, deref } from './contract.mjs';
import { request } from './http.mjs';
import { myNumber } from './records.mjs';
import { checkProblemTitle } from './problem.mjs';
import { orgWithAdmin, userIn, suffix } from './fixtures.mjs';

const DOCS = ['questionnaires.yaml', 'mch.yaml'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);

let index;
// operationId -> { method, path, op (dereferenced), doc }
export function qmOperations() {
  if (index) return index;
  index = new Map();
  for (const name of DOCS) {
    const file = path.join(SCHEMA_DIR, name);
    const doc = YAML.parse(readFileSync(file, 'utf8'));
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const m of METHODS) {
        if (!item[m]) continue;
        assert.ok(!index.has(item[m].operationId), `duplicate operationId ${item[m].operationId}`);
        index.set(item[m].operationId, { method: m.toUpperCase(), path: p, op: deref(item[m], file), doc: name });
      }
    }
  }
  return index;
}

const validators = new Map();
function validatorFor(opId, key, media, schema) {
  const k = `${opId} ${key} ${media}`;
  if (!validators.has(k)) validators.set(k, ajv.compile(schema));
  return validators.get(k);
}

// The answer r of operation opId is documented (status, media type) and its body validates.
export function qmContract(r, opId) {
  const o = qmOperations().get(opId);
  assert.ok(o, `unknown operation ${opId}`);
  const s = String(r.status);
  const key = [s, `${s[0]}XX`, 'default'].find((k) => o.op.responses[k]);
  assert.ok(key, `${opId}: ${r.status} not documented: ${r.text.slice(0, 300)}`);
  const content = o.op.responses[key].content ?? {};
  const media = (r.headers.get('content-type') ?? '').split(';')[0].trim();
  assert.ok(content[media], `${opId} ${r.status}: media type "${media}" not documented: ${r.text.slice(0, 200)}`);
  const v = validatorFor(opId, key, media, content[media].schema);
  assert.ok(v(r.body), `${opId} ${r.status}: ${JSON.stringify(v.errors?.slice(0, 5))} in ${r.text.slice(0, 500)}`);
  if (media === 'application/problem+json') checkProblemTitle(r.body, `${opId} ${r.status}`);
  return r;
}

function fill(template, params = {}) {
  return template.replace(/\{([^}]+)\}/g, (_, n) => {
    assert.ok(params[n] !== undefined, `path parameter ${n} missing`);
    return encodeURIComponent(params[n]);
  });
}

// Call an operation of questionnaires.yaml / mch.yaml and check the answer against it.
export async function qm(opId, opts = {}) {
  const o = qmOperations().get(opId);
  assert.ok(o, `unknown operation ${opId}`);
  const r = await request(o.method, fill(o.path, opts.params), opts);
  return qmContract(r, opId);
}

// qm() that must answer `status`; returns the body.
export async function qmOk(opId, status, opts = {}) {
  const r = await qm(opId, opts);
  assert.equal(r.status, status, `${opId}: expected ${status}, got ${r.status} ${r.text.slice(0, 500)}`);
  return r.body;
}

// ---- fixtures -------------------------------------------------------------------------------

// Today and date arithmetic in Japan time (the service's "today"): lib/dates.mjs.
export { today, addDays, addMonths } from './dates.mjs';

// A municipality: admin session (persons.write, mch.write, questionnaires.read) and a user.
export async function municipality() {
  const made = await orgWithAdmin('municipality');
  const admin = made.adminSession;
  const user = await userIn(admin, 'user');
  return { code: made.code, org: made.org, admin, user };
}

// Each resident's 個人番号 and birth date, by person id: what an institution shows to reach them.
const identities = new Map();

// A resident of the municipality (records core's POST /api/v1/persons). Returns the person.
export async function resident(muni, { birth, sex = '1', ...extra } = {}) {
  const json = {
    resident_no: `R${suffix(6)}`,
    name: `試験 花子 ${suffix(2)}`,
    name_kana: 'シケン ハナコ',
    birth_date: birth,
    sex,
    address: '東京都千代田区霞が関1-2-2',
    my_number: myNumber(),
    ...extra,
  };
  const r = await request('POST', '/api/v1/persons', { token: muni.admin.access, json });
  assert.equal(r.status, 201, `create person: ${r.status} ${r.text}`);
  identities.set(r.body.id, { my_number: json.my_number, birth_date: birth });
  return r.body;
}

// An institution identifies its patients (POST /persons/lookup: 個人番号 + birth date), which
// opens the care link through which it may write their answers and records.
export async function reach(session, ...persons) {
  for (const p of persons) {
    const id = identities.get(p.id);
    assert.ok(id, `reach: ${p.id} was not made by resident()`);
    const r = await request('POST', '/api/v1/persons/lookup', { token: session.access ?? session, json: id });
    assert.equal(r.status, 200, `lookup: ${r.status} ${r.text}`);
  }
}

// Link a guardian to a child (both residents of muni).
export async function linkGuardian(muni, childId, guardianId) {
  const r = await request('POST', `/api/v1/persons/${childId}/guardians`, {
    token: muni.admin.access,
    json: { guardian_id: guardianId, relation: 'parent' },
  });
  assert.equal(r.status, 201, `guardian link: ${r.status} ${r.text}`);
}

// An API client of the admin's organisation with `scopes`, and a client-credentials token.
export async function clientToken(adminSession, scopes) {
  const c = await request('POST', '/api/v1/api-clients', {
    token: adminSession.access,
    json: { name: `健康管理システム ${suffix(2)}`, scopes },
  });
  assert.equal(c.status, 201, `api client: ${c.status} ${c.text}`);
  const basic = Buffer.from(`${encodeURIComponent(c.body.id)}:${encodeURIComponent(c.body.client_secret)}`).toString('base64');
  const t = await request('POST', '/oauth2/token', {
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' ') }).toString(),
    contentType: 'application/x-www-form-urlencoded',
    headers: { Authorization: `Basic ${basic}` },
  });
  assert.equal(t.status, 200, `client token: ${t.status} ${t.text}`);
  return t.body.access_token;
}
