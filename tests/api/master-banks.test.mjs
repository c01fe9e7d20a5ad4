// master-banks.test.mjs - the complete Zengin bank and branch list (npm zengin-code) and the
// public holidays (npm @holiday-jp/holiday_jp) loaded by scripts/reference-data.sh, the script
// scripts/up.sh runs: through the master import as a full snapshot (the demo seed's rows the list
// lacks are retired, a second load changes nothing), the kana converted to the master's
// half-width Zengin kana, the bank accounts of H-9 checked against it; refused for a user who may
// not import banks, with nothing written. Runs the script against the test gateway.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, ok } from './lib/http.mjs';
import { expectFieldErrors, expectProblem } from './lib/problem.mjs';
import { principal, orgWithAdmin } from './lib/fixtures.mjs';
import { medicalCode } from './lib/codes.mjs';
import { addDays, today } from './lib/dates.mjs';
import { need } from './lib/env.mjs';

const SCRIPT = new URL('../../scripts/reference-data.sh', import.meta.url).pathname;
const REF = new URL('../../scripts/reference/', import.meta.url).pathname;

let opAdmin;
let muniAdmin;
let inst;
let dir;
const year = Number(today().slice(0, 4));

function runScript(session, extraEnv = {}) {
  const pw = join(dir, `${session.user_id}.pw`);
  writeFileSync(pw, `${session.password}\n`, { mode: 0o600 });
  return new Promise((resolve) => {
    execFile('bash', [SCRIPT], {
      env: {
        ...process.env,
        SESSHU_REF_BASE_URL: need('SESSHU_TEST_BASE_URL'),
        SESSHU_REF_USER: session.user_id,
        SESSHU_REF_PASSWORD_FILE: pw,
        SESSHU_REF_YEARS: `${year} ${year + 1}`,
        SESSHU_REF_EFFECTIVE_DATE: today(),
        ...extraEnv,
      },
      timeout: 300_000,
      maxBuffer: 1 << 20,
    }, (err, stdout, stderr) => resolve({ code: err ? (err.code ?? -1) : 0, stdout, stderr }));
  });
}

async function masterChange(master) {
  const idx = await ok('listMasters', 200, { token: opAdmin.access });
  return JSON.stringify(idx.items.find((m) => m.name === master));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ss-banks-'));
  opAdmin = (await principal('operator', 'admin'));
  muniAdmin = await principal('municipality', 'admin');
  const f = await orgWithAdmin('kokuhoren');
  inst = (await orgWithAdmin('medical_institution', { code: medicalCode('1', f.code) })).adminSession;
});

test('reference data: a user who may not import banks is refused and nothing is written', async () => {
  const before1 = await masterChange('banks');
  const r = await runScript(muniAdmin);
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, /importing banks failed \(403\)/);
  assert.equal(await masterChange('banks'), before1);
  const bad = await runScript(opAdmin, { SESSHU_REF_PASSWORD_FILE: join(dir, 'missing.pw') });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /no password file/);
});

test('reference data: the complete list through the master import; a second load changes nothing', async () => {
  let t0 = Date.now();
  const r = await runScript(opAdmin);
  assert.equal(r.code, 0, r.stderr);
  console.log(`# reference-data.sh (first load, with npm ci when needed): ${Date.now() - t0} ms`);
  const { masterCsv, hankaku } = await import(new URL('../../scripts/reference/zengin.mjs', import.meta.url));
  const require = createRequire(REF);
  const files = masterCsv(require('zengin-code'));
  assert.ok(files.counts.banks > 1000, `${files.counts.banks} banks`);
  assert.ok(files.counts.bank_branches > 20000, `${files.counts.bank_branches} branches`);
  assert.match(r.stderr + r.stdout, new RegExp(`${files.counts.banks} banks, ${files.counts.bank_branches} branches`));
  // What the master now holds is the list, row for row: a dry run of the same files finds
  // every row unchanged and nothing to retire.
  for (const m of ['banks', 'bank_branches']) {
    t0 = Date.now();
    const d = await ok('importMaster', 200, {
      token: opAdmin.access, params: { master: m }, body: files[m], contentType: 'text/csv; charset=UTF-8',
      query: { retire_missing: 'true', dry_run: 'true' }, timeoutMs: 300_000,
    });
    assert.deepEqual({ ...d.counts }, { added: 0, changed: 0, unchanged: files.counts[m], retired: 0, errors: 0 }, m);
    console.log(`# dry run of ${m} (${files.counts[m]} rows): ${Date.now() - t0} ms`);
  }
  // Half-width kana as the Zengin files carry them.
  const mizuho = await ok('getMasterRow', 200, { token: opAdmin.access, params: { master: 'banks', key: '0001' } });
  assert.equal(mizuho.name_kana, 'ﾐｽﾞﾎ');
  const mufg = await ok('getMasterRow', 200, { token: opAdmin.access, params: { master: 'banks', key: '0005' } });
  assert.equal(mufg.name_kana, 'ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ');
  const br = await ok('getMasterRow', 200, { token: opAdmin.access, params: { master: 'bank_branches', key: '0005~152' } });
  assert.equal(br.name_kana, 'ﾋｶﾞｼﾅｶﾉ');
  assert.equal(hankaku('ヴイ　（カ）．／－'), 'ｳﾞｲ (ｶ)./-');
  assert.throws(() => hankaku('ミズホ銀行'), /U\+9280/);
  // The seed's 横浜銀行 branch 100 is not in the list: retired the day before the load.
  const y = await ok('getMasterRow', 200, {
    token: opAdmin.access, params: { master: 'bank_branches', key: '0138~100' }, query: { as_of: addDays(today(), -1) },
  });
  assert.equal(y.valid_to, addDays(today(), -1));
  expectProblem(await call('getMasterRow', { token: opAdmin.access, params: { master: 'bank_branches', key: '0138~100' } }), 404);
});

test('reference data: H-9 accounts are checked against the full list, both sides', async () => {
  const body = (extra) => ({
    purpose: 'vaccination', bank_code: '0001', branch_code: '001', account_type: 'ordinary',
    account_number: '1234567', holder_name: 'ｼｹﾝ', effective_from: today().slice(0, 7), ...extra,
  });
  // A bank that is only in the full list (not in the seed) and one of its branches.
  const a = await ok('createBankAccount', 201, { token: inst.access, json: body({ bank_code: '0116', branch_code: '101' }) });
  assert.equal(a.bank_code, '0116');
  const retired = await call('createBankAccount', {
    token: inst.access, json: body({ bank_code: '0138', branch_code: '100', effective_from: today().slice(0, 7), account_number: '1234568' }),
  });
  expectFieldErrors(retired, 'branch_code');
  expectFieldErrors(await call('createBankAccount', { token: inst.access, json: body({ bank_code: '0002' }) }), 'bank_code');
  rmSync(dir, { recursive: true, force: true });
});

test('reference data: the holidays of the years loaded', async () => {
  const require = createRequire(REF);
  const all = require('@holiday-jp/holiday_jp/lib/holidays.js');
  for (const y of [year, year + 1]) {
    const want = Object.keys(all).filter((d) => d.startsWith(`${y}-`)).sort();
    const got = await ok('getHolidayYear', 200, { token: inst.access, query: { year: String(y) } });
    assert.deepEqual(got.days.map((d) => d.date), want);
    assert.match(got.source, /@holiday-jp\/holiday_jp/);
  }
});
