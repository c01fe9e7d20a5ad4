// http.mjs - requests to the stack with fetch.
//
// request() is the raw call: any method, path, headers and body (JSON, string or Buffer), a
// fresh X-Request-Id unless told otherwise, and a bounded retry when the gateway throttles
// (429), as any well-behaved client would. call() names the operation by its operationId,
// fills the path template and checks the answer against the contract.
import { randomBytes } from 'node:crypto';
import { BASE } from './env.mjs';
import { operation, expectContract } from './contract.mjs';

export function requestId() {
  return `t-${randomBytes(10).toString('hex')}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function buildUrl(base, p, query) {
  const url = new URL(base + p);
  if (query) {
    const pairs = Array.isArray(query) ? query : Object.entries(query);
    for (const [k, v] of pairs) if (v !== undefined) url.searchParams.append(k, String(v));
  }
  return url.toString();
}

/**
 * opts: token, json (serialised as application/json), body (string|Buffer, sent as is),
 * contentType, headers, query (object or [[k,v]]), requestId (string; null = send none),
 * base (default the gateway), retry429 (default true), accept.
 * Returns { res, status, headers, text, body, requestId, method, url }.
 */
export async function request(method, p, opts = {}) {
  const headers = { ...(opts.headers ?? {}) };
  const rid = opts.requestId === undefined ? requestId() : opts.requestId;
  if (rid !== null) headers['X-Request-Id'] = rid;
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.accept) headers.Accept = opts.accept;
  let body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['Content-Type'] = opts.contentType ?? 'application/json';
  } else if (opts.body !== undefined) {
    body = opts.body;
    if (opts.contentType !== undefined) headers['Content-Type'] = opts.contentType;
  }
  const url = buildUrl(opts.base ?? BASE, p, opts.query);
  const retries = opts.retry429 === false ? 0 : 12;
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
    });
    const buf = Buffer.from(await res.arrayBuffer());
    if (res.status === 429 && attempt < retries) {
      const after = Number(res.headers.get('retry-after'));
      await sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 3) * 1000 : Math.min(200 * 2 ** attempt, 2000));
      continue;
    }
    const text = buf.toString('utf8');
    let parsed;
    const ct = res.headers.get('content-type') ?? '';
    if (/json/.test(ct) && text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    return { res, status: res.status, headers: res.headers, text, raw: buf, body: parsed, requestId: rid, method, url };
  }
}

function fillPath(template, params = {}) {
  return template.replace(/\{([^}]+)\}/g, (_, name) => {
    if (params[name] === undefined) throw new Error(`path parameter ${name} missing for ${template}`);
    return encodeURIComponent(params[name]);
  });
}

/**
 * Calls an operation of the contract and checks the answer against it.
 * opts as request(), plus params (path parameters) and contract (default true).
 */
export async function call(opId, opts = {}) {
  const op = operation(opId);
  const r = await request(op.method, fillPath(op.path, opts.params), opts);
  r.opId = opId;
  if (opts.contract !== false) expectContract(r, opId);
  return r;
}

// call() that must answer `status`; returns the parsed body.
export async function ok(opId, status, opts = {}) {
  const r = await call(opId, opts);
  if (r.status !== status) {
    throw new Error(`${opId}: expected ${status}, got ${r.status} ${r.text.slice(0, 400)} (request ${r.requestId})`);
  }
  return r.body;
}

export { sleep };

// Retries fn (which asserts) until it passes or timeoutMs elapses; rethrows the last failure.
export async function eventually(fn, { timeoutMs = 5000, intervalMs = 100 } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(intervalMs);
    }
  }
}
