// bad-input.test.mjs - bad input on every endpoint that takes a body or parameters: malformed
// JSON, invalid UTF-8, non-object tops, deep nesting, duplicate keys, over-long strings,
// oversized bodies (413), non-JSON content types (415), missing/unknown/mistyped members (422),
// injection strings (kept verbatim or refused, never a 500), odd ids, page limits. Each answer
// is problem+json with the right status, and nothing is left behind.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok } from './lib/http.mjs';
import { expectProblem, expectFieldErrors, expectNoServerError } from './lib/problem.mjs';
import { expectProblemContract, operation } from './lib/contract.mjs';
import { chuokai, orgWithAdmin, userIn, orgBody, personBody, uniq, emailFor, newPassword, allPages, createOrg } from './lib/fixtures.mjs';
import { freeCode } from './lib/codes.mjs';

let ck; // 国保中央会 admin
let a; // admin of a municipality
let u; // user of that municipality
let other; // admin of another organisation
const leftover = { userId: uniq('bad'), orgCode: freeCode('BAD'), orgAdmin: uniq('badadm') };

before(async () => {
  ck = await chuokai();
  ({ adminSession: a } = await orgWithAdmin('municipality'));
  u = await userIn(a, 'user');
  ({ adminSession: other } = await orgWithAdmin('medical_institution'));
});

// Every operation with a JSON body: who calls it and a valid body (never sent as is).
function bodyOps() {
  return {
    login: { valid: () => ({ user_id: uniq('ghost'), password: 'not-the-password-1' }) },
    refreshToken: { valid: () => ({ refresh_token: 'R'.repeat(43) }) },
    changePassword: { token: () => u.access, valid: () => ({ current_password: 'not-the-password-1', new_password: newPassword() }) },
    requestPasswordReset: { valid: () => ({ user_id: uniq('ghost') }) },
    confirmPasswordReset: { valid: () => ({ token: 'T'.repeat(43), new_password: newPassword() }) },
    requestUserIdReminder: { valid: () => ({ email: emailFor(uniq('ghost')) }) },
    updateMe: { token: () => u.access, valid: () => ({ name: '変更', name_kana: 'ヘンコウ', email: emailFor(uniq('me')) }) },
    createOrganization: { token: () => ck.access, valid: () => orgBody('mhlw', leftover.orgCode, leftover.orgAdmin) },
    updateOrganization: {
      token: () => ck.access,
      params: () => ({ id: a.orgId }),
      valid: () => ({ name: '変更', name_kana: 'ヘンコウ', status: 'active' }),
    },
    createUser: { token: () => a.access, valid: () => ({ ...personBody(leftover.userId), role: 'admin' }) },
    updateUser: {
      token: () => a.access,
      params: () => ({ id: u.id }),
      valid: () => ({ name: '変更', name_kana: 'ヘンコウ', email: emailFor(uniq('x')), role: 'admin', status: 'disabled' }),
    },
  };
}

function send(opId, spec, opts) {
  return call(opId, { token: spec.token?.(), params: spec.params?.(), ...opts });
}

const raw = (s) => Buffer.from(s, 'utf8');
const JSON_CT = 'application/json';

function deep(n) {
  let s = '1';
  for (let i = 0; i < n; i++) s = `[${s}]`;
  return `{"x":${s}}`;
}

for (const [opId, spec] of Object.entries(bodyOps())) {
  test(`bad input: ${opId}`, { timeout: 120_000 }, async (t) => {
    const schema = operation(opId).operation.requestBody.content['application/json'].schema;
    const fields = Object.keys(schema.properties);
    const required = schema.required ?? [];
    const first = fields[0];

    await t.test('malformed, non-UTF-8 and non-object bodies are 400 invalid-json', async () => {
      const bad = {
        truncated: raw(`{"${first}": `),
        trailingGarbage: raw(`{"${first}":"a"} x`),
        singleQuotes: raw(`{'${first}':'a'}`),
        trailingComma: raw(`{"${first}":"a",}`),
        invalidUtf8: Buffer.concat([raw(`{"${first}":"`), Buffer.from([0xff, 0xfe, 0x41]), raw('"}')]),
        overlongUtf8: Buffer.concat([raw(`{"${first}":"`), Buffer.from([0xc0, 0xaf]), raw('"}')]),
        surrogateUtf8: Buffer.concat([raw(`{"${first}":"`), Buffer.from([0xed, 0xa0, 0x80]), raw('"}')]),
        array: raw('[]'),
        string: raw('"x"'),
        number: raw('42'),
        null: raw('null'),
        deepNesting: raw(deep(40)),
        duplicateKeys: raw(`{"${first}":"a","${first}":"b"}`),
      };
      for (const [name, body] of Object.entries(bad)) {
        const r = await send(opId, spec, { body, contentType: JSON_CT });
        assert.equal(r.status, 400, `${name}: ${r.status} ${r.text.slice(0, 200)}`);
        expectProblem(r, 400, 'invalid-json');
      }
      // Within the depth limit the parser is content (then the members are checked).
      let s = '1';
      for (let i = 0; i < 12; i++) s = `[${s}]`;
      const atLimit = await send(opId, spec, { body: raw(`{"zz_unknown":${s}}`), contentType: JSON_CT });
      expectFieldErrors(atLimit, 'zz_unknown');
    });

    await t.test('an empty body is 400', async () => {
      const r = await send(opId, spec, { body: '', contentType: JSON_CT });
      expectProblem(r, 400, ['bad-request', 'invalid-json']);
    });

    await t.test('a string over 65,536 characters is 400', async () => {
      const r = await send(opId, spec, { json: { ...spec.valid(), [first]: 'a'.repeat(70_000) } });
      expectProblem(r, 400, 'invalid-json');
    });

    await t.test('a body over 1 MiB is 413 problem+json', async () => {
      const big = JSON.stringify({ ...spec.valid(), [first]: 'a'.repeat(1024 * 1024 + 16) });
      const r = await send(opId, spec, { body: big, contentType: JSON_CT, contract: false });
      assert.equal(r.status, 413, `${r.status} ${r.text.slice(0, 200)}`);
      expectProblemContract(r, `${opId} 413`);
      expectProblem(r, 413, 'payload-too-large');
    });

    await t.test('a body that is not application/json is 415', async () => {
      const text = JSON.stringify(spec.valid());
      for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'application/json; charset=iso-8859-1', 'application/jsonp', undefined]) {
        const r = await send(opId, spec, { body: Buffer.from(text), contentType: ct });
        assert.equal(r.status, 415, `${ct}: ${r.status} ${r.text.slice(0, 200)}`);
        expectProblem(r, 415, 'unsupported-media-type');
      }
      // application/json with the UTF-8 charset, in any case, is JSON.
      for (const ct of ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8']) {
        const r = await send(opId, spec, { body: JSON.stringify({ ...spec.valid(), zz_unknown: 1 }), contentType: ct });
        expectFieldErrors(r, 'zz_unknown');
      }
    });

    await t.test('missing, unknown, mistyped and null members are 422 naming each', async () => {
      for (const f of required) {
        const body = spec.valid();
        delete body[f];
        expectFieldErrors(await send(opId, spec, { json: body }), f);
      }
      expectFieldErrors(await send(opId, spec, { json: { ...spec.valid(), zz_unknown: 'x' } }), 'zz_unknown');
      expectFieldErrors(await send(opId, spec, { json: { ...spec.valid(), 'user_id ': 'x' } }), 'user_id ');
      for (const f of fields) {
        const wrong = schema.properties[f].type === 'object' ? 12345 : { nested: true };
        expectFieldErrors(await send(opId, spec, { json: { ...spec.valid(), [f]: wrong } }), f);
        expectFieldErrors(await send(opId, spec, { json: { ...spec.valid(), [f]: 7 } }), f);
        const nullable = [].concat(schema.properties[f].type ?? []).includes('null');
        if (!nullable) expectFieldErrors(await send(opId, spec, { json: { ...spec.valid(), [f]: null } }), f);
      }
      expectFieldErrors(await send(opId, spec, { json: { ...spec.valid(), [first]: ['a'] } }), first);
      expectFieldErrors(await send(opId, spec, { json: { ...spec.valid(), [first]: true } }), first);
      if (required.length > 0) {
        const r = await send(opId, spec, { json: {} });
        expectFieldErrors(r, required);
      }
      // Control characters are refused; a NUL never gets in either.
      const ctl = await send(opId, spec, { json: { ...spec.valid(), [first]: 'a\u0007b' } });
      expectFieldErrors(ctl, first);
      const nul = await send(opId, spec, { body: raw(`{"${first}":"a\\u0000b"}`), contentType: JSON_CT });
      assert.ok([400, 422].includes(nul.status), `NUL: ${nul.status}`);
    });
  });
}

test('bad input left nothing behind', async () => {
  const users = await allPages('listUsers', { token: a.access });
  assert.ok(!users.some((x) => x.user_id === leftover.userId), 'a refused createUser left a user');
  const made = await createOrg('mhlw', { code: leftover.orgCode, adminId: leftover.orgAdmin });
  assert.equal(made.org.code, leftover.orgCode, 'a refused createOrganization left the code taken');
  const me = await ok('getMe', 200, { token: u.access });
  assert.equal(me.user.status, 'active');
  assert.equal(me.user.role, 'user');
  assert.notEqual(me.user.name, '変更');
  const org = await ok('getOrganization', 200, { token: a.access, params: { id: a.orgId } });
  assert.notEqual(org.name, '変更');
});

const INJECTIONS = [
  "Robert'); DROP TABLE account.users;--",
  "' OR '1'='1",
  '1; SELECT pg_sleep(5)',
  '\\"; DELETE FROM audit.access_log; --',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '%27%20OR%201=1',
];

test('injection strings in bodies are stored verbatim or refused, never a 500', async () => {
  for (const s of INJECTIONS) {
    const id = uniq('inj');
    const r = await call('createUser', { token: a.access, json: { ...personBody(id), name: s, role: 'user' } });
    assert.equal(r.status, 201, `${s}: ${r.status} ${r.text.slice(0, 200)}`);
    const got = await ok('getUser', 200, { token: a.access, params: { id: r.body.user.id } });
    assert.equal(got.name, s, 'not stored verbatim');
    const me = await ok('updateMe', 200, { token: u.access, json: { name: s } });
    assert.equal(me.name, s);
    const login = await call('login', { json: { user_id: s, password: s } });
    expectProblem(login, 401, 'unauthorized');
    const reset = await call('requestPasswordReset', { json: { user_id: s } });
    assert.equal(reset.status, 202);
    const badId = await call('createUser', { token: a.access, json: { ...personBody(s), email: emailFor(uniq('x')), role: 'user' } });
    expectFieldErrors(badId, 'user_id');
    const mail = await call('requestUserIdReminder', { json: { email: `a${s.replace(/\s/g, '')}@x.example` } });
    expectNoServerError(mail);
    assert.ok([202, 422].includes(mail.status), `reminder: ${mail.status}`);
    const org = await call('createOrganization', { token: ck.access, json: orgBody('mhlw', freeCode('INJ'), uniq('inj'), { name: s }) });
    assert.equal(org.status, 201, org.text.slice(0, 200));
    assert.equal(org.body.organization.name, s);
    expectFieldErrors(await call('createOrganization', { token: ck.access, json: orgBody('mhlw', s, uniq('inj')) }), 'code');
  }
  const me = await ok('getMe', 200, { token: u.access });
  assert.equal(me.user.role, 'user', 'an injection changed the role');
  const unicode = '👩‍⚕️ 山田　ｱｲｳ e\u0301 \u202e';
  assert.equal((await ok('updateMe', 200, { token: u.access, json: { name: unicode } })).name, unicode);
  assert.equal((await ok('getMe', 200, { token: u.access })).user.name, unicode);
});

test('query parameters: page limits, enumerations and cursors are checked (422)', async () => {
  const lists = [
    ['listUsers', a.access, { status: ['bogus', "active' OR '1'='1"], role: ['root', "' OR 1=1 --"] }],
    ['listOrganizations', ck.access, { type: ['bogus', "municipality' OR '1'='1"] }],
    ['listAccessLogs', ck.access, { status: ['abc'], outcome: ['both'] }],
  ];
  for (const [opId, token, enums] of lists) {
    for (const limit of ['0', '-1', '201', '100000', '99999999999999999999', 'abc', '1.5', '']) {
      expectFieldErrors(await call(opId, { token, query: { limit } }), 'limit');
    }
    for (const cursor of ['garbage', 'W10', Buffer.from('["x"]').toString('base64url'), "'; DROP TABLE account.users; --", 'A'.repeat(2000)]) {
      const r = await call(opId, { token, query: { cursor } });
      expectFieldErrors(r, 'cursor');
    }
    for (const [name, values] of Object.entries(enums)) {
      for (const v of values) expectFieldErrors(await call(opId, { token, query: { [name]: v } }), name);
    }
    const max = await call(opId, { token, query: { limit: '200' } });
    assert.equal(max.status, 200);
    assert.ok(max.body.items.length <= 200);
  }
});

test('path ids: malformed, foreign and unknown ids are 404 (never 500), and change nothing', async () => {
  const odd = ['not-a-uuid', "' OR 1=1 --", '00000000-0000-4000-8000-000000000000', 'ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ', '1', 'x'.repeat(300), '%', '..'];
  for (const id of odd) {
    for (const [opId, token, json] of [
      ['getUser', a.access, undefined],
      ['updateUser', a.access, { name: '変更' }],
      ['resetUserPassword', a.access, undefined],
      ['getOrganization', a.access, undefined],
      ['updateOrganization', ck.access, { name: '変更' }],
    ]) {
      const r = await call(opId, { token, params: { id }, json, contract: false });
      expectNoServerError(r);
      assert.ok([400, 404].includes(r.status), `${opId} ${JSON.stringify(id)}: ${r.status} ${r.text.slice(0, 200)}`);
      expectProblemContract(r, `${opId} ${id}`);
    }
  }
  // Another tenant's ids are not found either.
  expectProblem(await call('updateUser', { token: a.access, params: { id: other.id }, json: { name: '変更' } }), 404, 'not-found');
  expectProblem(await call('getOrganization', { token: a.access, params: { id: other.orgId } }), 404, 'not-found');
  const still = await ok('getMe', 200, { token: other.access });
  assert.notEqual(still.user.name, '変更');
});
