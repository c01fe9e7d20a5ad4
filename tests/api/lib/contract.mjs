// contract.mjs - the OpenAPI documents of proto-schemas/ as executable checks.
//
// Loads account.yaml and audit.yaml (and common.yaml through their $refs), inlines every $ref,
// indexes operations by operationId, and compiles each response schema once with Ajv2020.
// expectContract() asserts that a response is documented for its operation (status, media
// type) and that its JSON body validates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { checkProblemTitle } from './problem.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SCHEMA_DIR = path.resolve(here, '../../../proto-schemas');
export const ROOT_DOCS = ['account.yaml', 'audit.yaml', 'notice.yaml', 'master.yaml', 'records.yaml', 'self.yaml', 'fhir.yaml', 'certificate.yaml', 'payment.yaml', 'stats.yaml'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

const docs = new Map(); // absolute file -> parsed document

function load(file) {
  if (!docs.has(file)) docs.set(file, YAML.parse(readFileSync(file, 'utf8')));
  return docs.get(file);
}

function pointer(doc, frag, ref) {
  let node = doc;
  for (const raw of frag.split('/').slice(1)) {
    const seg = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(seg in node)) {
      throw new Error(`unresolvable $ref ${ref}`);
    }
    node = node[seg];
  }
  return node;
}

// Deep copy of node with every $ref replaced by its (recursively resolved) target. Members
// next to a $ref are merged over the target (OpenAPI 3.1 allows description etc. there).
export function deref(node, file, stack = []) {
  if (Array.isArray(node)) return node.map((n) => deref(n, file, stack));
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') {
    const [rel, frag = ''] = node.$ref.split('#');
    const target = rel ? path.resolve(path.dirname(file), rel) : file;
    const key = `${target}#${frag}`;
    if (stack.includes(key)) throw new Error(`circular $ref ${key}`);
    const resolved = deref(pointer(load(target), frag, node.$ref), target, [...stack, key]);
    const { $ref, ...siblings } = node;
    if (Object.keys(siblings).length === 0) return resolved;
    return { ...resolved, ...deref(siblings, file, stack) };
  }
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = deref(v, file, stack);
  return out;
}

let index; // operationId -> { method, path, operation, doc }

// The response validator in front of the gateway (tools/contract-proxy.mjs) reads every
// document; the tests here keep to ROOT_DOCS (questionnaires, mch and token have checks of
// their own in qmch.mjs and token.test.mjs).
export const ALL_DOCS = [...ROOT_DOCS, 'questionnaires.yaml', 'mch.yaml', 'token.yaml'];

export function operations() {
  if (index) return index;
  index = new Map();
  for (const name of process.env.SESSHU_CONTRACT_ALL_DOCS === '1' ? ALL_DOCS : ROOT_DOCS) {
    const file = path.join(SCHEMA_DIR, name);
    const doc = load(file);
    for (const [p, item] of Object.entries(doc.paths ?? {})) {
      for (const m of METHODS) {
        const op = item[m];
        if (!op) continue;
        assert.ok(op.operationId, `${name} ${m} ${p} has no operationId`);
        assert.ok(!index.has(op.operationId), `duplicate operationId ${op.operationId}`);
        index.set(op.operationId, {
          method: m.toUpperCase(),
          path: p,
          operation: deref(op, file),
          doc: name,
        });
      }
    }
  }
  return index;
}

export function operation(opId) {
  const op = operations().get(opId);
  assert.ok(op, `unknown operationId ${opId}`);
  return op;
}

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
addFormats(ajv);
const compiled = new Map();

export function validator(opId, statusKey, media) {
  const key = `${opId} ${statusKey} ${media}`;
  if (!compiled.has(key)) {
    const schema = operation(opId).operation.responses[statusKey].content[media].schema;
    compiled.set(key, ajv.compile(schema));
  }
  return compiled.get(key);
}

// Every JSON response schema of every operation (used by the offline contract test).
export function allResponseSchemas() {
  const out = [];
  for (const [opId, { operation: op }] of operations()) {
    for (const [status, resp] of Object.entries(op.responses ?? {})) {
      for (const [media, mt] of Object.entries(resp.content ?? {})) {
        out.push({ opId, status, media, schema: mt.schema, examples: mt.examples ?? {} });
      }
    }
  }
  return out;
}

export function responseFor(opId, status) {
  const responses = operation(opId).operation.responses ?? {};
  const s = String(status);
  for (const key of [s, `${s[0]}XX`, `${s[0]}xx`, 'default']) {
    if (responses[key]) return { key, resp: responses[key] };
  }
  return null;
}

export function mediaType(res) {
  const ct = res.headers.get('content-type');
  return ct ? ct.split(';')[0].trim().toLowerCase() : '';
}

function fmtErrors(errors) {
  return (errors ?? [])
    .slice(0, 8)
    .map((e) => `  ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
    .join('\n');
}

// r is what http.mjs returns: { res, status, text, body }.
export function expectContract(r, opId) {
  const where = `${opId} -> ${r.status}`;
  const found = responseFor(opId, r.status);
  assert.ok(found, `${where}: status not documented for this operation; body ${r.text.slice(0, 300)}`);
  const { key, resp } = found;
  const content = resp.content ?? {};
  if (r.status === 204 || r.status === 304) {
    assert.equal(r.text, '', `${where}: a ${r.status} must have no body`);
    return;
  }
  if (r.text === '') {
    assert.ok(
      Object.keys(content).length === 0 || resp['x-sesshu-body-optional'] === true,
      `${where}: the documented body is missing`,
    );
    return;
  }
  const media = mediaType(r.res);
  assert.ok(
    Object.keys(content).length > 0,
    `${where}: undocumented body (${media}): ${r.text.slice(0, 200)}`,
  );
  assert.ok(
    content[media],
    `${where}: content type "${media}" not documented (documented: ${Object.keys(content).join(', ')}); body ${r.text.slice(0, 200)}`,
  );
  if (!/[/+]json$/.test(media)) return;
  assert.ok(r.body !== undefined, `${where}: body is not JSON: ${r.text.slice(0, 200)}`);
  const validate = validator(opId, key, media);
  assert.ok(
    validate(r.body),
    `${where}: body does not match the contract:\n${fmtErrors(validate.errors)}\nbody: ${r.text.slice(0, 600)}`,
  );
  if (media === 'application/problem+json') {
    assert.equal(r.body.status, r.status, `${where}: problem.status differs from the HTTP status`);
    checkProblemTitle(r.body, where);
  }
}

const problemValidate = () => {
  if (!compiled.has('Problem')) {
    const schema = deref({ $ref: 'common.yaml#/components/schemas/Problem' }, path.join(SCHEMA_DIR, 'account.yaml'));
    compiled.set('Problem', ajv.compile(schema));
  }
  return compiled.get('Problem');
};

// For answers that belong to no operation (gateway errors on unknown paths, 429, 413).
export function expectProblemContract(r, where = 'response') {
  assert.equal(
    mediaType(r.res),
    'application/problem+json',
    `${where}: content type is ${r.res.headers.get('content-type')}, body ${r.text.slice(0, 200)}`,
  );
  assert.ok(r.body !== undefined, `${where}: problem body is not JSON: ${r.text.slice(0, 200)}`);
  const validate = problemValidate();
  assert.ok(validate(r.body), `${where}: not a Problem:\n${fmtErrors(validate.errors)}\nbody: ${r.text.slice(0, 400)}`);
  assert.equal(r.body.status, r.status, `${where}: problem.status differs from the HTTP status`);
  checkProblemTitle(r.body, where);
}
