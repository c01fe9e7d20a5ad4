// contract.test.mjs - the contract itself, without a stack: every response schema compiles
// under JSON Schema 2020-12, every example matches its schema, request bodies are closed
// objects, errors are problem+json; and the code generators of lib/codes.mjs agree with the
// check values of docs/domain.md §2.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { allResponseSchemas, operations, SCHEMA_DIR } from './lib/contract.mjs';
import {
  municipalityCheckDigit,
  luhnCheckDigit,
  municipalityCode,
  medicalCode,
  nonInsuranceCode,
  withWrongCheckDigit,
} from './lib/codes.mjs';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
addFormats(ajv);

test('every operation has an id, a summary, a 2xx and an error answer', () => {
  const ops = operations();
  assert.ok(ops.size >= 25, `only ${ops.size} operations`);
  for (const [id, { operation: op, method, path: p }] of ops) {
    assert.ok(op.summary, `${id} has no summary`);
    const statuses = Object.keys(op.responses);
    assert.ok(statuses.some((s) => /^2/.test(s)), `${id} (${method} ${p}) has no 2xx`);
    assert.ok(statuses.includes('default'), `${id} has no default (problem) answer`);
  }
});

// Every route of the records service's table (service.c) is in the contract, and so are the
// routes it serves through another one: the rule list (beside /immunizations/:id) and the FHIR
// interactions (one /fhir/* route, fhir_read.c). This is what left the check and the rule list
// undocumented.
test('every route of the records service is in the contract', () => {
  const src = readFileSync(path.join(SCHEMA_DIR, '../services/records/service.c'), 'utf8');
  const routes = [...src.matchAll(/\{"(GET|POST|PUT|PATCH|DELETE)", "(\/api\/v1\/(?:persons|immunizations|linkage)[^"]*)"/g)].map(
    ([, m, p]) => `${m} ${p.replace(/:([a-z_]+)/g, '{$1}')}`,
  );
  assert.ok(routes.length > 25, `only ${routes.length} routes parsed`);
  const want = [
    ...routes,
    'GET /api/v1/immunizations/rules',
    'GET /fhir/metadata',
    'GET /fhir/Patient',
    'GET /fhir/Patient/{id}',
    'GET /fhir/Immunization',
    'GET /fhir/Immunization/{id}',
    'GET /fhir/ImmunizationRecommendation',
    'GET /fhir/ImmunizationRecommendation/{id}',
  ];
  const have = new Set([...operations().values()].map((o) => `${o.method} ${o.path}`));
  const missing = want.filter((w) => !have.has(w));
  assert.deepEqual(missing, [], `not in proto-schemas: ${missing.join(', ')}`);
});

test('the account and audit endpoints of the READMEs are all in the contract', () => {
  const want = [
    'POST /api/v1/auth/login',
    'POST /api/v1/auth/refresh',
    'POST /api/v1/auth/logout',
    'POST /api/v1/auth/password',
    'POST /api/v1/auth/password-reset',
    'POST /api/v1/auth/password-reset/confirm',
    'POST /api/v1/auth/user-id-reminder',
    'GET /api/v1/me',
    'PATCH /api/v1/me',
    'POST /api/v1/organizations',
    'GET /api/v1/organizations',
    'GET /api/v1/organizations/{id}',
    'PATCH /api/v1/organizations/{id}',
    'POST /api/v1/users',
    'GET /api/v1/users',
    'GET /api/v1/users/{id}',
    'PATCH /api/v1/users/{id}',
    'POST /api/v1/users/{id}/password-reset',
    'GET /.well-known/jwks.json',
    'GET /api/v1/access-logs',
    'GET /api/v1/access-logs/verify',
  ];
  const have = new Set([...operations().values()].map((o) => `${o.method} ${o.path}`));
  for (const w of want) assert.ok(have.has(w), `missing ${w}`);
});

test('every response schema compiles and every example validates', () => {
  const all = allResponseSchemas();
  assert.ok(all.length > 100);
  for (const { opId, status, media, schema, examples } of all) {
    const v = ajv.compile(schema);
    for (const [name, ex] of Object.entries(examples)) {
      if (/json$/.test(media)) {
        assert.ok(v(ex.value), `${opId} ${status} ${media} example ${name}: ${JSON.stringify(v.errors)}`);
      }
    }
    // FHIR (fhir.yaml, operations fhir*): what the FHIR handlers find is an OperationOutcome
    // (application/fhir+json); 401 and the default answer stay problem+json.
    const outcome = /^fhir/.test(opId) && media === 'application/fhir+json' && /^(400|403|404|405|406)$/.test(status);
    if ((/^[45]/.test(status) || status === 'default') && !outcome) {
      assert.equal(media, 'application/problem+json', `${opId} ${status} is not problem+json`);
    }
  }
});

test('request bodies are closed objects and their examples validate', () => {
  for (const [id, { operation: op }] of operations()) {
    const rb = op.requestBody;
    if (!rb) continue;
    const mt = rb.content['application/json'];
    // Not JSON only where the body is a file: a binary upload (payment's supporting documents)
    // or a text stream (NDJSON lines of an import), a string schema in each media type.
    if (!mt && Object.values(rb.content).every((m) => m.schema?.type === 'string')) continue;
    assert.ok(mt, `${id}: request body is not application/json`);
    const walk = (s, where) => {
      if (s.type === 'object') {
        assert.equal(s.additionalProperties, false, `${id}: ${where} must have additionalProperties: false`);
        for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub, `${where}.${k}`);
      }
    };
    walk(mt.schema, 'body');
    const v = ajv.compile(mt.schema);
    for (const [name, ex] of Object.entries(mt.examples ?? {})) {
      assert.ok(v(ex.value), `${id} request example ${name}: ${JSON.stringify(v.errors)}`);
    }
  }
});

test('the documents are OpenAPI 3.1 with a bearer JWT scheme', () => {
  for (const f of ['account.yaml', 'audit.yaml', 'notice.yaml', 'common.yaml']) {
    const text = readFileSync(path.join(SCHEMA_DIR, f), 'utf8');
    assert.match(text, /^openapi: 3\.1\.\d/m, f);
  }
  const common = readFileSync(path.join(SCHEMA_DIR, 'common.yaml'), 'utf8');
  assert.match(common, /scheme: bearer/);
  assert.match(common, /bearerFormat: JWT/);
});

test('check digits agree with DOMAIN.md 1.5', () => {
  for (const c of ['131130', '131041', '011002', '010006']) assert.equal(municipalityCheckDigit(c.slice(0, 5)), c[5], c);
  assert.equal(luhnCheckDigit('011011371'), '9'); // 0110113719
  assert.equal(luhnCheckDigit('3312001'), '5'); // 保険者番号 33120015
  for (let i = 0; i < 200; i++) {
    const m = municipalityCode();
    assert.match(m, /^(0[1-9]|[1-3]\d|4[0-7])\d{4}$/);
    assert.equal(municipalityCheckDigit(m.slice(0, 5)), m[5]);
    const bad = withWrongCheckDigit(m);
    assert.notEqual(municipalityCheckDigit(bad.slice(0, 5)), bad[5]);
    const med = medicalCode();
    assert.match(med, /^\d\d[134]\d{7}$/);
    assert.equal(luhnCheckDigit(med.slice(0, 9)), med[9]);
    const ni = nonInsuranceCode();
    assert.match(ni, /^\d\d9\d{7}$/);
    assert.equal(luhnCheckDigit(ni.slice(0, 9)), ni[9]);
    const nb = withWrongCheckDigit(ni);
    assert.notEqual(luhnCheckDigit(nb.slice(0, 9)), nb[9]);
  }
});

test('redocly lint passes (proto-schemas/redocly.yaml)', { timeout: 120_000 }, async () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bin = path.join(here, 'node_modules', '.bin', 'redocly');
  const files = ['account.yaml', 'audit.yaml', 'notice.yaml'].map((f) => path.join(SCHEMA_DIR, f));
  const r = await new Promise((resolve) => {
    execFile(
      bin,
      ['lint', '--config', path.join(SCHEMA_DIR, 'redocly.yaml'), ...files],
      { timeout: 110_000, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: `${stdout}\n${stderr}` }),
    );
  });
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /You have \d+ warnings?/, r.out);
});
