// contract-proxy.mjs - an OpenAPI response validator in front of the gateway (scripts/test.sh
// runs part of the API suite through it). Every answer that passes is checked against the
// contract (proto-schemas/*.yaml, with Ajv's JSON Schema 2020-12 validator): the status is
// documented for the operation, the media type is, and a JSON body validates; an answer to a
// path no operation has must be an RFC 9457 problem (an OperationOutcome under /fhir/). Violations are appended to the report as
// NDJSON; the proxy changes nothing it passes on.
//
//   node tools/contract-proxy.mjs LISTEN_PORT UPSTREAM_URL REPORT_FILE
import http from 'node:http';
import { appendFileSync, writeFileSync } from 'node:fs';

process.env.SESSHU_CONTRACT_ALL_DOCS = '1'; // every document, before contract.mjs indexes them
const { operations, expectContract, expectProblemContract } = await import('../lib/contract.mjs');

const [port, upstream, report] = [Number(process.argv[2]), new URL(process.argv[3]), process.argv[4]];
// No API: the gateway's own liveness answer.
const ELSEWHERE = /^\/healthz$/;

// (method, path template) -> a matcher; templates with fewer parameters first, so a static
// path wins over /{id} as the services route it.
const routes = [...operations()]
  .map(([opId, { method, path: p }]) => {
    const params = (p.match(/\{[^}]+\}/g) ?? []).length;
    const re = new RegExp(`^${p.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}/*$`);
    return { opId, method, re, params };
  })
  .sort((a, b) => a.params - b.params);

function match(method, pathname) {
  const m = method === 'HEAD' ? 'GET' : method;
  return routes.find((r) => r.method === m && r.re.test(pathname));
}

let seen = 0;
let bad = 0;
writeFileSync(report, '');
function record(method, url, status, message) {
  bad++;
  appendFileSync(report, `${JSON.stringify({ method, url, status, message: message.slice(0, 1500) })}\n`);
}

// Under /fhir/ an answer no operation documents is an OperationOutcome (fhir.yaml, R4 3.1.0.1).
function fhirOutcome(r, where) {
  const media = (r.res.headers.get('content-type') ?? '').split(';')[0].trim();
  if (media !== 'application/fhir+json') throw new Error(`${where}: ${media}, not application/fhir+json`);
  const b = r.body;
  const ok = b && b.resourceType === 'OperationOutcome' && Array.isArray(b.issue) && b.issue.length > 0 &&
    b.issue.every((i) => typeof i.severity === 'string' && typeof i.code === 'string');
  if (!ok) throw new Error(`${where}: not an OperationOutcome: ${r.text.slice(0, 200)}`);
}

function check(method, url, status, headers, raw) {
  const pathname = new URL(url, 'http://x').pathname;
  if (ELSEWHERE.test(pathname) || method === 'OPTIONS' || method === 'HEAD') return;
  const text = raw.toString('utf8');
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const r = { status, text, body, res: { headers: { get: (h) => headers[h.toLowerCase()] ?? null } } };
  const route = match(method, pathname);
  try {
    if (route) expectContract(r, route.opId);
    else if (status >= 400 && pathname.startsWith('/fhir/')) fhirOutcome(r, `${method} ${pathname}`);
    else if (status >= 400) expectProblemContract(r, `${method} ${pathname}`);
    else throw new Error(`${method} ${pathname} answered ${status} but no operation documents it`);
  } catch (e) {
    record(method, url, status, `${route ? route.opId : '(no operation)'}: ${e.message}`);
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const up = http.request(
      // Asked uncompressed, so the answer is checked as the client reads it.
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, 'accept-encoding': 'identity' } },
      (ur) => {
        const out = [];
        ur.on('data', (c) => out.push(c));
        ur.on('end', () => {
          const raw = Buffer.concat(out);
          seen++;
          check(req.method, req.url, ur.statusCode, ur.headers, raw);
          res.writeHead(ur.statusCode, ur.rawHeaders);
          res.end(raw);
        });
      },
    );
    up.on('error', (e) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(e));
    });
    up.end(Buffer.concat(chunks));
  });
});
server.keepAliveTimeout = 5000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`contract proxy on ${port} -> ${upstream}\n`));
const stop = () => {
  process.stdout.write(`contract proxy: ${seen} answers, ${bad} violations\n`);
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
