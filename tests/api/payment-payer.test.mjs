// payment-payer.test.mjs - H-10: a 国保連合会's admin registers the federation's source accounts
// and links each to the destination bank codes it pays, with one default; validated against
// the bank master, versioned, read by every user of the federation and nobody else.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok, request } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { orgWithAdmin, userIn } from './lib/fixtures.mjs';
import { medicalCode } from './lib/codes.mjs';

let fed;
let fedUser;
let otherFed;
let inst;

const acct = (extra = {}) => ({
  bank_code: '0001',
  branch_code: '001',
  account_type: 'current',
  account_number: '0012345',
  holder_name: 'ｺｸﾐﾝｹﾝｺｳﾎｹﾝﾀﾞﾝﾀｲﾚﾝｺﾞｳｶｲ',
  client_code: '1234567890',
  destination_bank_codes: ['0001', '0005'],
  ...extra,
});

before(async () => {
  const f = await orgWithAdmin('kokuhoren');
  fed = f.adminSession;
  fedUser = await userIn(fed, 'user');
  otherFed = (await orgWithAdmin('kokuhoren')).adminSession;
  inst = (await orgWithAdmin('medical_institution', { code: medicalCode('1', f.code) })).adminSession;
});

test('H-10: source accounts linked to bank codes, one default, the route per destination bank', async () => {
  const a = await ok('createPayerAccount', 201, { token: fed.access, json: acct({ holder_name: 'コクホレン　ホンブ' }) });
  assert.equal(a.holder_name, 'ｺｸﾎﾚﾝ ﾎﾝﾌﾞ');
  assert.deepEqual(a.destination_bank_codes, ['0001', '0005']);
  assert.equal(a.is_default, false);
  // A bank code is paid from one account only.
  const dup = await call('createPayerAccount', {
    token: fed.access,
    json: acct({ bank_code: '0005', branch_code: '152', account_number: '0000002', destination_bank_codes: ['0005'] }),
  });
  expectProblem(dup, 409, 'conflict');
  assert.match(dup.body.detail, /0005/);
  const d = await ok('createPayerAccount', 201, {
    token: fed.access,
    json: acct({ bank_code: '9900', branch_code: '018', account_number: '0000003', destination_bank_codes: [], is_default: true }),
  });
  assert.equal(d.is_default, true);
  expectProblem(
    await call('createPayerAccount', {
      token: fed.access,
      json: acct({ bank_code: '0009', branch_code: '015', account_number: '0000004', destination_bank_codes: ['0009'], is_default: true }),
    }),
    409,
    'conflict',
  );
  const r1 = await ok('routePayerAccount', 200, { token: fedUser.access, query: { bank_code: '0005' } });
  assert.equal(r1.id, a.id);
  assert.equal(r1.matched, 'bank_code');
  const r2 = await ok('routePayerAccount', 200, { token: fedUser.access, query: { bank_code: '0138' } });
  assert.equal(r2.id, d.id);
  assert.equal(r2.matched, 'default');
  // A new version moves a link; the history keeps both.
  const u = await ok('updatePayerAccount', 200, { token: fed.access, params: { id: a.id }, json: acct({ destination_bank_codes: ['0001'] }) });
  assert.equal(u.version, 2);
  assert.equal((await ok('routePayerAccount', 200, { token: fed.access, query: { bank_code: '0005' } })).id, d.id);
  const h = await ok('getPayerAccountHistory', 200, { token: fedUser.access, params: { id: a.id } });
  assert.deepEqual(h.items.map((v) => v.account.destination_bank_codes), [['0001', '0005'], ['0001']]);
  const list = await ok('listPayerAccounts', 200, { token: fedUser.access, query: { status: 'active' } });
  assert.ok(list.items.some((x) => x.id === a.id) && list.items.some((x) => x.id === d.id));
  const ret = await ok('retirePayerAccount', 200, { token: fed.access, params: { id: d.id } });
  assert.equal(ret.status, 'retired');
  expectProblem(await call('routePayerAccount', { token: fed.access, query: { bank_code: '0138' } }), 404);
  expectProblem(await call('retirePayerAccount', { token: fed.access, params: { id: d.id } }), 404);
});

test('H-10: bad inputs', async () => {
  const cases = [
    [{ destination_bank_codes: ['0002'] }, 'destination_bank_codes[0]'],
    [{ destination_bank_codes: ['0001', '0001'] }, 'destination_bank_codes[1]'],
    [{ destination_bank_codes: ['12'] }, 'destination_bank_codes[0]'],
    [{ destination_bank_codes: [] }, 'destination_bank_codes'],
    [{ client_code: '123' }, 'client_code'],
    [{ holder_name: '国保連合会' }, 'holder_name'],
    [{ account_number: '1' }, 'account_number'],
    [{ branch_code: '999' }, 'branch_code'],
    [{ bank_code: '0033', branch_code: '999' }, 'branch_code'],
    [{ bank_code: '0002' }, 'bank_code'],
    [{ is_default: 'yes' }, 'is_default'],
    [{ extra: true }, 'extra'],
  ];
  for (const [extra, field] of cases) {
    expectFieldErrors(await call('createPayerAccount', { token: fed.access, json: acct(extra), contract: false }), field);
  }
  expectProblem(await request('POST', '/api/v1/payer-account-links', { token: fed.access, body: '[', contentType: 'application/json' }), 400);
  expectFieldErrors(await call('routePayerAccount', { token: fed.access, query: { bank_code: 'abcd' } }), 'bank_code');
  expectFieldErrors(await call('listPayerAccounts', { token: fed.access, query: { status: 'all' } }), 'status');
  expectProblem(await call('getPayerAccount', { token: fed.access, params: { id: 'x' }, contract: false }), 404);
});

test('H-10: only the federation: its admin writes, its users read, others get 403 or 404', async () => {
  const a = await ok('createPayerAccount', 201, {
    token: fed.access,
    json: acct({ bank_code: '0010', branch_code: '101', account_number: '0000010', destination_bank_codes: ['0010'] }),
  });
  expectProblem(await call('createPayerAccount', { token: fedUser.access, json: acct() }), 403, 'forbidden');
  expectProblem(await call('updatePayerAccount', { token: fedUser.access, params: { id: a.id }, json: acct() }), 403);
  expectProblem(await call('createPayerAccount', { token: inst.access, json: acct() }), 403, 'forbidden');
  expectProblem(await call('listPayerAccounts', { token: inst.access }), 403, 'forbidden');
  await ok('getPayerAccount', 200, { token: fedUser.access, params: { id: a.id } });
  expectProblem(await call('getPayerAccount', { token: otherFed.access, params: { id: a.id } }), 404, 'not-found');
  expectProblem(await call('updatePayerAccount', { token: otherFed.access, params: { id: a.id }, json: acct({ destination_bank_codes: ['0010'] }) }), 404);
  expectProblem(await call('retirePayerAccount', { token: otherFed.access, params: { id: a.id } }), 404);
  const other = await ok('listPayerAccounts', 200, { token: otherFed.access });
  assert.ok(!other.items.some((x) => x.id === a.id));
  // Without a token: 401.
  expectProblem(await call('listPayerAccounts', {}), 401);
});
