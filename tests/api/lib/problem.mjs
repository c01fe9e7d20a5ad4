// problem.mjs - the error table of libs/common/include/sesshu/err.h as the tests expect it on
// the wire, and assertions on problem+json answers.
import assert from 'node:assert/strict';

// slug -> [http status, accepted titles]
export const ERRORS = {
  'bad-request': [400, ['Malformed request']],
  'invalid-json': [400, ['Request body is not valid JSON']],
  unauthorized: [401, ['Authentication required']],
  forbidden: [403, ['Not allowed']],
  'password-change-required': [403, ['The temporary password must be changed first']],
  'not-found': [404, ['Not found']],
  'method-not-allowed': [405, ['Method not allowed']],
  conflict: [409, ['Conflict with the current state']],
  'payload-too-large': [413, ['Request body too large']],
  'unsupported-media-type': [415, ['Unsupported content type']],
  'validation-failed': [422, ['Invalid fields']],
  'rate-limited': [429, ['Too many requests']],
  'internal-error': [500, ['Internal error']],
  'service-unavailable': [503, ['A dependency is unavailable', 'Transient conflict, retry']],
  'password-policy': [422, ['The password does not meet the policy']],
  gone: [410, ['No longer available']],
};

export const PREFIX = 'urn:sesshu:problem:';

export function slugOf(body) {
  return typeof body?.type === 'string' && body.type.startsWith(PREFIX) ? body.type.slice(PREFIX.length) : undefined;
}

// type, title and status of a problem agree with the table.
export function checkProblemTitle(body, where) {
  const slug = slugOf(body);
  assert.ok(slug, `${where}: problem type ${JSON.stringify(body?.type)} is not ${PREFIX}<slug>`);
  const row = ERRORS[slug];
  assert.ok(row, `${where}: problem slug "${slug}" is not in err.h`);
  assert.equal(body.status, row[0], `${where}: slug ${slug} must have status ${row[0]}`);
  assert.ok(row[1].includes(body.title), `${where}: title ${JSON.stringify(body.title)} is not the title of ${slug}`);
}

function show(r) {
  return `${r.method ?? ''} ${r.url ?? ''} -> ${r.status} ${r.res?.headers.get('content-type')} ${r.text?.slice(0, 400)}`;
}

// Asserts status, media type and slug (slug may be a list of acceptable ones).
export function expectProblem(r, status, slug) {
  assert.equal(r.status, status, `expected ${status}: ${show(r)}`);
  const ct = r.res.headers.get('content-type') ?? '';
  assert.match(ct, /^application\/problem\+json\b/, `expected problem+json: ${show(r)}`);
  assert.ok(r.body && typeof r.body === 'object', `problem body is not a JSON object: ${show(r)}`);
  assert.equal(r.body.status, status, `problem.status: ${show(r)}`);
  checkProblemTitle(r.body, show(r));
  if (slug !== undefined) {
    const ok = Array.isArray(slug) ? slug : [slug];
    assert.ok(ok.includes(slugOf(r.body)), `expected problem type ${ok.join('|')}: ${show(r)}`);
  }
  return r.body;
}

function normField(f) {
  return String(f).replace(/^[/.$]+/, '').replace(/\//g, '.').replace(/\[(\d+)\]/g, '.$1');
}

// A 422 naming the given field(s) in `errors`.
export function expectFieldErrors(r, fields, slug = 'validation-failed') {
  const body = expectProblem(r, 422, slug);
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `422 without errors: ${show(r)}`);
  for (const e of body.errors) {
    assert.equal(typeof e.field, 'string', `errors[].field: ${show(r)}`);
    assert.equal(typeof e.reason, 'string', `errors[].reason: ${show(r)}`);
  }
  const named = body.errors.map((e) => normField(e.field));
  for (const f of [].concat(fields)) {
    assert.ok(named.includes(normField(f)), `errors should name "${f}" (got ${named.join(', ')}): ${show(r)}`);
  }
  return body;
}

// Never a server failure; used where several refusals are reasonable.
export function expectNoServerError(r) {
  assert.ok(r.status < 500, `server error: ${show(r)}`);
}
