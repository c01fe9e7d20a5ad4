// payment-netting.test.mjs - claims writes under Idempotency-Key (a retry of a close, a review,
// an invoice, a payment record, a payment run or its approval, a 依頼書 gets the first answer and
// changes nothing; the same key with another request is 422; a malformed key is 400), and a
// 過誤調整 month that comes out negative: the municipality settles the negative invoice, the
// institution's item is held and carried, and the next run nets it against the next month's
// claims (amounts reconcile: item = its lines, file trailer = the items).
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { chuokai, orgWithAdmin, userIn } from './lib/fixtures.mjs';
import { medicalCode, municipalityCode } from './lib/codes.mjs';
import { addDays, addMonths, monthStart, today } from './lib/dates.mjs';
import { institution, person, currentLot } from './lib/records.mjs';
import { psql, lit } from './lib/sql.mjs';
import { importHolidays } from './lib/holidays.mjs';

const MR = '631300601';
const PRICE = 10000;
const SELF = 1500;
const NET = PRICE - SELF;
const lastMonth = monthStart(today(), -1).slice(0, 7);
const vaccDay = (n) => addDays(monthStart(today(), -1), n);
const thisMonth = today().slice(0, 7);
const sum = (xs, f) => xs.reduce((a, x) => a + f(x), 0);

let fed;
let fedUser;
let muni;
let inst;
let ck;
let keyN = 0;
const key = (what) => ({ 'Idempotency-Key': `net-${what}-${process.pid}-${Date.now()}-${++keyN}` });

async function mrDose(day) {
  const child = await person(muni, { birth_date: addMonths(day, -13) });
  await ok('lookupPerson', 200, { token: inst.session.access, json: { my_number: child.my_number, birth_date: child.birth_date } });
  const rec = await ok('createImmunization', 201, {
    token: inst.session.access,
    json: {
      person_id: child.id, vaccinated_on: day, vaccine_code: MR, dose_number: 1, lot_no: await currentLot(MR),
      institution_code: inst.code, doctor_name: '医師 花子', dose_ml: 0.5, site: '左上腕', category: 'routine',
    },
  });
  assert.equal(rec.claimable, true);
  return { rec, child };
}

const linesOf = async (query) => (await ok('listClaimLines', 200, { token: inst.session.access, query: { limit: 200, ...query } })).items;

// Closes the month's batch: through the API up to the current month (twice under one key: the
// same answer); a later month cannot be closed by the institution before its time, so its
// close day is simulated in the database.
async function closeMonth(month) {
  if (month <= thisMonth) {
    const headers = key('close');
    const a = await call('closeClaimBatch', { token: inst.session.access, json: { claim_month: month }, headers });
    const b = await call('closeClaimBatch', { token: inst.session.access, json: { claim_month: month }, headers });
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(b.body, a.body);
    return;
  }
  await psql(`UPDATE payment.claim_batches SET status = 'closed', closed_how = 'close_day', closed_at = now() ` +
    `WHERE institution_code = ${lit(inst.code)} AND claim_month = ${lit(`${month}-01`)} AND status = 'open'`);
}

async function acceptAll(month) {
  for (const l of (await linesOf({ claim_month: month })).filter((x) => x.status === 'claimed')) {
    const headers = key('review');
    const a = await call('reviewClaimLine', { token: fedUser.access, params: { id: l.id }, json: { decision: 'accept' }, headers });
    assert.equal(a.status, 200, a.text);
    // A retry after a lost answer: replayed, not 409.
    const b = await call('reviewClaimLine', { token: fedUser.access, params: { id: l.id }, json: { decision: 'accept' }, headers });
    assert.equal(b.status, 200, b.text);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    assert.equal(b.body.reviewed_at, a.body.reviewed_at);
    // The same key with another request is refused; without a key the retry is a 409.
    expectProblem(await call('reviewClaimLine', { token: fedUser.access, params: { id: l.id }, json: { decision: 'return', reason: 'x' }, headers }), 422);
    expectProblem(await call('reviewClaimLine', { token: fedUser.access, params: { id: l.id }, json: { decision: 'accept' } }), 409, 'conflict');
  }
}

// Invoices the month and records the municipality's payment of each (its total, negative or
// not), both under a key and retried.
async function invoiceAndPay(month) {
  const headers = key('invoice');
  const inv = await ok('issueInvoices', 200, { token: fedUser.access, json: { claim_month: month }, headers });
  const again = await call('issueInvoices', { token: fedUser.access, json: { claim_month: month }, headers });
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.body, inv);
  const mi = inv.items.find((i) => i.muni_code === muni.code);
  const ph = key('pay');
  const json = { paid_on: today(), amount_yen: mi.total_yen };
  // Refused inside the transaction, after the key was claimed: the claim is rolled back with
  // the rest, so the same key then takes the right request.
  expectFieldErrors(await call('payInvoice', { token: muni.session.access, params: { id: mi.id }, json: { ...json, amount_yen: mi.total_yen + 1 }, headers: ph }), 'amount_yen');
  const p1 = await ok('payInvoice', 200, { token: muni.session.access, params: { id: mi.id }, json, headers: ph });
  const p2 = await call('payInvoice', { token: muni.session.access, params: { id: mi.id }, json, headers: ph });
  assert.equal(p2.status, 200, p2.text);
  assert.equal(p2.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(p2.body, p1);
  expectProblem(await call('payInvoice', { token: muni.session.access, params: { id: mi.id }, json }), 409, 'conflict');
  return mi;
}

async function runFor(month) {
  const headers = key('run');
  const run = await ok('createPaymentRun', 201, { token: fedUser.access, json: { claim_month: month }, headers });
  const again = await call('createPaymentRun', { token: fedUser.access, json: { claim_month: month }, headers });
  assert.equal(again.status, 201, again.text);
  assert.equal(again.body.id, run.id);
  const ah = key('approve');
  assert.equal((await ok('approvePaymentRun', 200, { token: fed.access, params: { id: run.id }, headers: ah })).status, 'approved');
  const ap = await call('approvePaymentRun', { token: fed.access, params: { id: run.id }, headers: ah });
  assert.equal(ap.status, 200, ap.text);
  assert.equal(ap.headers.get('idempotent-replayed'), 'true');
  expectProblem(await call('approvePaymentRun', { token: fed.access, params: { id: run.id } }), 409, 'conflict');
  return run;
}

before(async () => {
  ck = await chuokai();
  const f = await orgWithAdmin('kokuhoren');
  fed = f.adminSession;
  fedUser = await userIn(fed, 'user');
  const m = await orgWithAdmin('municipality', { code: municipalityCode(f.code) });
  muni = { session: m.adminSession, code: m.code };
  inst = await institution({ code: medicalCode('1', f.code) });
  await ok('registerMasterRow', 201, {
    token: muni.session.access,
    params: { master: 'unit_prices' },
    json: { municipality_code: muni.code, vaccine_code: MR, dose_number: 1, price_yen: PRICE, self_pay_yen: SELF, valid_from: '2020-04-01' },
  });
  const y = Number(today().slice(0, 4));
  await importHolidays(ck.access, [y, y + 1]);
});

test('claims: a negative 過誤調整 month is held and netted against the next month; writes under Idempotency-Key', async () => {
  // Month 1: one record claimed, accepted, invoiced, paid to the institution.
  const x = await mrDose(vaccDay(3));
  await ok('collectClaims', 200, { token: inst.session.access, json: { month: lastMonth } });
  const [lx] = await linesOf({ record_id: x.rec.id });
  const m1 = lx.claim_month;
  await closeMonth(m1);
  await acceptAll(m1);
  await invoiceAndPay(m1);
  const acct = await ok('createBankAccount', 201, {
    token: inst.session.access,
    json: { purpose: 'vaccination', bank_code: '0001', branch_code: '001', account_type: 'ordinary', account_number: '7654321', holder_name: 'ｼｹﾝ', effective_from: thisMonth },
  });
  await ok('approveBankAccount', 200, { token: fedUser.access, params: { id: acct.id } });
  if (m1 < thisMonth) await psql(`UPDATE payment.bank_accounts SET effective_from = ${lit(`${m1}-01`)} WHERE id = ${lit(acct.id)}`);
  await ok('createPayerAccount', 201, {
    token: fed.access,
    json: { bank_code: '0001', branch_code: '001', account_type: 'current', account_number: '0012345', holder_name: 'ｺｸﾎﾚﾝ', client_code: '1234567890', destination_bank_codes: [], is_default: true },
  });
  const r1 = await runFor(m1);
  assert.equal(r1.items.find((i) => i.institution_code === inst.code).amount_yen, NET);

  // Month 2: the record is voided: only a negative 過誤調整 line. The municipality's invoice is
  // negative (it settles it as such); the institution's item is held, its line not paid.
  await ok('voidImmunization', 200, { token: inst.session.access, params: { id: x.rec.id }, json: { reason: '記録誤り' } });
  await ok('collectClaims', 200, { token: inst.session.access, json: { month: lastMonth } });
  const adj = (await linesOf({ record_id: x.rec.id })).find((l) => l.kind === 'adjustment');
  assert.equal(adj.claim_yen, -NET);
  const m2 = adj.claim_month;
  assert.ok(m2 > m1);
  await closeMonth(m2);
  await acceptAll(m2);
  const inv2 = await invoiceAndPay(m2);
  assert.equal(inv2.amount_yen, -NET);
  assert.ok(inv2.total_yen < 0);
  const r2 = await runFor(m2);
  const held = r2.items.find((i) => i.institution_code === inst.code);
  assert.equal(held.status, 'held');
  assert.equal(held.amount_yen, -NET);
  assert.match(held.held_reason, /carried to the next run/);
  assert.equal(r2.total_yen, 0);
  assert.equal((await ok('getClaimLine', 200, { token: inst.session.access, params: { id: adj.id } })).payment_item_id, null);
  const mine = await ok('listMyPayments', 200, { token: inst.session.access, query: { claim_month: m2 } });
  assert.deepEqual(mine.items.map((i) => [i.status, i.amount_yen]), [['held', -NET]]);

  // Month 3: two new claims; the run nets the carried adjustment: 2 × NET - NET.
  const y1 = await mrDose(vaccDay(5));
  const y2 = await mrDose(vaccDay(6));
  await ok('collectClaims', 200, { token: inst.session.access, json: { month: lastMonth } });
  const [ly] = await linesOf({ record_id: y1.rec.id });
  const m3 = ly.claim_month;
  assert.ok(m3 > m2);
  assert.equal((await linesOf({ record_id: y2.rec.id }))[0].claim_month, m3);
  await closeMonth(m3);
  await acceptAll(m3);
  await invoiceAndPay(m3);
  const r3 = await runFor(m3);
  const item = r3.items.find((i) => i.institution_code === inst.code);
  assert.equal(item.status, 'pay');
  assert.equal(item.amount_yen, 2 * NET - NET);
  assert.equal(item.lines, 3);
  // The carried adjustment and the new claims are paid by the same item.
  const items = new Set();
  for (const id of [adj.id, ly.id]) items.add((await ok('getClaimLine', 200, { token: inst.session.access, params: { id } })).payment_item_id);
  assert.equal(items.size, 1);
  assert.equal(typeof [...items][0], 'string');
  // The file's trailer equals its data records, which equal the run's paid items.
  const z = await call('getPaymentRunZengin', { token: fedUser.access, params: { id: r3.id } });
  assert.equal(z.status, 200, z.text);
  const recs = [];
  for (let i = 0; i < z.raw.length; i += 122) recs.push(z.raw.subarray(i, i + 120).toString('latin1'));
  const data = recs.filter((r) => r[0] === '2');
  const trailer = recs.find((r) => r[0] === '8');
  assert.equal(Number(trailer.slice(7, 19)), sum(data, (r) => Number(r.slice(80, 90))));
  assert.equal(Number(trailer.slice(7, 19)), r3.total_yen);
  assert.equal(r3.total_yen, sum(r3.items.filter((i) => i.status === 'pay'), (i) => i.amount_yen));
  // Nothing is paid twice: the month's run again has nothing left.
  expectProblem(await call('createPaymentRun', { token: fedUser.access, json: { claim_month: m3 } }), 409, 'conflict');
});

test('claims: Idempotency-Key on a 依頼書; bad keys', async () => {
  const child = await person(muni, {});
  const json = { person_id: child.id, institution_code: inst.code, valid_from: today(), valid_to: addDays(today(), 30) };
  const headers = key('ref');
  const a = await ok('createReferral', 201, { token: muni.session.access, json, headers });
  const b = await call('createReferral', { token: muni.session.access, json, headers });
  assert.equal(b.status, 201, b.text);
  assert.equal(b.body.id, a.id);
  assert.equal(b.headers.get('idempotent-replayed'), 'true');
  const list = await ok('listReferrals', 200, { token: muni.session.access, query: { person_id: child.id } });
  assert.equal(list.items.length, 1);
  // The same key, another body: 422, nothing new.
  expectProblem(await call('createReferral', { token: muni.session.access, json: { ...json, note: '別' }, headers }), 422);
  // Keys: 255 characters are taken, 256 are not; nor one with a space.
  const k255 = { 'Idempotency-Key': 'k'.repeat(250) + String(Date.now() % 100000).padStart(5, '0') };
  assert.equal((await call('createReferral', { token: muni.session.access, json: { ...json, note: '255' }, headers: k255 })).status, 201);
  expectProblem(await call('createReferral', { token: muni.session.access, json: { ...json, note: '256' }, headers: { 'Idempotency-Key': 'k'.repeat(256) } }), 400);
  expectProblem(await call('createReferral', { token: muni.session.access, json: { ...json, note: 'space' }, headers: { 'Idempotency-Key': 'a b' } }), 400);
  assert.equal((await ok('listReferrals', 200, { token: muni.session.access, query: { person_id: child.id } })).items.length, 2);
});
