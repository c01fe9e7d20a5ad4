// payment-accounts.test.mjs - H-9: institutions' bank accounts, registered by the institution's
// admin and reviewed by the 国保連合会 of its prefecture. Zengin holder names (conversion and
// refusals naming the character), the bank master (unknown bank, bank without the branch,
// closed branch), one live account per purpose and month, approve / reject / resubmit with
// every version kept, documents of an assignment account, and the tenant rules per role.
// Every answer is checked against proto-schemas/payment.yaml.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok, request } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { orgWithAdmin, userIn } from './lib/fixtures.mjs';
import { medicalCode } from './lib/codes.mjs';
import { monthStart, today } from './lib/dates.mjs';
import { psql } from './lib/sql.mjs';

const month = (n = 0) => monthStart(today(), n).slice(0, 7);
let fed; // 国保連合会 admin session (prefecture P)
let fedUser; // a user of it
let otherFed; // a 国保連合会 of another prefecture
let inst; // institution of P: admin session
let instUser;
let otherInst; // another institution of P: admin session
let P;

function body(extra = {}) {
  return {
    purpose: 'vaccination',
    bank_code: '0001',
    branch_code: '001',
    account_type: 'ordinary',
    account_number: '1234567',
    holder_name: 'イ）シンジュクナイカ',
    effective_from: month(1),
    ...extra,
  };
}

before(async () => {
  const f = await orgWithAdmin('kokuhoren');
  fed = f.adminSession;
  P = f.code;
  fedUser = await userIn(fed, 'user');
  otherFed = (await orgWithAdmin('kokuhoren')).adminSession;
  inst = (await orgWithAdmin('medical_institution', { code: medicalCode('1', P) })).adminSession;
  instUser = await userIn(inst, 'user');
  otherInst = (await orgWithAdmin('medical_institution', { code: medicalCode('1', P) })).adminSession;
  // A branch that closed: the bank master keeps it with its last day.
  await psql(
    "INSERT INTO master.bank_branches (bank_code, code, name, name_kana, valid_from, valid_to, source) " +
      "SELECT '0001', '998', '閉鎖支店', 'ﾍｲｻ', '2000-01-01', '2020-03-31', 'SEED' WHERE NOT EXISTS " +
      "(SELECT 1 FROM master.bank_branches WHERE bank_code = '0001' AND code = '998')",
  );
});

test('H-9: register a vaccination account; the holder name becomes Zengin half-width', async () => {
  const a = await ok('createBankAccount', 201, { token: inst.access, json: body({ holder_name: 'ｲ)しんじゅく　ないか' }) });
  assert.equal(a.status, 'submitted');
  assert.equal(a.version, 1);
  assert.equal(a.holder_name, 'ｲ)ｼﾝｼﾞﾕｸ ﾅｲｶ');
  assert.equal(a.holder_name_input, 'ｲ)しんじゅく　ないか');
  assert.equal(a.prefecture_code, P);
  assert.equal(a.effective_from, month(1));
  assert.deepEqual(a.documents, []);
  const got = await ok('getBankAccount', 200, { token: inst.access, params: { id: a.id } });
  assert.equal(got.id, a.id);
  // The federation of the prefecture sees it in its queue; another federation does not.
  const q = await ok('listBankAccounts', 200, { token: fedUser.access, query: { status: 'submitted', org_id: inst.orgId } });
  assert.ok(q.items.some((x) => x.id === a.id));
  expectProblem(await call('getBankAccount', { token: otherFed.access, params: { id: a.id } }), 404, 'not-found');
  const q2 = await ok('listBankAccounts', 200, { token: otherFed.access, query: { org_id: inst.orgId } });
  assert.equal(q2.items.length, 0);
  // Another institution, even of the same prefecture, does not.
  expectProblem(await call('getBankAccount', { token: otherInst.access, params: { id: a.id } }), 404, 'not-found');
});

test('H-9: holder names outside the Zengin set are refused, naming the character', async () => {
  for (const [name, ch] of [
    ['山田 タロウ', '山'],
    ['ﾔﾏﾀﾞ@ﾀﾛｳ', '@'],
    ['ﾃｽﾄ｡', '｡'],
    ['ＡＢＣ＆', '＆'],
    ['ｶﾌﾞ😀', '😀'],
  ]) {
    const r = await call('createBankAccount', { token: inst.access, json: body({ holder_name: name }) });
    const p = expectFieldErrors(r, 'holder_name');
    const e = p.errors.find((x) => x.field === 'holder_name');
    assert.ok(e.reason.includes(ch), `reason names ${ch}: ${e.reason}`);
  }
  expectFieldErrors(await call('createBankAccount', { token: inst.access, json: body({ holder_name: '　 ' }) }), 'holder_name');
  expectFieldErrors(
    await call('createBankAccount', { token: inst.access, json: body({ holder_name: 'ガ'.repeat(16) }) }),
    'holder_name',
  );
});

test('H-9: bank and branch codes are checked against the bank master', async () => {
  const nobank = await call('createBankAccount', { token: inst.access, json: body({ bank_code: '0002' }) });
  expectFieldErrors(nobank, 'bank_code');
  // PayPay銀行 (0033) is in the master (demo seed and the full list), its branch 999 is not.
  const nobranch = await call('createBankAccount', { token: inst.access, json: body({ bank_code: '0033', branch_code: '999' }) });
  const p = expectFieldErrors(nobranch, 'branch_code');
  assert.match(p.errors[0].reason, /no branch 999/);
  const closed = await call('createBankAccount', { token: inst.access, json: body({ branch_code: '998' }) });
  assert.match(expectFieldErrors(closed, 'branch_code').errors[0].reason, /closed on 2020-03-31/);
});

test('H-9: bad bodies on registration', async () => {
  const cases = [
    [{ account_number: '123' }, 'account_number'],
    [{ account_number: '12345678' }, 'account_number'],
    [{ account_number: '12345a7' }, 'account_number'],
    [{ bank_code: '1' }, 'bank_code'],
    [{ branch_code: 'abc' }, 'branch_code'],
    [{ account_type: 'checking' }, 'account_type'],
    [{ purpose: 'salary' }, 'purpose'],
    [{ effective_from: '2020-01' }, 'effective_from'],
    [{ effective_from: '2026-13' }, 'effective_from'],
    [{ effective_from: 202701 }, 'effective_from'],
    [{ purpose: 'assignment' }, 'assignment'],
    [{ assignment: { assignee_name: 'X', from: '2026-01-01', to: '2026-12-31' } }, 'assignment'],
    [{ extra: 1 }, 'extra'],
  ];
  for (const [extra, field] of cases) {
    const r = await call('createBankAccount', { token: inst.access, json: body(extra), contract: false });
    expectFieldErrors(r, field);
  }
  const { holder_name: _h, ...missing } = body();
  expectFieldErrors(await call('createBankAccount', { token: inst.access, json: missing, contract: false }), 'holder_name');
  expectProblem(
    await request('POST', '/api/v1/bank-accounts', { token: inst.access, body: '{"purpose":', contentType: 'application/json' }),
    400,
  );
  expectProblem(await request('POST', '/api/v1/bank-accounts', { token: inst.access, body: 'x', contentType: 'text/plain' }), 415);
  expectProblem(await call('getBankAccount', { token: inst.access, params: { id: 'not-a-uuid' }, contract: false }), 404);
  expectFieldErrors(await call('listBankAccounts', { token: inst.access, query: { status: 'open' } }), 'status');
  expectFieldErrors(await call('listBankAccounts', { token: inst.access, query: { bogus: '1' } }), 'bogus');
  expectFieldErrors(await call('getEffectiveBankAccount', { token: inst.access, query: { purpose: 'vaccination', month: '2026-1' } }), 'month');
});

test('H-9: one live account per purpose and month; overlapping assignment periods refused', async () => {
  const m = month(6);
  const a = await ok('createBankAccount', 201, { token: otherInst.access, json: body({ effective_from: m }) });
  const dup = await call('createBankAccount', { token: otherInst.access, json: body({ effective_from: m, account_number: '7654321' }) });
  expectProblem(dup, 409, 'conflict');
  assert.match(dup.body.detail, new RegExp(a.id));
  await ok('createBankAccount', 201, { token: otherInst.access, json: body({ effective_from: month(7) }) });
  const asg = (from, to, eff) =>
    body({
      purpose: 'assignment',
      effective_from: eff,
      holder_name: 'ｻｲｹﾝｶｲﾄﾘ(ｶ',
      assignment: { assignee_name: '株式会社債権買取', from, to },
    });
  await ok('createBankAccount', 201, { token: otherInst.access, json: asg(`${month(2)}-01`, `${month(4)}-28`, month(2)) });
  expectProblem(
    await call('createBankAccount', { token: otherInst.access, json: asg(`${month(4)}-01`, `${month(5)}-28`, month(4)) }),
    409,
    'conflict',
  );
  await ok('createBankAccount', 201, { token: otherInst.access, json: asg(`${month(5)}-01`, `${month(5)}-28`, month(5)) });
  expectFieldErrors(
    await call('createBankAccount', { token: otherInst.access, json: asg(`${month(5)}-01`, `${month(3)}-28`, month(5)) }),
    'assignment.to',
  );
});

test('H-9: who may register and review (roles and tenants)', async () => {
  expectProblem(await call('createBankAccount', { token: instUser.access, json: body() }), 403, 'forbidden');
  expectProblem(await call('createBankAccount', { token: fed.access, json: body() }), 403, 'forbidden');
  expectProblem(await call('listBankAccounts', { token: instUser.access }), 403, 'forbidden');
  const a = await ok('createBankAccount', 201, { token: inst.access, json: body({ effective_from: month(9) }) });
  // The institution cannot review its own request; another prefecture's federation cannot see it.
  expectProblem(await call('approveBankAccount', { token: inst.access, params: { id: a.id } }), 403, 'forbidden');
  expectProblem(await call('approveBankAccount', { token: otherFed.access, params: { id: a.id } }), 404, 'not-found');
  expectProblem(await call('rejectBankAccount', { token: otherFed.access, params: { id: a.id }, json: { reason: 'x' } }), 404);
  const ap = await ok('approveBankAccount', 200, { token: fedUser.access, params: { id: a.id }, json: { reason: '確認済み' } });
  assert.equal(ap.status, 'approved');
  assert.equal(ap.reviewed_org_id, fedUser.orgId);
  assert.notEqual(ap.reviewed_by, ap.submitted_by);
  expectProblem(await call('approveBankAccount', { token: fed.access, params: { id: a.id } }), 409, 'conflict');
  expectProblem(await call('rejectBankAccount', { token: fed.access, params: { id: a.id }, json: { reason: 'x' } }), 409);
  const eff = await ok('getEffectiveBankAccount', 200, {
    token: fed.access,
    query: { purpose: 'vaccination', month: month(10), org_id: inst.orgId },
  });
  assert.equal(eff.id, a.id);
  const own = await ok('getEffectiveBankAccount', 200, { token: inst.access, query: { purpose: 'vaccination', month: month(9) } });
  assert.equal(own.id, a.id);
  expectProblem(await call('getEffectiveBankAccount', { token: inst.access, query: { purpose: 'assignment', month: month(9) } }), 404);
  expectFieldErrors(await call('getEffectiveBankAccount', { token: fed.access, query: { purpose: 'vaccination', month: month(9) } }), 'org_id');
});

test('H-9: reject with a reason, resubmit, every version kept', async () => {
  const a = await ok('createBankAccount', 201, { token: inst.access, json: body({ effective_from: month(11) }) });
  expectFieldErrors(await call('rejectBankAccount', { token: fed.access, params: { id: a.id }, json: {} }), 'reason');
  expectFieldErrors(await call('rejectBankAccount', { token: fed.access, params: { id: a.id }, json: { reason: '' } }), 'reason');
  expectProblem(await call('resubmitBankAccount', { token: inst.access, params: { id: a.id }, json: body({ effective_from: month(11) }) }), 409);
  const rj = await ok('rejectBankAccount', 200, { token: fed.access, params: { id: a.id }, json: { reason: '通帳の写しと口座名義が一致しません' } });
  assert.equal(rj.status, 'rejected');
  assert.equal(rj.review_reason, '通帳の写しと口座名義が一致しません');
  // The institution sees why.
  const seen = await ok('getBankAccount', 200, { token: inst.access, params: { id: a.id } });
  assert.equal(seen.review_reason, rj.review_reason);
  expectProblem(await call('resubmitBankAccount', { token: otherInst.access, params: { id: a.id }, json: body({ effective_from: month(11) }) }), 409);
  const rs = await ok('resubmitBankAccount', 200, {
    token: inst.access,
    params: { id: a.id },
    json: body({ effective_from: month(11), account_number: '0000001', holder_name: 'ｲ)ｼﾝｼﾞﾕｸﾅｲｶ' }),
  });
  assert.equal(rs.status, 'submitted');
  assert.equal(rs.version, 2);
  assert.equal(rs.review_reason, null);
  const h = await ok('getBankAccountHistory', 200, { token: fed.access, params: { id: a.id } });
  assert.deepEqual(h.items.map((v) => v.event), ['submitted', 'rejected', 'resubmitted']);
  assert.equal(h.items[0].account.account_number, '1234567');
  assert.equal(h.items[1].account.review_reason, rj.review_reason);
  assert.equal(h.items[2].account.account_number, '0000001');
  expectProblem(await call('getBankAccountHistory', { token: otherFed.access, params: { id: a.id } }), 404);
  const ap = await ok('approveBankAccount', 200, { token: fed.access, params: { id: a.id } });
  assert.equal(ap.version, 2);
});

test('H-9: an assignment account needs its documents; uploads are typed and size-limited', async () => {
  const a = await ok('createBankAccount', 201, {
    token: inst.access,
    json: body({
      purpose: 'assignment',
      effective_from: month(2),
      holder_name: 'ｻｲｹﾝｶｲﾄﾘ(ｶ',
      assignment: { assignee_name: '株式会社債権買取', from: `${month(2)}-01`, to: `${month(3)}-15` },
    }),
  });
  assert.equal(a.effective_to, month(3));
  assert.equal(a.assignment.assignee_name, '株式会社債権買取');
  expectProblem(await call('approveBankAccount', { token: fed.access, params: { id: a.id } }), 409, 'conflict');
  const pdf = Buffer.from('%PDF-1.4\n% 委任状\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
  const up = (buf, type, kind = 'power_of_attorney', token = inst.access) =>
    call('uploadBankAccountDocument', { token, params: { id: a.id }, query: { kind }, body: buf, contentType: type });
  expectProblem(await up(Buffer.from('hello'), 'text/plain'), 415);
  expectProblem(await up(Buffer.from('not a pdf'), 'application/pdf'), 415);
  expectFieldErrors(await up(pdf, 'application/pdf', 'selfie'), 'kind');
  const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(1024 * 1024 + 10, 0x20)]);
  const r413 = await up(big, 'application/pdf');
  assert.equal(r413.status, 413);
  expectProblem(await up(pdf, 'application/pdf', 'power_of_attorney', otherInst.access), 404);
  const d = await ok('uploadBankAccountDocument', 201, {
    token: inst.access,
    params: { id: a.id },
    query: { kind: 'power_of_attorney' },
    body: pdf,
    contentType: 'application/pdf',
  });
  assert.equal(d.size_bytes, pdf.length);
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('passbook')]);
  await ok('uploadBankAccountDocument', 201, {
    token: inst.access,
    params: { id: a.id },
    query: { kind: 'passbook' },
    body: png,
    contentType: 'image/png',
  });
  const back = await request('GET', `/api/v1/bank-accounts/${a.id}/documents/${d.id}`, { token: fed.access });
  assert.equal(back.status, 200);
  assert.equal(back.headers.get('content-type'), 'application/pdf');
  assert.ok(back.raw.equals(pdf), 'the document comes back byte for byte');
  const ap = await ok('approveBankAccount', 200, { token: fed.access, params: { id: a.id } });
  assert.equal(ap.documents.length, 2);
  expectProblem(await up(pdf, 'application/pdf'), 404); // none once approved
  const eff = await ok('getEffectiveBankAccount', 200, { token: inst.access, query: { purpose: 'assignment', month: month(3) } });
  assert.equal(eff.id, a.id);
  expectProblem(await call('getEffectiveBankAccount', { token: inst.access, query: { purpose: 'assignment', month: month(4) } }), 404);
});
