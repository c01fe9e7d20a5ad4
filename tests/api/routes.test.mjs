// routes.test.mjs - one truth per endpoint (issue 16 §2): the C route tables of the services, the
// gateway's locations (deploy/gateway/nginx.conf.template) and the OpenAPI documents
// (proto-schemas/) must describe the same endpoints. No stack needed: it reads the three sources.
//
//  - every C route (method, path) is an operation of an OpenAPI document, and every operation is
//    a C route;
//  - every public C route, and no other, is an operation with `security: []`, and each operation's
//    `x-permission` is its route's permission (authz.h's wire name, `public` or `authenticated`);
//  - the gateway sends every C route's path to the service that holds it, and no /internal/ or
//    private path (healthz, readyz, metrics) to any service.
// A difference known today is listed in KNOWN with its reason; the test fails on any other
// difference, and on a KNOWN entry that no longer differs (so the list only shrinks).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'];

// "<kind> <METHOD> <path>": differences known when this test was written, each with its reason.
const KNOWN = new Map([
  // records_read.c answers it inside GET /api/v1/immunizations/:id (id "rules"): same depth.
  ['no-route GET /api/v1/immunizations/rules', 'served by the :id route of records'],
]);

// --- the C route tables -------------------------------------------------------------------------
function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, '');
}

function parseTables(src, svc, file, routes) {
  const defs = new Map();
  for (const m of src.matchAll(/^#define\s+(\w+)\s+(SS_PERM_\w+)\s*$/gm)) defs.set(m[1], m[2]);
  const re = /\{\s*"([A-Z]+)",\s*"([^"]+)",\s*\w+,\s*(\w+),\s*([^,{}]+?),\s*(?:"[^"]*"|NULL)\s*\}/g;
  // route arrays, and single routes (records' FHIR reads, dispatched inside one /fhir route)
  for (const t of src.matchAll(/ss_route\s+\w+(\[\])?\s*=\s*(\{[\s\S]*?\n?\});/g)) {
    for (const m of t[2].matchAll(re)) {
      const perm = defs.get(m[3]) ?? m[3];
      routes.push({ svc, method: m[1], path: m[2], perm, flags: m[4].trim(), file });
    }
  }
}

export function cRoutes() {
  const routes = [];
  // the library's own routes of every service (health, readiness, metrics)
  const lib = 'libs/common/src/server.c';
  parseTables(stripComments(readFileSync(path.join(ROOT, lib), 'utf8')), '*', lib, routes);
  for (const svc of readdirSync(path.join(ROOT, 'services')).sort()) {
    const dir = path.join(ROOT, 'services', svc);
    if (!existsSync(path.join(dir, 'service.c'))) continue;
    // every .c of the service, its domain folders included (services/records/fhir/...)
    const files = readdirSync(dir, { recursive: true }).filter((n) => n.endsWith('.c') && !n.startsWith('build')).sort();
    for (const f of files) {
      const src = stripComments(readFileSync(path.join(dir, f), 'utf8'));
      parseTables(src, svc, `services/${svc}/${f}`, routes);
    }
  }
  return routes;
}

// --- OpenAPI ------------------------------------------------------------------------------------
export function apiOperations() {
  const ops = [];
  const dir = path.join(ROOT, 'proto-schemas');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml') && n !== 'common.yaml' && n !== 'redocly.yaml').sort()) {
    const doc = YAML.parse(readFileSync(path.join(dir, f), 'utf8'));
    for (const [p, item] of Object.entries(doc.paths ?? {})) {
      for (const m of METHODS) {
        const op = item[m.toLowerCase()];
        if (!op) continue;
        // A bearer token is required when every alternative of the requirement names bearerAuth.
        const sec = op.security ?? doc.security ?? [];
        const bearer = sec.length > 0 && sec.every((alt) => 'bearerAuth' in alt);
        ops.push({ doc: f, method: m, path: p, public: !bearer, permission: op['x-permission'] ?? null });
      }
    }
  }
  return ops;
}

// "/api/v1/notices/:id/read" and "/api/v1/notices/{id}/read" are the same path.
const norm = (p) => p.replace(/\{[^}]+\}/g, ':p').replace(/:[A-Za-z_]\w*/g, ':p');

// The wire name of each permission (libs/common authz.h SS_PERMS), as OpenAPI's x-permission.
export function permissionNames() {
  const src = readFileSync(path.join(ROOT, 'libs/common/include/sesshu/authz.h'), 'utf8');
  const wire = new Map([
    ['SS_PERM_PUBLIC', 'public'],
    ['SS_PERM_AUTHENTICATED', 'authenticated'],
  ]);
  for (const m of src.matchAll(/X\((\w+),\s*"([^"]+)"/g)) wire.set(`SS_PERM_${m[1]}`, m[2]);
  return wire;
}

// --- the gateway --------------------------------------------------------------------------------
export function gatewayLocations() {
  const src = readFileSync(path.join(ROOT, 'deploy/gateway/nginx.conf.template'), 'utf8')
    .replace(/#[^\n]*/g, '');
  const locs = [];
  const re = /location\s+(=|\^~|~\*|~)?\s*(\S+)\s*\{/g;
  let m;
  while ((m = re.exec(src)) !== null) {
    // the block's body up to its closing brace (blocks here hold no nested braces but types {})
    let depth = 1;
    let i = re.lastIndex;
    for (; i < src.length && depth > 0; i++) {
      if (src[i] === '{') depth++;
      else if (src[i] === '}') depth--;
    }
    const body = src.slice(re.lastIndex, i);
    const pass = body.match(/proxy_pass\s+http:\/\/(\w+)/);
    const fallback = body.match(/error_page\s+[\d\s]+=\s*(@\w+)/);
    locs.push({ mod: m[1] ?? '', pattern: m[2], upstream: pass ? pass[1] : null, fallback: fallback ? fallback[1] : null });
  }
  // a named location an error_page falls back to answers for its service too (/.well-known/jwks.json)
  for (const l of locs) l.fallback = locs.find((n) => n.pattern === l.fallback)?.upstream ?? null;
  return locs.filter((l) => !l.pattern.startsWith('@'));
}

// nginx's choice: an exact match; else the longest prefix if it is ^~; else the first regex that
// matches, in order; else the longest prefix.
export function route(locs, uri) {
  const exact = locs.find((l) => l.mod === '=' && l.pattern === uri);
  if (exact) return exact;
  const prefixes = locs.filter((l) => (l.mod === '' || l.mod === '^~') && uri.startsWith(l.pattern));
  prefixes.sort((a, b) => b.pattern.length - a.pattern.length);
  if (prefixes[0]?.mod === '^~') return prefixes[0];
  for (const l of locs) {
    if (l.mod !== '~' && l.mod !== '~*') continue;
    if (new RegExp(l.pattern, l.mod === '~*' ? 'i' : '').test(uri)) return l;
  }
  return prefixes[0] ?? null;
}

// A concrete path for a pattern: every :param becomes a value every location regex accepts.
const sample = (p) => p.replace(/:[A-Za-z_]\w*/g, 'sample_value');

function differences() {
  const routes = cRoutes();
  const ops = apiOperations();
  const locs = gatewayLocations();
  const wire = permissionNames();
  const found = new Map(); // key -> detail
  const opKey = new Map(ops.map((o) => [`${o.method} ${norm(o.path)}`, o]));
  const routeKey = new Map(routes.map((r) => [`${r.method} ${norm(r.path)}`, r]));
  const isPrivate = (r) => r.path.startsWith('/internal/') || /^\/(healthz|readyz|metrics)$/.test(r.path);

  for (const r of routes) {
    const key = `${r.method} ${norm(r.path)}`;
    if (isPrivate(r)) {
      const l = route(locs, sample(r.path));
      if (l?.upstream) found.set(`gateway-exposes ${r.method} ${r.path}`, `${r.file}: private, but ${l.pattern} sends it to ${l.upstream}`);
      continue;
    }
    const op = opKey.get(key);
    if (!op) found.set(`no-openapi ${r.method} ${r.path}`, `${r.file}: no operation in proto-schemas/`);
    else if (op.public !== (r.perm === 'SS_PERM_PUBLIC'))
      found.set(`permission ${r.method} ${r.path}`, `${r.file}: ${r.perm}, but ${op.doc} has ${op.public ? 'security: []' : 'a bearer token'}`);
    else if (op.permission !== wire.get(r.perm))
      found.set(`x-permission ${r.method} ${r.path}`, `${r.file}: ${wire.get(r.perm) ?? r.perm}, but ${op.doc} says x-permission: ${op.permission}`);
    const l = route(locs, sample(r.path));
    if (!l || (l.upstream !== r.svc && l.fallback !== r.svc))
      found.set(`gateway ${r.method} ${r.path}`, `${r.file}: the gateway sends it to ${l ? (l.upstream ?? `no service (${l.pattern})`) : 'nothing'}`);
  }
  for (const o of ops) {
    const key = `${o.method} ${norm(o.path)}`;
    if (!routeKey.has(key)) found.set(`no-route ${o.method} ${o.path}`, `proto-schemas/${o.doc}: no C route`);
  }
  return found;
}

test('the sources are read (route tables, OpenAPI, gateway)', () => {
  assert.ok(cRoutes().length > 100, `only ${cRoutes().length} C routes`);
  assert.ok(apiOperations().length > 100, `only ${apiOperations().length} operations`);
  assert.ok(gatewayLocations().filter((l) => l.upstream).length >= 15);
  // the matcher itself, on paths whose answer is known
  const locs = gatewayLocations();
  assert.equal(route(locs, '/api/v1/notices/abc/read').upstream, 'notice');
  assert.equal(route(locs, '/api/v1/masters/lots/import').upstream, 'master');
  assert.equal(route(locs, '/api/v1/auth/login').upstream, 'account');
  assert.equal(route(locs, '/internal/v1/anything').upstream, null);
});

test('C route tables, gateway locations and OpenAPI agree (method, path, permission)', () => {
  const found = differences();
  const fresh = [...found].filter(([k]) => !KNOWN.has(k)).map(([k, v]) => `${k}  (${v})`);
  const gone = [...KNOWN.keys()].filter((k) => !found.has(k));
  assert.deepEqual(fresh, [], `differences between the three sources:\n${fresh.join('\n')}`);
  assert.deepEqual(gone, [], `KNOWN entries that no longer differ (remove them):\n${gone.join('\n')}`);
});

// --- services/registry.tsv ----------------------------------------------------------------------
export function registry() {
  return readFileSync(path.join(ROOT, 'services/registry.tsv'), 'utf8')
    .split('\n')
    .filter((l) => /^[a-z]/.test(l))
    .map((l) => {
      const [name, port, schemas, calls, prefixes] = l.trim().split(/\s+/);
      const list = (v) => (v === '-' ? [] : v.split(','));
      return { name, port: Number(port), schemas: list(schemas), calls: list(calls), prefixes: list(prefixes) };
    });
}

// A path is under a prefix when it equals it or continues it after a "/" (a prefix ending in "/"
// takes whatever follows).
const under = (p, prefix) => (prefix.endsWith('/') ? p.startsWith(prefix) : p === prefix || p.startsWith(`${prefix}/`));

test('every public route lies under a gateway prefix of its own service (services/registry.tsv), every prefix has a route', () => {
  const reg = registry();
  const byName = new Map(reg.map((s) => [s.name, s]));
  const isPrivate = (r) => r.path.startsWith('/internal/') || /^\/(healthz|readyz|metrics)$/.test(r.path);
  const routes = cRoutes().filter((r) => r.svc !== '*' && !isPrivate(r));
  const wrong = [];
  for (const r of routes) {
    const own = byName.get(r.svc);
    if (!own) {
      wrong.push(`${r.file}: service ${r.svc} is not in services/registry.tsv`);
      continue;
    }
    if (!own.prefixes.some((p) => under(r.path, p))) wrong.push(`${r.file}: ${r.method} ${r.path} is under no prefix of ${r.svc}`);
    for (const other of reg)
      // a prefix both list is a path both serve (the JWKS: token, and account when token fails)
      if (other.name !== r.svc && other.prefixes.some((p) => under(r.path, p) && !own.prefixes.includes(p)))
        wrong.push(`${r.file}: ${r.method} ${r.path} is also under a prefix of ${other.name}`);
  }
  for (const s of reg)
    for (const p of s.prefixes)
      if (!routes.some((r) => r.svc === s.name && under(r.path, p))) wrong.push(`services/registry.tsv: ${s.name}'s prefix ${p} has no route`);
  assert.deepEqual(wrong, []);
  // the matcher itself
  assert.ok(under('/api/v1/me', '/api/v1/me') && under('/api/v1/me/email', '/api/v1/me') && !under('/api/v1/members', '/api/v1/me'));
  assert.ok(under('/oauth2/token', '/oauth2/') && !under('/oauth2', '/oauth2/'));
});
