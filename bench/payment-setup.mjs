// payment-setup.mjs - for bench/payment.sh: one prefecture made through the API of the bench's
// own stack: its 国保連合会 (admin and a user), MUNIS municipalities with a unit price for MR
// dose 1, INSTS medical institutions each with a bank account (submitted by the institution,
// approved by the federation), the federation's default source account, and the holiday
// calendar. Prints one JSON line (tokens, codes, organisation ids).
// Usage: node bench/payment-setup.mjs INSTS MUNIS   (SESSHU_TEST_* from payment.sh)
import { chuokai, orgWithAdmin, userIn } from '../tests/api/lib/fixtures.mjs';
import { medicalCode, municipalityCode } from '../tests/api/lib/codes.mjs';
import { institution } from '../tests/api/lib/records.mjs';
import { ok } from '../tests/api/lib/http.mjs';
import { importHolidays } from '../tests/api/lib/holidays.mjs';
import { today } from '../tests/api/lib/dates.mjs';

const [ninst, nmuni] = process.argv.slice(2).map(Number);
const MR = '631300601';
const ck = await chuokai();
const f = await orgWithAdmin('kokuhoren');
const P = f.code;
const fedUser = await userIn(f.adminSession, 'user');
const munis = [];
for (let i = 0; i < nmuni; i++) {
  const m = await orgWithAdmin('municipality', { code: municipalityCode(P) });
  await ok('registerMasterRow', 201, {
    token: m.adminSession.access,
    params: { master: 'unit_prices' },
    json: { municipality_code: m.code, vaccine_code: MR, dose_number: 1, price_yen: 10000 + 100 * i, self_pay_yen: 1000, valid_from: '2020-04-01' },
  });
  munis.push({ code: m.code, token: m.adminSession.access });
}
const insts = [];
// Two at a time: the machine has two cores.
async function oneInst(i) {
  const it = await institution({ code: medicalCode('1', P) });
  const acct = await ok('createBankAccount', 201, {
    token: it.session.access,
    json: { purpose: 'vaccination', bank_code: '0001', branch_code: '001', account_type: 'ordinary', account_number: String(1000000 + i), holder_name: 'ｲ)ﾍﾞﾝﾁｲｲﾝ', effective_from: today().slice(0, 7) },
  });
  await ok('approveBankAccount', 200, { token: fedUser.access, params: { id: acct.id } });
  insts.push({ code: it.code, org_id: it.session.orgId, token: it.session.access, account_id: acct.id });
}
for (let i = 0; i < ninst; i += 2) await Promise.all([oneInst(i), ...(i + 1 < ninst ? [oneInst(i + 1)] : [])]);
await ok('createPayerAccount', 201, {
  token: f.adminSession.access,
  json: { bank_code: '0001', branch_code: '001', account_type: 'current', account_number: '0012345', holder_name: 'ｺｸﾎﾚﾝ', client_code: '1234567890', destination_bank_codes: [], is_default: true },
});
const y = Number(today().slice(0, 4));
await importHolidays(ck.access, [y - 1, y, y + 1]);
insts.sort((a, b) => a.code.localeCompare(b.code));
console.log(JSON.stringify({ pref: P, fed: f.adminSession.access, fedUser: fedUser.access, munis, insts }));
