// payment-claims.test.mjs - claims (請求): an institution's records of a month, read from the
// records service, become claim lines priced from the unit-price master (自己負担 deducted, the
// 集合契約 price where the institution takes part); an institution outside the municipality's
// prefecture is returned (返戻) unless a 集合契約 or the municipality's 依頼書 covers it; the
// monthly batch is closed (twice: idempotent), reviewed by the 国保連合会 (accept, 返戻, 査定),
// reclaimed; a record corrected or voided after its month closed becomes a 過誤調整 line.
// Amounts reconcile lines -> batch totals -> month totals -> nationwide totals. Tenant rules per
// role, bad inputs on every endpoint; every answer is checked against proto-schemas/payment.yaml.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { chuokai, orgWithAdmin, userIn } from './lib/fixtures.mjs';
import { medicalCode, municipalityCode } from './lib/codes.mjs';
import { addDays, addMonths, monthStart, today } from './lib/dates.mjs';
import { institution, person, currentLot } from './lib/records.mjs';
import { psql, lit } from './lib/sql.mjs';
import { importHolidays, isHoliday, holidaysOf } from './lib/holidays.mjs';
import { execFileSync } from 'node:child_process';

const MR = '631300601'; // 麻しん風しん混合, dose 1 at 12-24 months
const PRICE = 10000;
const SELF = 1500;
const CONTRACT = 9000;
const lastMonth = monthStart(today(), -1).slice(0, 7);
const vaccDay = (n) => addDays(monthStart(today(), -1), n);

let P; // the federation's prefecture
let fed; // 国保連合会 of P (admin) and a user of it
let fedUser;
let otherFed; // 国保連合会 of another prefecture Q (the out-of-area institutions' own)
let muni; // municipality of P: { session, code }
let otherMuni;
let inst; // institution of P: { session, code }
let instUser;
let otherInst; // another institution of P
let farInst; // an institution of another prefecture
let contractInst; // an institution of another prefecture taking part in a 集合契約 for MR
let ck;

async function unitPrice(m, vaccine_code, dose_number, price_yen, self_pay_yen) {
  await ok('registerMasterRow', 201, {
    token: m.session.access,
    params: { master: 'unit_prices' },
    json: { municipality_code: m.code, vaccine_code, dose_number, price_yen, self_pay_yen, valid_from: '2020-04-01' },
  });
}

// A child of the municipality, identified by the institution at reception, vaccinated with MR
// dose 1 on `day` by it; returns the record.
async function mrDose(who, day, extra = {}) {
  const child = await person(muni, { birth_date: addMonths(day, -13), ...extra.person });
  await ok('lookupPerson', 200, { token: who.session.access, json: { my_number: child.my_number, birth_date: child.birth_date } });
  const rec = await ok('createImmunization', 201, {
    token: who.session.access,
    json: {
      person_id: child.id, vaccinated_on: day, vaccine_code: MR, dose_number: 1, lot_no: await currentLot(MR),
      institution_code: who.code, doctor_name: '医師 花子', dose_ml: 0.5, site: '左上腕', category: 'routine',
    },
  });
  assert.equal(rec.claimable, true, `the record should be claimable: ${JSON.stringify(rec)}`);
  return { rec, child };
}

const collect = (who, month = lastMonth) => ok('collectClaims', 200, { token: who.session.access, json: { month } });
const linesOf = async (token, query) => (await ok('listClaimLines', 200, { token, query: { limit: 200, ...query } })).items;
const sum = (xs, f) => xs.reduce((a, x) => a + f(x), 0);

before(async () => {
  ck = await chuokai();
  const f = await orgWithAdmin('kokuhoren');
  fed = f.adminSession;
  P = f.code;
  fedUser = await userIn(fed, 'user');
  // The other federation's prefecture is this run's own too (one 国保連合会 per prefecture):
  // the out-of-area institutions live there, so a later run on the same database (the contract
  // layer re-runs this file) never finds their batches in its own prefecture's review queue.
  const of = await orgWithAdmin('kokuhoren');
  otherFed = of.adminSession;
  const Q = of.code;
  const m = await orgWithAdmin('municipality', { code: municipalityCode(P) });
  muni = { session: m.adminSession, code: m.code };
  const om = await orgWithAdmin('municipality', { code: municipalityCode(P) });
  otherMuni = { session: om.adminSession, code: om.code };
  inst = await institution({ code: medicalCode('1', P) });
  instUser = await userIn(inst.session, 'user');
  otherInst = await institution({ code: medicalCode('1', P) });
  farInst = await institution({ code: medicalCode('1', Q) });
  contractInst = await institution({ code: medicalCode('3', Q) });
  await unitPrice(muni, MR, 1, PRICE, SELF);
  await ok('registerMasterRow', 201, {
    token: ck.access,
    params: { master: 'collective_contracts' },
    json: { contract_code: `SHUGO-T${P}`, institution_code: contractInst.code, vaccine_code: MR, price_yen: CONTRACT, valid_from: '2020-04-01' },
  });
});

test('claims: a record priced, batched, closed twice, reviewed; amounts reconcile at every level', async () => {
  const { rec } = await mrDose(inst, vaccDay(4));
  const c1 = await collect(inst);
  assert.equal(c1.month, lastMonth);
  assert.equal(c1.complete, true);
  assert.equal(c1.counts.added, 1);
  // Collecting again changes nothing.
  const c2 = await collect({ session: instUser });
  assert.equal(c2.counts.added, 0);
  assert.equal(c2.counts.unchanged, 1);
  const [line] = await linesOf(inst.session.access, { record_id: rec.id });
  assert.equal(line.kind, 'claim');
  assert.equal(line.basis, 'unit_price');
  assert.equal(line.price_yen, PRICE);
  assert.equal(line.self_pay_yen, SELF);
  assert.equal(line.claim_yen, PRICE - SELF);
  assert.equal(line.eligibility, 'in_area');
  assert.equal(line.status, 'claimed');
  assert.equal(line.muni_code, muni.code);
  assert.equal(line.batch_status, 'open');
  assert.ok(line.claim_month >= lastMonth);
  // Not closed yet: the federation cannot decide, the municipality does not see it yet.
  expectProblem(await call('reviewClaimLine', { token: fedUser.access, params: { id: line.id }, json: { decision: 'accept' } }), 409, 'conflict');
  expectProblem(await call('getClaimLine', { token: muni.session.access, params: { id: line.id } }), 404, 'not-found');
  // Close, twice: the second answer is the same batch, unchanged.
  const b1 = await ok('closeClaimBatch', 200, { token: inst.session.access, json: { claim_month: line.claim_month } });
  assert.equal(b1.status, 'closed');
  assert.equal(b1.closed_how, 'institution');
  const b2 = await ok('closeClaimBatch', 200, { token: inst.session.access, json: { claim_month: line.claim_month } });
  assert.equal(b2.id, b1.id);
  assert.equal(b2.closed_at, b1.closed_at);
  assert.deepEqual(b2.totals, b1.totals);
  // The batch's totals are the sum of its lines.
  const lines = await linesOf(inst.session.access, { batch_id: b1.id });
  assert.equal(b1.totals.lines, lines.length);
  assert.equal(b1.totals.claimed_yen, sum(lines, (l) => l.claim_yen));
  // The federation's queue holds it; another federation's does not.
  const q = await ok('listClaimBatches', 200, { token: fedUser.access, query: { status: 'closed', institution_code: inst.code } });
  assert.ok(q.items.some((b) => b.id === b1.id));
  assert.equal((await ok('listClaimBatches', 200, { token: otherFed.access, query: { institution_code: inst.code } })).items.length, 0);
  expectProblem(await call('getClaimBatch', { token: otherFed.access, params: { id: b1.id } }), 404, 'not-found');
  // The municipality sees the line now that the month is closed; another municipality does not.
  assert.equal((await ok('getClaimLine', 200, { token: muni.session.access, params: { id: line.id } })).id, line.id);
  expectProblem(await call('getClaimLine', { token: otherMuni.session.access, params: { id: line.id } }), 404, 'not-found');
  // Accept every line of the batch: reviewed, approved = claimed.
  for (const l of lines.filter((x) => x.status === 'claimed')) {
    const d = await ok('reviewClaimLine', 200, { token: fedUser.access, params: { id: l.id }, json: { decision: 'accept' } });
    assert.equal(d.status, 'accepted');
    assert.equal(d.approved_yen, l.claim_yen);
    assert.equal(typeof d.reviewed_by, 'string');
  }
  const b3 = await ok('getClaimBatch', 200, { token: inst.session.access, params: { id: b1.id } });
  assert.equal(b3.status, 'reviewed');
  assert.equal(b3.totals.undecided_lines, 0);
  assert.equal(b3.totals.approved_yen, sum(lines.filter((l) => l.status !== 'returned'), (l) => l.claim_yen));
  expectProblem(await call('reviewClaimLine', { token: fedUser.access, params: { id: line.id }, json: { decision: 'return', reason: '重複' } }), 409, 'conflict');
  // Month totals: the federation's per institution equal its batches; the 国保中央会's per
  // prefecture equal the federation's total.
  const t = await ok('getClaimTotals', 200, { token: fedUser.access, query: { claim_month: line.claim_month } });
  assert.equal(t.group_by, 'institution_code');
  const mine = t.items.find((i) => i.key === inst.code);
  assert.equal(mine.lines, b3.totals.lines);
  assert.equal(mine.claimed_yen, b3.totals.claimed_yen);
  assert.equal(mine.approved_yen, b3.totals.approved_yen);
  assert.equal(t.total.claimed_yen, sum(t.items, (i) => i.claimed_yen));
  const n = await ok('getClaimTotals', 200, { token: ck.access, query: { claim_month: line.claim_month } });
  assert.equal(n.group_by, 'prefecture_code');
  const pref = n.items.find((i) => i.key === P);
  assert.equal(pref.claimed_yen, t.total.claimed_yen);
  assert.equal(pref.approved_yen, t.total.approved_yen);
  assert.equal(n.total.claimed_yen, sum(n.items, (i) => i.claimed_yen));
  // The federation invoices the municipality: the approved amounts plus the fee per line.
  expectProblem(await call('issueInvoices', { token: inst.session.access, json: { claim_month: line.claim_month } }), 403, 'forbidden');
  expectFieldErrors(await call('issueInvoices', { token: fedUser.access, json: { claim_month: '2026-00' } }), 'claim_month');
  const inv = await ok('issueInvoices', 200, { token: fedUser.access, json: { claim_month: line.claim_month } });
  const mi = inv.items.find((i) => i.muni_code === muni.code);
  const monthLines = await linesOf(fedUser.access, { claim_month: line.claim_month, muni_code: muni.code });
  const billed = monthLines.filter((l) => l.invoice_id === mi.id);
  // Billed are exactly the approved lines (through their batch's invoice part): none returned.
  assert.deepEqual(
    monthLines.filter((l) => l.invoice_id !== null).map((l) => l.id),
    monthLines.filter((l) => ['accepted', 'adjusted'].includes(l.status)).map((l) => l.id),
  );
  assert.ok(billed.some((l) => l.id === line.id));
  assert.equal(mi.lines, billed.length);
  assert.equal(mi.amount_yen, sum(billed, (l) => l.approved_yen));
  assert.equal(mi.fee_yen, mi.lines * mi.fee_per_line_yen);
  assert.equal(mi.total_yen, mi.amount_yen + mi.fee_yen);
  assert.equal(sum(inv.items, (i) => i.amount_yen), t.total.approved_yen);
  // Issuing again adds nothing.
  const inv2 = await ok('issueInvoices', 200, { token: fedUser.access, json: { claim_month: line.claim_month } });
  assert.deepEqual(inv2.items.map((i) => [i.id, i.total_yen]), inv.items.map((i) => [i.id, i.total_yen]));
  // The municipality sees and pays it: the whole total, not a yen less, not tomorrow.
  const seen = await ok('listInvoices', 200, { token: muni.session.access, query: { claim_month: line.claim_month } });
  assert.deepEqual(seen.items.map((i) => i.id), [mi.id]);
  expectProblem(await call('getInvoice', { token: otherMuni.session.access, params: { id: mi.id } }), 404, 'not-found');
  expectProblem(await call('listInvoices', { token: inst.session.access }), 403, 'forbidden');
  const pay = (json, token = muni.session.access) => call('payInvoice', { token, params: { id: mi.id }, json });
  expectFieldErrors(await pay({ paid_on: today(), amount_yen: mi.total_yen - 1 }), 'amount_yen');
  expectFieldErrors(await pay({ paid_on: addDays(today(), 1), amount_yen: mi.total_yen }), 'paid_on');
  expectFieldErrors(await pay({ paid_on: today(), amount_yen: 'all' }), 'amount_yen');
  expectProblem(await pay({ paid_on: today(), amount_yen: mi.total_yen }, otherMuni.session.access), 404, 'not-found');
  expectProblem(await pay({ paid_on: today(), amount_yen: mi.total_yen }, fedUser.access), 403, 'forbidden');
  const paidInv = await ok('payInvoice', 200, { token: muni.session.access, params: { id: mi.id }, json: { paid_on: today(), amount_yen: mi.total_yen } });
  assert.equal(paidInv.status, 'paid');
  assert.equal(paidInv.paid_amount_yen, mi.total_yen);
  expectProblem(await pay({ paid_on: today(), amount_yen: mi.total_yen }), 409, 'conflict');
  assert.equal((await ok('getInvoice', 200, { token: fedUser.access, params: { id: mi.id } })).status, 'paid');
  // The payment run: 翌々月末, back over weekends and holidays of the imported calendar.
  const payYear = Number(addMonths(`${line.claim_month}-01`, 3).slice(0, 4));
  expectProblem(await call('putHolidayYear', { token: fed.access, params: { year: String(payYear) }, json: { source: 'x', days: [] } }), 403, 'forbidden');
  expectFieldErrors(await call('putHolidayYear', { token: ck.access, params: { year: String(payYear) }, json: { source: 'x', days: [{ date: `${payYear + 1}-01-01`, name: '元日' }] } }), 'days[0]');
  await importHolidays(ck.access, [payYear - 1, payYear]);
  const cal = await ok('getHolidayYear', 200, { token: fedUser.access, query: { year: String(payYear) } });
  assert.equal(cal.days.length, holidaysOf(payYear).length);
  // The institution's account approved for the claim month (an account starts no earlier than
  // the current month through the API; one of an earlier claim month is dated back here).
  const acct = await ok('createBankAccount', 201, {
    token: inst.session.access,
    json: { purpose: 'vaccination', bank_code: '0001', branch_code: '001', account_type: 'ordinary', account_number: '7654321', holder_name: 'イ）シケンイイン', effective_from: today().slice(0, 7) },
  });
  await ok('approveBankAccount', 200, { token: fedUser.access, params: { id: acct.id } });
  if (`${line.claim_month}-01` < monthStart(today())) {
    await psql(`UPDATE payment.bank_accounts SET effective_from = ${lit(`${line.claim_month}-01`)} WHERE id = ${lit(acct.id)}`);
  }
  await ok('createPayerAccount', 201, {
    token: fed.access,
    json: { bank_code: '0001', branch_code: '001', account_type: 'current', account_number: '0012345', holder_name: 'ｺｸﾎﾚﾝ', client_code: '1234567890', destination_bank_codes: [], is_default: true },
  });
  expectProblem(await call('createPaymentRun', { token: inst.session.access, json: { claim_month: line.claim_month } }), 403, 'forbidden');
  const run = await ok('createPaymentRun', 201, { token: fedUser.access, json: { claim_month: line.claim_month } });
  let want = addDays(monthStart(`${line.claim_month}-01`, 3), -1);
  const weekend = (d) => [0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay());
  while (weekend(want) || isHoliday(want)) want = addDays(want, -1);
  assert.equal(run.pay_on, want);
  const item = run.items.find((i) => i.institution_code === inst.code);
  assert.equal(item.status, 'pay');
  assert.equal(item.account_id, acct.id);
  assert.equal(item.amount_yen, sum(billed.filter((l) => l.institution_code === inst.code), (l) => l.approved_yen));
  assert.equal(run.total_yen, sum(run.items.filter((i) => i.status === 'pay'), (i) => i.amount_yen));
  assert.equal(run.total_yen, mi.amount_yen);
  expectProblem(await call('createPaymentRun', { token: fedUser.access, json: { claim_month: line.claim_month } }), 409, 'conflict');
  // Four eyes: the file only after another user approved.
  expectProblem(await call('getPaymentRunZengin', { token: fedUser.access, params: { id: run.id } }), 409, 'conflict');
  expectProblem(await call('approvePaymentRun', { token: fedUser.access, params: { id: run.id } }), 403, 'forbidden');
  expectProblem(await call('getPaymentRun', { token: otherFed.access, params: { id: run.id } }), 404, 'not-found');
  assert.equal((await ok('approvePaymentRun', 200, { token: fed.access, params: { id: run.id } })).status, 'approved');
  const z = await call('getPaymentRunZengin', { token: fedUser.access, params: { id: run.id } });
  assert.equal(z.status, 200, z.text);
  // Read back from the published layout: 120 bytes + CR LF each.
  const raw = z.raw;
  assert.equal(raw.length % 122, 0);
  const recs = [];
  for (let i = 0; i < raw.length; i += 122) {
    assert.equal(raw.subarray(i + 120, i + 122).toString('latin1'), '\r\n');
    recs.push(raw.subarray(i, i + 120));
  }
  const asc = (b, from, len) => b.subarray(from, from + len).toString('latin1');
  const kana = (b, from, len) => execFileSync('iconv', ['-f', 'SHIFT_JIS', '-t', 'UTF-8'], { input: b.subarray(from, from + len) }).toString('utf8').trimEnd();
  assert.equal(asc(recs[0], 0, 1), '1');
  assert.equal(asc(recs[0], 1, 2), '21');
  assert.equal(asc(recs[0], 4, 10), '1234567890');
  assert.equal(kana(recs[0], 14, 40), 'ｺｸﾎﾚﾝ');
  assert.equal(asc(recs[0], 54, 4), want.slice(5, 7) + want.slice(8, 10));
  assert.equal(asc(recs[0], 58, 4), '0001');
  assert.equal(asc(recs.at(-1), 0, 1), '9');
  const data = recs.filter((r) => asc(r, 0, 1) === '2');
  const trailer = recs.find((r) => asc(r, 0, 1) === '8');
  assert.equal(Number(asc(trailer, 1, 6)), data.length);
  assert.equal(Number(asc(trailer, 7, 12)), sum(data, (r) => Number(asc(r, 80, 10))));
  assert.equal(Number(asc(trailer, 7, 12)), run.total_yen);
  const mineRec = data.find((r) => asc(r, 43, 7) === '7654321');
  assert.equal(asc(mineRec, 1, 4), '0001');
  assert.equal(asc(mineRec, 20, 3), '001');
  assert.equal(asc(mineRec, 42, 1), '1');
  assert.equal(kana(mineRec, 50, 30), acct.holder_name);
  assert.equal(Number(asc(mineRec, 80, 10)), item.amount_yen);
  // The institution sees its payment; another institution and the federation's list do not mix.
  const mp = await ok('listMyPayments', 200, { token: instUser.access, query: { claim_month: line.claim_month } });
  assert.deepEqual(mp.items.map((x) => [x.run_id, x.amount_yen, x.pay_on, x.status]), [[run.id, item.amount_yen, want, 'pay']]);
  assert.equal((await ok('listMyPayments', 200, { token: otherInst.session.access, query: { claim_month: line.claim_month } })).items.length, 0);
  expectProblem(await call('listMyPayments', { token: fedUser.access }), 403, 'forbidden');
  expectFieldErrors(await call('listMyPayments', { token: instUser.access, query: { claim_month: 'x' } }), 'claim_month');
  const paidLines = await linesOf(inst.session.access, { claim_month: line.claim_month });
  assert.ok(paidLines.filter((l) => l.status !== 'returned').every((l) => typeof l.payment_item_id === 'string'));
  assert.deepEqual((await ok('listPaymentRuns', 200, { token: fedUser.access, query: { claim_month: line.claim_month } })).items.map((x) => x.id), [run.id]);
  assert.equal((await ok('listPaymentRuns', 200, { token: otherFed.access, query: { claim_month: line.claim_month } })).items.length, 0);
  expectProblem(await call('getPaymentRunZengin', { token: otherFed.access, params: { id: run.id } }), 404, 'not-found');
  expectProblem(await call('approvePaymentRun', { token: fed.access, params: { id: run.id } }), 409, 'conflict');
  // The 国保中央会 sees totals, not lines.
  expectProblem(await call('listClaimLines', { token: ck.access }), 403, 'forbidden');
});

test('claims: outside the area 返戻 unless a 集合契約 or a 依頼書; reclaim after the 依頼書', async () => {
  const far = await mrDose(farInst, vaccDay(6));
  const con = await mrDose(contractInst, vaccDay(7));
  assert.equal((await collect(farInst)).counts.added, 1);
  assert.equal((await collect(contractInst)).counts.added, 1);
  const [returned] = await linesOf(farInst.session.access, { record_id: far.rec.id });
  assert.equal(returned.status, 'returned');
  assert.equal(returned.eligibility, 'out_of_area');
  assert.equal(returned.claim_yen, 0);
  assert.match(returned.return_reason, /住所地外接種/);
  // Under the collective contract: its price, the municipality's 自己負担 deducted.
  const [cl] = await linesOf(contractInst.session.access, { record_id: con.rec.id });
  assert.equal(cl.status, 'claimed');
  assert.equal(cl.eligibility, 'collective_contract');
  assert.equal(cl.basis, 'collective_contract');
  assert.equal(cl.contract_code, `SHUGO-T${P}`);
  assert.equal(cl.claim_yen, CONTRACT - SELF);
  // Reclaiming changes nothing while nothing changed: returned again.
  const again = await ok('reclaimClaimLine', 201, { token: farInst.session.access, params: { id: returned.id } });
  assert.equal(again.status, 'returned');
  assert.equal(again.reclaim_of, returned.id);
  expectProblem(await call('reclaimClaimLine', { token: farInst.session.access, params: { id: returned.id } }), 409, 'conflict');
  // The municipality registers a 依頼書 for this person at that institution; the reclaim pays.
  const ref = await ok('createReferral', 201, {
    token: muni.session.access,
    json: { person_id: far.child.id, institution_code: farInst.code, vaccine_code: MR, valid_from: vaccDay(0), valid_to: vaccDay(20) },
  });
  assert.equal(ref.muni_code, muni.code);
  const paid = await ok('reclaimClaimLine', 201, { token: farInst.session.access, params: { id: again.id } });
  assert.equal(paid.status, 'claimed');
  assert.equal(paid.eligibility, 'referral');
  assert.equal(paid.referral_id, ref.id);
  assert.equal(paid.claim_yen, PRICE - SELF);
  const list = await ok('listReferrals', 200, { token: muni.session.access, query: { person_id: far.child.id } });
  assert.deepEqual(list.items.map((x) => x.id), [ref.id]);
  // The 依頼書 is not the institution's to register, nor another municipality's person's.
  expectProblem(await call('createReferral', { token: farInst.session.access, json: { person_id: far.child.id, institution_code: farInst.code, valid_from: vaccDay(0), valid_to: vaccDay(1) } }), 403, 'forbidden');
  expectProblem(await call('createReferral', { token: otherMuni.session.access, json: { person_id: far.child.id, institution_code: farInst.code, valid_from: vaccDay(0), valid_to: vaccDay(1) } }), 404, 'not-found');
  // A 依頼書 the day after the vaccination does not cover it (boundary).
  const late = await mrDose(farInst, vaccDay(8));
  await ok('createReferral', 201, { token: muni.session.access, json: { person_id: late.child.id, institution_code: farInst.code, valid_from: vaccDay(9), valid_to: vaccDay(20) } });
  await collect(farInst);
  const [l2] = await linesOf(farInst.session.access, { record_id: late.rec.id });
  assert.equal(l2.status, 'returned');
  // ... and one ending on the vaccination day does.
  const edge = await mrDose(farInst, vaccDay(10));
  await ok('createReferral', 201, { token: muni.session.access, json: { person_id: edge.child.id, institution_code: farInst.code, valid_from: vaccDay(0), valid_to: vaccDay(10) } });
  await collect(farInst);
  const [l3] = await linesOf(farInst.session.access, { record_id: edge.rec.id });
  assert.equal(l3.status, 'claimed');
  assert.equal(l3.eligibility, 'referral');
});

test('claims: 返戻 and 査定 by the federation with reasons; the institution sees why; reclaim', async () => {
  const a = await mrDose(otherInst, vaccDay(11));
  const b = await mrDose(otherInst, vaccDay(12));
  await collect(otherInst);
  const [la] = await linesOf(otherInst.session.access, { record_id: a.rec.id });
  const [lb] = await linesOf(otherInst.session.access, { record_id: b.rec.id });
  await ok('closeClaimBatch', 200, { token: otherInst.session.access, json: { claim_month: la.claim_month } });
  // Bad review bodies.
  const rv = (json, id = la.id, token = fedUser.access) => call('reviewClaimLine', { token, params: { id }, json });
  expectFieldErrors(await rv({ decision: 'maybe' }), 'decision');
  expectFieldErrors(await rv({ decision: 'adjust', reason: '単価誤り' }), 'approved_yen');
  expectFieldErrors(await rv({ decision: 'adjust', approved_yen: la.claim_yen, reason: '単価誤り' }), 'approved_yen');
  expectFieldErrors(await rv({ decision: 'return' }), 'reason');
  expectFieldErrors(await rv({ decision: 'accept', approved_yen: 1 }), 'approved_yen');
  expectFieldErrors(await rv({ decision: 'accept', extra: 1 }), 'extra');
  expectProblem(await rv({ decision: 'accept' }, la.id, otherFed.access), 404, 'not-found');
  expectProblem(await rv({ decision: 'accept' }, la.id, otherInst.session.access), 403, 'forbidden');
  expectProblem(await rv({ decision: 'accept' }, 'not-a-uuid'), 404, 'not-found');
  expectProblem(await call('issueInvoices', { token: fedUser.access, json: { claim_month: la.claim_month } }), 409, 'conflict');
  // 査定 one amount lower by one yen (the boundary), 返戻 the other.
  const adj = await ok('reviewClaimLine', 200, { token: fedUser.access, params: { id: la.id }, json: { decision: 'adjust', approved_yen: la.claim_yen - 1, reason: '単価誤り' } });
  assert.equal(adj.status, 'adjusted');
  assert.equal(adj.approved_yen, la.claim_yen - 1);
  assert.equal(adj.review_reason, '単価誤り');
  const ret = await ok('reviewClaimLine', 200, { token: fed.access, params: { id: lb.id }, json: { decision: 'return', reason: '予診票の記載不備' } });
  assert.equal(ret.status, 'returned');
  // The institution sees why.
  const seen = await ok('getClaimLine', 200, { token: otherInst.session.access, params: { id: lb.id } });
  assert.equal(seen.return_reason, '予診票の記載不備');
  // Another institution does not.
  expectProblem(await call('getClaimLine', { token: inst.session.access, params: { id: lb.id } }), 404, 'not-found');
  assert.equal((await linesOf(inst.session.access, { record_id: lb.record_id })).length, 0);
  // Reclaimed into the open month, priced again.
  const re = await ok('reclaimClaimLine', 201, { token: otherInst.session.access, params: { id: lb.id } });
  assert.equal(re.status, 'claimed');
  assert.equal(re.claim_yen, PRICE - SELF);
  assert.notEqual(re.batch_id, lb.batch_id);
  // An accepted or adjusted line is not reclaimed; another institution's line is 404.
  expectProblem(await call('reclaimClaimLine', { token: otherInst.session.access, params: { id: la.id } }), 409, 'conflict');
  expectProblem(await call('reclaimClaimLine', { token: inst.session.access, params: { id: lb.id } }), 404, 'not-found');
});

test('claims: a batch accepted at once (事務点検 accept-all); what was returned stays returned', async () => {
  const bulk = await institution({ code: medicalCode('1', P) });
  const doses = [];
  for (const n of [15, 16, 17]) doses.push(await mrDose(bulk, vaccDay(n)));
  assert.equal((await collect(bulk)).counts.added, 3);
  const lines = await linesOf(bulk.session.access, {});
  assert.equal(lines.length, 3);
  const month = lines[0].claim_month;
  const batchId = lines[0].batch_id;
  const acc = (id = batchId, token = fedUser.access, json = undefined) => call('acceptClaimBatch', { token, params: { id }, json });
  // Open: nothing to review yet.
  expectProblem(await acc(), 409, 'conflict');
  await ok('closeClaimBatch', 200, { token: bulk.session.access, json: { claim_month: month } });
  const [first, ...rest] = lines;
  await ok('reviewClaimLine', 200, { token: fedUser.access, params: { id: first.id }, json: { decision: 'return', reason: '予診票の記載不備' } });
  expectProblem(await acc(batchId, bulk.session.access), 403, 'forbidden');
  expectProblem(await acc(batchId, otherFed.access), 404, 'not-found');
  expectProblem(await acc('not-a-uuid'), 404, 'not-found');
  expectProblem(await acc('00000000-0000-4000-8000-000000000000'), 404, 'not-found');
  expectFieldErrors(await acc(batchId, fedUser.access, { decision: 'accept' }), 'decision');
  const b = await ok('acceptClaimBatch', 200, { token: fedUser.access, params: { id: batchId } });
  assert.equal(b.status, 'reviewed');
  assert.equal(b.totals.undecided_lines, 0);
  assert.equal(b.totals.returned_lines, 1);
  assert.equal(b.totals.approved_yen, sum(rest, (l) => l.claim_yen));
  const after = await linesOf(bulk.session.access, { batch_id: batchId });
  assert.deepEqual(after.map((l) => l.status).sort(), ['accepted', 'accepted', 'returned']);
  assert.ok(after.filter((l) => l.status === 'accepted').every((l) => l.approved_yen === l.claim_yen && typeof l.reviewed_by === 'string'));
  // Reviewed: a second accept-all is refused, nothing changes.
  expectProblem(await acc(), 409, 'conflict');
  assert.deepEqual((await ok('getClaimBatch', 200, { token: fedUser.access, params: { id: batchId } })).totals, b.totals);
});

test('claims: a record voided after its month closed becomes a 過誤調整 line in a later month', async () => {
  const x = await mrDose(inst, vaccDay(14));
  await collect(inst);
  const [lx] = await linesOf(inst.session.access, { record_id: x.rec.id });
  await ok('closeClaimBatch', 200, { token: inst.session.access, json: { claim_month: lx.claim_month } });
  await ok('reviewClaimLine', 200, { token: fedUser.access, params: { id: lx.id }, json: { decision: 'accept' } });
  await ok('voidImmunization', 200, { token: inst.session.access, params: { id: x.rec.id }, json: { reason: '記録誤り' } });
  const c = await collect(inst);
  assert.equal(c.counts.adjusted, 1);
  const mine = await linesOf(inst.session.access, { record_id: x.rec.id });
  assert.equal(mine.length, 2);
  const adj = mine.find((l) => l.kind === 'adjustment');
  assert.equal(adj.claim_yen, -(PRICE - SELF));
  assert.ok(adj.claim_month > lx.claim_month, `${adj.claim_month} after ${lx.claim_month}`);
  assert.equal(adj.batch_status, 'open');
  // The paid month is untouched.
  const old = await ok('getClaimLine', 200, { token: inst.session.access, params: { id: lx.id } });
  assert.equal(old.status, 'accepted');
  assert.equal(old.approved_yen, PRICE - SELF);
  // Net over the record's lines: nothing is owed.
  assert.equal(sum(mine, (l) => l.approved_yen ?? l.claim_yen), 0);
  assert.equal((await collect(inst)).counts.adjusted, 0);
});

test('claims: collected from the records claims feed; it answers only a service token signed by the payment key', async () => {
  const { stackEnv } = await import('./lib/env.mjs');
  const { readFileSync } = await import('node:fs');
  const { createPrivateKey, createPublicKey, randomUUID } = await import('node:crypto');
  const { SignJWT, exportJWK, calculateJwkThumbprint } = await import('jose');
  const env = stackEnv();
  const url = `http://127.0.0.1:${env.SESSHU_RECORDS_PORT}/internal/v1/claims-feed`;
  const sign = async (file, claims) => {
    const key = createPrivateKey(readFileSync(env[file], 'utf8'));
    const kid = await calculateJwkThumbprint(await exportJWK(createPublicKey(key)));
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(key);
  };
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: env.SESSHU_JWT_ISSUER, sub: 'service:payment', svc: 'payment', aud: 'records', iat: now, exp: now + 60, jti: randomUUID() };
  const q = `?institution_code=${inst.code}&month=${lastMonth}`;
  const get = (token, query = q) => fetch(`${url}${query}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const tok = await sign('SESSHU_PAYMENT_SIGNING_KEY_FILE', claims);
  // A new record reaches the claims through the feed; a collect after it reads nothing again.
  const { rec } = await mrDose(inst, vaccDay(18));
  const c1 = await collect(inst);
  assert.equal(c1.counts.added, 1);
  assert.ok(c1.fetched >= 1);
  const c2 = await collect(inst);
  assert.equal(c2.fetched, 0);
  assert.equal(c2.counts.added, 0);
  assert.ok(c2.counts.unchanged >= 2);
  // The feed: the institution's records of the month, what a line needs and nothing personal.
  const good = await get(tok);
  assert.equal(good.status, 200);
  const page = await good.json();
  assert.match(page.next_after, /^\d+-\d+$/);
  const mine = page.items.find((it) => it.id === rec.id);
  assert.ok(mine, 'the new record is on the feed');
  assert.deepEqual(Object.keys(mine).sort(), ['claimable', 'dose_number', 'id', 'institution_code', 'muni_code', 'person_id', 'status', 'vaccinated_on', 'vaccine_code', 'version']);
  assert.ok(page.items.every((it) => it.institution_code === inst.code && it.vaccinated_on.startsWith(lastMonth)));
  // After its own cursor: nothing new.
  const rest = await (await get(tok, `${q}&after=${page.next_after}`)).json();
  assert.deepEqual(rest, { items: [], next_after: page.next_after });
  // Another institution's month has none of them.
  const other = await (await get(tok, `?institution_code=${otherInst.code}&month=${lastMonth}`)).json();
  assert.ok(!other.items.some((it) => it.id === rec.id));
  const refused = {
    'no token': null,
    'an institution session': inst.session.access,
    'the stats key speaking for payment': await sign('SESSHU_STATS_SIGNING_KEY_FILE', claims),
    'the payment key for the certificate audience': await sign('SESSHU_PAYMENT_SIGNING_KEY_FILE', { ...claims, aud: 'certificate' }),
    'a payment token of ten hours': await sign('SESSHU_PAYMENT_SIGNING_KEY_FILE', { ...claims, exp: now + 36000 }),
  };
  for (const [name, token] of Object.entries(refused)) assert.equal((await get(token)).status, 401, name);
  // The stats feed does not take a payment token.
  const stats = await fetch(`http://127.0.0.1:${env.SESSHU_RECORDS_PORT}/internal/v1/stats-feed`, { headers: { Authorization: `Bearer ${tok}` } });
  assert.equal(stats.status, 401);
  // Bad filters, cursors and limits.
  for (const bad of ['', `?month=${lastMonth}`, `?institution_code=${inst.code}`, `?institution_code=123&month=${lastMonth}`,
    `?institution_code=${inst.code}&month=2026-13`, `?institution_code=${inst.code}&month=202601`, `${q}&after=x`,
    `${q}&after=1-1'--`, `${q}&limit=0`, `${q}&limit=10001`, `${q}&limit=1e3`, `${q}&foo=1`,
    `?institution_code=${encodeURIComponent("1' OR '1'='1")}&month=${lastMonth}`]) {
    const r = await get(tok, bad);
    assert.equal(r.status, 422, bad);
    assert.match(r.headers.get('content-type'), /problem\+json/);
  }
  // Not through the gateway.
  assert.equal((await call('collectClaims', { token: inst.session.access, json: { month: lastMonth } })).status, 200);
  const { request } = await import('./lib/http.mjs');
  assert.equal((await request('GET', `/internal/v1/claims-feed${q}`)).status, 404);
});

test('claims: bad inputs and roles on every endpoint', async () => {
  const t = inst.session.access;
  expectFieldErrors(await call('collectClaims', { token: t, json: { month: '2026-13' } }), 'month');
  expectFieldErrors(await call('collectClaims', { token: t, json: { month: monthStart(today(), 1).slice(0, 7) } }), 'month');
  expectFieldErrors(await call('collectClaims', { token: t, json: { month: lastMonth, x: 1 } }), 'x');
  expectFieldErrors(await call('collectClaims', { token: t, json: { month: 202601 } }), 'month');
  expectFieldErrors(await call('collectClaims', { token: t, json: {} }), 'month');
  expectProblem(await call('collectClaims', { token: fedUser.access, json: { month: lastMonth } }), 403, 'forbidden');
  expectProblem(await call('collectClaims', { token: muni.session.access, json: { month: lastMonth } }), 403, 'forbidden');
  expectFieldErrors(await call('closeClaimBatch', { token: t, json: { claim_month: 'soon' } }), 'claim_month');
  expectFieldErrors(await call('closeClaimBatch', { token: t, json: { claim_month: monthStart(today(), 1).slice(0, 7) } }), 'claim_month');
  expectProblem(await call('closeClaimBatch', { token: fedUser.access, json: { claim_month: lastMonth } }), 403, 'forbidden');
  expectFieldErrors(await call('listClaimLines', { token: t, query: { status: 'paid' } }), 'status');
  expectFieldErrors(await call('listClaimLines', { token: t, query: { kind: 'x' } }), 'kind');
  expectFieldErrors(await call('listClaimLines', { token: t, query: { batch_id: 'x' } }), 'batch_id');
  expectFieldErrors(await call('listClaimLines', { token: t, query: { claim_month: '2026-1' } }), 'claim_month');
  expectFieldErrors(await call('listClaimLines', { token: t, query: { nope: '1' } }), 'nope');
  expectFieldErrors(await call('listClaimBatches', { token: t, query: { status: 'paid' } }), 'status');
  expectFieldErrors(await call('getClaimTotals', { token: t }), 'claim_month');
  expectFieldErrors(await call('getClaimTotals', { token: t, query: { claim_month: 'x' } }), 'claim_month');
  expectProblem(await call('listClaimBatches', { token: muni.session.access }), 403, 'forbidden');
  expectProblem(await call('getClaimBatch', { token: t, params: { id: 'x' } }), 404, 'not-found');
  expectProblem(await call('getClaimBatch', { token: t, params: { id: '00000000-0000-4000-8000-000000000000' } }), 404, 'not-found');
  expectProblem(await call('getClaimLine', { token: t, params: { id: '00000000-0000-4000-8000-000000000000' } }), 404, 'not-found');
  expectProblem(await call('reclaimClaimLine', { token: t, params: { id: '00000000-0000-4000-8000-000000000000' } }), 404, 'not-found');
  const rb = (json) => call('createReferral', { token: muni.session.access, json });
  const good = { person_id: '00000000-0000-4000-8000-000000000000', institution_code: farInst.code, valid_from: vaccDay(0), valid_to: vaccDay(1) };
  expectFieldErrors(await rb({ ...good, person_id: 'not-a-uuid-not-a-uuid-not-a-uuid-123' }), 'person_id');
  expectFieldErrors(await rb({ ...good, institution_code: '12345' }), 'institution_code');
  expectFieldErrors(await rb({ ...good, valid_to: vaccDay(-1) }), 'valid_to');
  expectFieldErrors(await rb({ ...good, valid_from: '2026-02-30' }), 'valid_from');
  expectFieldErrors(await rb({ ...good, extra: true }), 'extra');
  expectProblem(await rb(good), 404, 'not-found');
  expectFieldErrors(await call('listReferrals', { token: muni.session.access, query: { person_id: 'x' } }), 'person_id');
  expectProblem(await call('listReferrals', { token: t }), 403, 'forbidden');
  expectProblem(await call('getClaimTotals', { token: (await orgWithAdmin('mhlw')).adminSession.access, query: { claim_month: lastMonth } }), 403, 'forbidden');
  expectProblem(await call('listClaimLines', {}), 401);
});

test('claims: the payment-run and calendar endpoints refuse bad input', async () => {
  expectFieldErrors(await call('createPaymentRun', { token: fedUser.access, json: { claim_month: '2026-13' } }), 'claim_month');
  expectFieldErrors(await call('createPaymentRun', { token: fedUser.access, json: { claim_month: lastMonth, x: 1 } }), 'x');
  expectProblem(await call('createPaymentRun', { token: otherFed.access, json: { claim_month: '2001-01' } }), 409, 'conflict');
  expectFieldErrors(await call('listPaymentRuns', { token: fedUser.access, query: { claim_month: '1' } }), 'claim_month');
  expectProblem(await call('getPaymentRun', { token: fedUser.access, params: { id: 'nope' } }), 404, 'not-found');
  expectProblem(await call('getPaymentRun', { token: inst.session.access, params: { id: '00000000-0000-4000-8000-000000000000' } }), 403, 'forbidden');
  expectProblem(await call('approvePaymentRun', { token: fedUser.access, params: { id: '00000000-0000-4000-8000-000000000000' } }), 404, 'not-found');
  expectProblem(await call('getPaymentRunZengin', { token: fedUser.access, params: { id: '00000000-0000-4000-8000-000000000000' } }), 404, 'not-found');
  expectFieldErrors(await call('getHolidayYear', { token: fedUser.access, query: { year: '19x9' } }), 'year');
  expectProblem(await call('getHolidayYear', { token: fedUser.access, query: { year: '2099' } }), 404, 'not-found');
  expectProblem(await call('putHolidayYear', { token: ck.access, params: { year: '1999' }, json: { source: 'x', days: [] } }), 404, 'not-found');
  expectFieldErrors(await call('putHolidayYear', { token: ck.access, params: { year: '2098' }, json: { source: 'x', days: [{ date: '2098-02-30', name: 'x' }] } }), 'date');
  expectFieldErrors(await call('putHolidayYear', { token: ck.access, params: { year: '2098' }, json: { days: [] } }), 'source');
  expectFieldErrors(await call('issueInvoices', { token: fedUser.access, json: { claim_month: lastMonth, extra: 1 } }), 'extra');
  expectFieldErrors(await call('listInvoices', { token: muni.session.access, query: { status: 'late' } }), 'status');
  expectProblem(await call('getInvoice', { token: muni.session.access, params: { id: 'x' } }), 404, 'not-found');
  expectProblem(await call('payInvoice', { token: muni.session.access, params: { id: '00000000-0000-4000-8000-000000000000' }, json: { paid_on: today(), amount_yen: 1 } }), 404, 'not-found');
  expectFieldErrors(await call('payInvoice', { token: muni.session.access, params: { id: '00000000-0000-4000-8000-000000000000' }, json: { paid_on: today() } }), 'amount_yen');
});

test('claims: malformed, non-UTF-8 and non-object bodies are 400 on every claims write', async () => {
  const writes = [
    ['collectClaims', inst.session.access, {}],
    ['closeClaimBatch', inst.session.access, {}],
    ['reviewClaimLine', fedUser.access, { id: '00000000-0000-4000-8000-000000000000' }],
    ['acceptClaimBatch', fedUser.access, { id: '00000000-0000-4000-8000-000000000000' }],
    ['reclaimClaimLine', inst.session.access, { id: '00000000-0000-4000-8000-000000000000' }],
    ['createReferral', muni.session.access, {}],
    ['issueInvoices', fedUser.access, {}],
    ['payInvoice', muni.session.access, { id: '00000000-0000-4000-8000-000000000000' }],
    ['createPaymentRun', fedUser.access, {}],
    ['approvePaymentRun', fed.access, { id: '00000000-0000-4000-8000-000000000000' }],
    ['putHolidayYear', ck.access, { year: '2098' }],
  ];
  const bodies = [Buffer.from('{"month": '), Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), Buffer.from('[]'), Buffer.from('"x"'), Buffer.from('{"a":1,"a":2}')];
  for (const [op, token, params] of writes) {
    for (const body of bodies) {
      const r = await call(op, { token, params, body, contentType: 'application/json' });
      expectProblem(r, 400, 'invalid-json');
    }
  }
});

// The two calendar rules at both sides of their boundaries, as the service computes them
// (payment.open_month_on: a claim month stays open up to its close day; payment.pay_day:
// 翌々月末, back over weekends and the imported holidays).
test('claims: close day and pay day at their boundaries', async () => {
  const q = async (sql) => (await psql(sql)).rows[0][0];
  const y = Number(today().slice(0, 4));
  const m1 = `${y}-01-01`;
  assert.equal(await q(`SELECT payment.open_month_on(10, ${lit(`${y}-02-10`)})`), `${y}-01-01`);
  assert.equal(await q(`SELECT payment.open_month_on(10, ${lit(`${y}-02-11`)})`), `${y}-02-01`);
  assert.equal(await q(`SELECT payment.open_month_on(28, ${lit(`${y}-03-28`)})`), `${y}-02-01`);
  assert.equal(await q(`SELECT payment.open_month_on(1, ${lit(`${y}-03-02`)})`), `${y}-03-01`);
  await importHolidays(ck.access, [y, y + 1]);
  for (let i = 0; i < 12; i++) {
    const cm = addMonths(m1, i);
    let want = addDays(addMonths(cm, 3), -1);
    const weekend = (d) => [0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay());
    while (weekend(want) || isHoliday(want)) want = addDays(want, -1);
    assert.equal(await q(`SELECT payment.pay_day(${lit(cm)})`), want, cm);
  }
});
