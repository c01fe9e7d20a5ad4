// master-exchange.test.mjs - H-8-7 import (CSV in UTF-8 and Shift_JIS, JSON; dry run with the
// difference and every bad row; all-or-nothing commit; insert-only / update-only / upsert;
// retire_missing snapshots) and H-8-8 export (Shift_JIS CSV that the iconv command agrees with,
// round trip) and the change feed; malformed files (wrong encoding, ragged rows, stray quotes,
// duplicate keys, bad headers, a 50 MB upload); who may import.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { call, ok, request } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { expectProblemContract } from './lib/contract.mjs';
import { principal, suffix } from './lib/fixtures.mjs';
import { medicalCode, withWrongCheckDigit } from './lib/codes.mjs';
import { today } from './lib/dates.mjs';

const REFERENCE_DAY = '2026-11-01';

let op; // operator user (imports the technical masters)
let opAdmin;
let ma; // municipality admin
let mu; // municipality user (no masters.import)
let medAdmin;

before(async () => {
  op = await principal('operator', 'user');
  opAdmin = op.orgAdmin;
  ma = await principal('municipality', 'admin');
  mu = await principal('municipality', 'user');
  medAdmin = await principal('medical_institution', 'admin');
});

const iconv = (buf, from, to) => execFileSync('iconv', ['-f', from, '-t', to], { input: buf });
const HEAD = 'code,name,name_kana,kind,prefecture_code,address,valid_from,valid_to';
const instRow = (code, name, extra = {}) =>
  [code, name, extra.kana ?? 'シケン', extra.kind ?? 'insurance', code.slice(0, 2), extra.address ?? '東京都千代田区', extra.from ?? '', extra.to ?? ''].join(',');

function importCsv(master, text, { token = op.access, charset = 'UTF-8', query = {} } = {}) {
  const body = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  return call('importMaster', { token, params: { master }, body, contentType: `text/csv; charset=${charset}`, query });
}

test('dry run: the difference and every bad row with its line; nothing is written', async () => {
  const a = medicalCode('1', '13');
  const b = medicalCode('3', '27');
  const dup = medicalCode('1', '01');
  const lines = [
    HEAD,
    instRow(a, '甲クリニック'), // 2 added
    instRow(b, '乙歯科'), // 3 added
    instRow('0110113719', '札幌医科大学附属病院（改称）', { kana: 'サッポロイカダイガクフゾクビョウイン', address: '北海道札幌市中央区南1条西16丁目' }), // 4 changed
    instRow(withWrongCheckDigit(medicalCode('1', '13')), '誤り医院'), // 5 check digit
    `${medicalCode('1', '14')},短い行`, // 6 ragged
    instRow(dup, '丙医院'), // 7
    instRow(dup, '丙医院（重複）'), // 8 duplicate key
    instRow(medicalCode('1', '14'), '丁医院', { kind: 'hospital' }), // 9 bad kind
    '"unterminated,x', // 10 malformed quote
  ];
  const r = await importCsv('institutions', lines.join('\r\n') + '\r\n', { query: { dry_run: 'true' } });
  assert.equal(r.status, 200, r.text);
  const res = r.body;
  assert.equal(res.dry_run, true);
  assert.equal(res.committed, false);
  assert.deepEqual(res.added.map((x) => x.line), [2, 3, 7]);
  assert.deepEqual(res.changed.map((x) => x.line), [4]);
  assert.equal(res.changed[0].before.name, '札幌医科大学附属病院');
  assert.equal(res.changed[0].after.name, '札幌医科大学附属病院（改称）');
  const errLines = res.errors.map((e) => e.line);
  assert.deepEqual(errLines, [5, 6, 8, 9, 10]);
  assert.equal(res.errors[0].field, 'code');
  assert.match(res.errors[1].reason, /fields/);
  assert.match(res.errors[2].reason, /duplicate key \(first on line 7\)/);
  assert.equal(res.errors[3].field, 'kind');
  assert.deepEqual(res.counts, { added: 3, changed: 1, unchanged: 0, retired: 0, errors: 5 });
  expectProblem(await call('getMasterRow', { token: op.access, params: { master: 'institutions', key: a } }), 404);

  // The same file committed: 422 with every bad row, still nothing written.
  const c = await importCsv('institutions', lines.join('\r\n'), { query: { dry_run: 'false' } });
  expectFieldErrors(c, ['line 5: code', 'line 6', 'line 8: code', 'line 9: kind', 'line 10']);
  expectProblem(await call('getMasterRow', { token: op.access, params: { master: 'institutions', key: a } }), 404);
});

test('commit applies all rows at once; the changed row keeps its earlier version', async () => {
  const codes = [medicalCode('1', '13'), medicalCode('4', '13'), medicalCode('1', '40')];
  const text = [HEAD, ...codes.map((c, i) => instRow(c, `取込医院${i}`, { from: '2026-04-01' }))].join('\n');
  const r = await importCsv('institutions', text, { query: { dry_run: 'false', strategy: 'insert-only', source: 'ONSHI' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.committed, true);
  assert.equal(r.body.counts.added, 3);
  assert.ok(r.body.change > 0);
  const row = await ok('getMasterRow', 200, { token: op.access, params: { master: 'institutions', key: codes[2] } });
  assert.equal(row.source, 'ONSHI');
  assert.equal(row.valid_from, '2026-04-01');
  // insert-only again: every row is a bad row; update-only with a new key: bad row.
  const again = await importCsv('institutions', text, { query: { strategy: 'insert-only' } });
  assert.equal(again.body.counts.errors, 3);
  assert.match(again.body.errors[0].reason, /insert-only/);
  const fresh = medicalCode('1', '13');
  const upd = await importCsv('institutions', [HEAD, instRow(fresh, '新'), instRow(codes[0], '取込医院0（改）', { from: '2026-10-01' })].join('\n'), { query: { strategy: 'update-only' } });
  assert.deepEqual(upd.body.errors.map((e) => e.line), [2]);
  assert.match(upd.body.errors[0].reason, /update-only/);
  assert.equal(upd.body.counts.changed, 1);
  // upsert commits the change from 2026-10-01; before that date the old name stays.
  const ups = await importCsv('institutions', [HEAD, instRow(codes[0], '取込医院0（改）', { from: '2026-10-01' })].join('\n'), { query: { dry_run: 'false' } });
  assert.equal(ups.body.counts.changed, 1);
  assert.equal((await ok('getMasterRow', 200, { token: op.access, params: { master: 'institutions', key: codes[0] }, query: { as_of: '2026-09-30' } })).name, '取込医院0');
  assert.equal((await ok('getMasterRow', 200, { token: op.access, params: { master: 'institutions', key: codes[0] }, query: { as_of: '2026-10-01' } })).name, '取込医院0（改）');
  // The same file again: unchanged, nothing written.
  const same = await importCsv('institutions', [HEAD, instRow(codes[0], '取込医院0（改）', { from: '2026-10-01' })].join('\n'), { query: { dry_run: 'false' } });
  assert.deepEqual(same.body.counts, { added: 0, changed: 0, unchanged: 1, retired: 0, errors: 0 });
  assert.equal(same.body.change, null);
});

test('Shift_JIS: an import through iconv, and an export the iconv command agrees with', async () => {
  const code = medicalCode('1', '13');
  const utf8 = [HEAD, instRow(code, '髙橋・渋谷ｸﾘﾆｯｸ〜第２', { kana: 'ﾀｶﾊｼｼﾌﾞﾔｸﾘﾆﾂｸ', address: '東京都渋谷区神南１－２－３' })].join('\r\n') + '\r\n';
  const sjis = iconv(Buffer.from(utf8), 'UTF-8', 'CP932');
  assert.notDeepEqual(sjis, Buffer.from(utf8));
  const r = await importCsv('institutions', sjis, { charset: 'Shift_JIS', query: { dry_run: 'false' } });
  assert.equal(r.status, 200, r.text);
  const row = await ok('getMasterRow', 200, { token: op.access, params: { master: 'institutions', key: code } });
  // What iconv makes of the name (CP932 maps the wave dash 〜 to the fullwidth tilde ～).
  const expected = iconv(iconv(Buffer.from('髙橋・渋谷ｸﾘﾆｯｸ〜第２'), 'UTF-8', 'CP932'), 'CP932', 'UTF-8').toString('utf8');
  assert.equal(expected, '髙橋・渋谷ｸﾘﾆｯｸ～第２');
  assert.equal(row.name, expected);
  // The export: Shift_JIS by default, byte for byte what iconv makes of the UTF-8 export.
  const ex = await request('GET', '/api/v1/masters/institutions/export', { token: op.access, query: { as_of: today() } });
  assert.equal(ex.status, 200);
  // Labelled as what it is: CP932 (Windows-31J, IANA), which a strict Shift_JIS decoder is not.
  assert.match(ex.headers.get('content-type'), /^text\/csv; charset=Windows-31J/i);
  // The file holds 髙 (a CP932 extension): a strict Shift_JIS decoder refuses it, Windows-31J reads it.
  assert.throws(() => iconv(ex.raw, 'SHIFT_JIS', 'UTF-8'));
  assert.ok(iconv(ex.raw, 'WINDOWS-31J', 'UTF-8').toString('utf8').includes('髙橋'));
  assert.match(ex.headers.get('content-disposition'), new RegExp(`institutions-${today()}\\.csv`));
  const exU = await request('GET', '/api/v1/masters/institutions/export', { token: op.access, query: { as_of: today(), encoding: 'utf-8' } });
  assert.equal(exU.status, 200);
  assert.deepEqual(ex.raw, iconv(exU.raw, 'UTF-8', 'CP932'));
  assert.equal(iconv(ex.raw, 'CP932', 'UTF-8').toString('utf8'), exU.text);
  assert.ok(exU.text.startsWith('code,name,name_kana,kind,prefecture_code,address,valid_from,valid_to,version,source\r\n'));
  assert.ok(exU.text.includes(expected));
  // Round trip: the export imports back with nothing to change.
  const back = await importCsv('institutions', ex.raw, { charset: 'Shift_JIS' });
  assert.equal(back.status, 200, back.text);
  assert.equal(back.body.counts.errors, 0);
  assert.equal(back.body.counts.added + back.body.counts.changed, 0);
  assert.ok(back.body.counts.unchanged >= 5);
});

test('wrong encodings, bad headers, empty files and wrong media types', async () => {
  const code = medicalCode('1', '13');
  const sjis = iconv(Buffer.from([HEAD, instRow(code, '渋谷医院')].join('\n')), 'UTF-8', 'CP932');
  const asUtf8 = await importCsv('institutions', sjis, { charset: 'UTF-8' });
  expectProblem(asUtf8, 422, 'validation-failed');
  assert.match(asUtf8.body.detail, /not valid UTF-8/);
  const badSjis = Buffer.concat([Buffer.from(`${HEAD}\n`), Buffer.from([0x81, 0x20, 0x0a])]);
  const r = await importCsv('institutions', badSjis, { charset: 'Shift_JIS' });
  expectProblem(r, 422);
  assert.match(r.body.detail, /not valid Shift_JIS \(CP932\) at byte \d+/);
  expectProblem(await importCsv('institutions', 'code,name,colour\n1,2,3\n'), 422);
  expectProblem(await importCsv('institutions', 'code,name\n'), 422); // kind, prefecture_code missing
  expectProblem(await importCsv('institutions', 'code,code,name,kind,prefecture_code\n'), 422);
  expectProblem(await importCsv('institutions', ''), 422);
  expectProblem(await importCsv('institutions', '\r\n\r\n'), 422);
  expectProblem(await call('importMaster', { token: op.access, params: { master: 'institutions' }, body: 'a', contentType: 'text/plain' }), 415);
  expectProblem(await call('importMaster', { token: op.access, params: { master: 'institutions' }, body: 'a', contentType: 'text/csv; charset=latin1' }), 415);
  expectFieldErrors(await importCsv('institutions', `${HEAD}\n`, { query: { strategy: 'merge' } }), ['strategy']);
  expectFieldErrors(await importCsv('institutions', `${HEAD}\n`, { query: { dry_run: 'yes' } }), ['dry_run']);
  expectFieldErrors(await importCsv('institutions', `${HEAD}\n`, { query: { effective_date: '2026-02-30' } }), ['effective_date']);
  expectFieldErrors(await importCsv('institutions', `${HEAD}\n`, { query: { source: 'MHLW' } }), ['source']);
  expectFieldErrors(await importCsv('institutions', `${HEAD}\n`, { query: { bogus: '1' } }), ['bogus']);
  expectProblem(await importCsv('nope', `${HEAD}\n`), 404);
  // A header only: nothing to do.
  const empty = await importCsv('institutions', `${HEAD}\n`);
  assert.equal(empty.status, 200);
  assert.equal(empty.body.rows, 0);
});

test('JSON import: rows as objects, errors by row number', async () => {
  const mh = await principal('mhlw', 'admin');
  const base = `j${suffix(5).toLowerCase()}`;
  const rows = [
    { code: `${base}_a`, name: 'JSON病A', category: 'A' },
    { code: `${base}_b`, name: 'JSON病B', category: 'Z' },
    { code: `${base}_c`, name: 123, category: 'B' },
    { code: `${base}_d`, name: 'JSON病D', category: 'B', extra: 1 },
    'not an object',
  ];
  const r = await call('importMaster', { token: mh.access, params: { master: 'diseases' }, json: { rows } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.errors.map((e) => [e.line, e.field]), [[2, 'category'], [3, 'name'], [4, 'extra'], [5, null]]);
  assert.equal(r.body.counts.added, 1);
  const c = await call('importMaster', { token: mh.access, params: { master: 'diseases' }, json: { rows: rows.slice(0, 1) }, query: { dry_run: 'false' } });
  assert.equal(c.body.committed, true);
  assert.equal((await ok('getMasterRow', 200, { token: mh.access, params: { master: 'diseases', key: `${base}_a` } })).source, 'MHLW');
  expectProblem(await call('importMaster', { token: mh.access, params: { master: 'diseases' }, body: '{"rows": [', contentType: 'application/json' }), 400, 'invalid-json');
  expectProblem(await call('importMaster', { token: mh.access, params: { master: 'diseases' }, json: [] }), 422);
  expectProblem(await call('importMaster', { token: mh.access, params: { master: 'diseases' }, json: { rows: [], more: 1 } }), 422);
  expectProblem(await call('importMaster', { token: mh.access, params: { master: 'diseases' }, body: '{"rows":[],"rows":[]}', contentType: 'application/json' }), 400);
});

test('a municipality snapshot of its unit prices retires what it leaves out, and only its own', async () => {
  const code = ma.org.code;
  const head = 'municipality_code,vaccine_code,dose_number,price_yen,self_pay_yen,valid_from';
  const first = [head, `${code},631302201,1,4950,2500,2026-04-01`, `${code},631300601,1,10890,0,2026-04-01`, `${code},631300601,2,10890,0,2026-04-01`].join('\n');
  assert.equal((await importCsv('unit_prices', first, { token: ma.access, query: { dry_run: 'false' } })).body.counts.added, 3);
  const snap = [head, `${code},631302201,1,5170,2500,2026-10-01`].join('\n');
  const dry = await importCsv('unit_prices', snap, { token: ma.access, query: { retire_missing: 'true', effective_date: '2026-10-01' } });
  assert.equal(dry.status, 200, dry.text);
  assert.deepEqual(dry.body.counts, { added: 0, changed: 1, unchanged: 0, retired: 2, errors: 0 });
  assert.ok(dry.body.retired.every((x) => x.key.municipality_code === code), 'only its own rows retire');
  const done = await importCsv('unit_prices', snap, { token: ma.access, query: { retire_missing: 'true', effective_date: '2026-10-01', dry_run: 'false' } });
  assert.equal(done.body.committed, true);
  const key = `${code}~631300601~2`;
  assert.equal((await ok('getMasterRow', 200, { token: ma.access, params: { master: 'unit_prices', key }, query: { as_of: '2026-09-30' } })).valid_to, '2026-09-30');
  expectProblem(await call('getMasterRow', { token: ma.access, params: { master: 'unit_prices', key }, query: { as_of: '2026-10-01' } }), 404);
  // The seeded prices of 渋谷区 are untouched.
  assert.equal((await ok('getMasterRow', 200, { token: ma.access, params: { master: 'unit_prices', key: '131130~631300601~2' } })).price_yen, 10890);
  // Another municipality's row in the file: 403, nothing imported.
  const other = [head, `${code},631302201,1,5170,2500,2026-10-01`, '131130,631302201,1,1,0,2026-10-01'].join('\n');
  const r = await importCsv('unit_prices', other, { token: ma.access });
  expectProblem(r, 403, 'forbidden');
  assert.match(r.body.detail, /line 3/);
});

test('who may import and export', async () => {
  const text = `${HEAD}\n${instRow(medicalCode('1', '13'), '権限確認')}\n`;
  expectProblem(await importCsv('institutions', text, { token: mu.access }), 403, 'forbidden'); // no masters.import
  expectProblem(await importCsv('institutions', text, { token: ma.access }), 403, 'forbidden'); // not its master
  expectProblem(await importCsv('diseases', 'code,name,category\nx,y,A\n', { token: opAdmin.access }), 403, 'forbidden');
  // An institution admin imports its own row only.
  const own = medAdmin.org.code;
  const mine = await importCsv('institutions', `${HEAD}\n${instRow(own, '自院', { address: '' })}\n`, { token: medAdmin.access });
  assert.equal(mine.status, 200, mine.text);
  expectProblem(await importCsv('institutions', text, { token: medAdmin.access }), 403);
  expectProblem(await request('GET', '/api/v1/masters/banks/export', { token: mu.access }), 403);
  const bank = await request('GET', '/api/v1/masters/banks/export', { token: ma.access, query: { encoding: 'utf-8' } });
  assert.equal(bank.status, 200);
  assert.match(bank.text, /^code,name,name_kana,valid_from,valid_to,version,source\r\n0001,みずほ(銀行)?,ﾐｽﾞﾎ,\d{4}-\d\d-\d\d,,\d+,(SEED|OPERATOR)\r\n/);
  expectFieldErrors(await call('exportMaster', { token: ma.access, params: { master: 'banks' }, query: { encoding: 'latin1' } }), ['encoding']);
  expectFieldErrors(await call('exportMaster', { token: ma.access, params: { master: 'banks' }, query: { as_of: 'today' } }), ['as_of']);
  expectProblem(await call('importMaster', { params: { master: 'banks' }, body: 'x', contentType: 'text/csv' }), 401);
});

test('a 50 MB upload gets a clean 413 problem+json; 5 MB goes through', async () => {
  const big = Buffer.alloc(50 * 1024 * 1024, 0x41);
  const r = await request('POST', '/api/v1/masters/institutions/import', { token: op.access, body: big, contentType: 'text/csv' });
  assert.equal(r.status, 413);
  expectProblemContract(r, '50 MB import');
  // 5 MB (more than the 1 MiB of every other route): 40,000 rows parsed and checked.
  const rows = [HEAD];
  for (let i = 0; i < 40000; i++) rows.push(instRow(medicalCode('1', '13'), `大量医院${i}`, { address: '東京都千代田区千代田1-1-1 大量取込試験ビル' }));
  const text = rows.join('\n');
  assert.ok(text.length > 2 * 1024 * 1024);
  const ok5 = await importCsv('institutions', text);
  assert.equal(ok5.status, 200, ok5.text.slice(0, 300));
  assert.equal(ok5.body.rows + ok5.body.counts.errors, 40000);
  assert.ok(ok5.body.added.length <= 1000);
  // The 1 MiB limit still holds elsewhere.
  expectProblem(await request('POST', '/api/v1/masters/diseases', { token: op.access, body: Buffer.alloc(2 * 1024 * 1024, 0x20), contentType: 'application/json' }), 413);
});

test('every master exports as Shift_JIS and imports back unchanged (round trip)', async () => {
  const mh = await principal('mhlw', 'admin');
  const editor = {
    prefectures: opAdmin, kokuhoren: opAdmin, municipalities: opAdmin, institutions: opAdmin, collective_contracts: opAdmin,
    banks: opAdmin, bank_branches: opAdmin, diseases: mh, vaccines: mh, schedules: mh, lots: mh, populations: mh,
  };
  for (const [master, s] of Object.entries(editor)) {
    // As of a day inside the shipped reference data's validity (FY2026: some of it, like the
    // collective contracts, ends with it): a date of the data, not of the clock.
    const ex = await request('GET', `/api/v1/masters/${master}/export`, { token: s.access, query: { as_of: REFERENCE_DAY } });
    assert.equal(ex.status, 200, `${master}: ${ex.text.slice(0, 200)}`);
    const back = await importCsv(master, ex.raw, { token: s.access, charset: 'Shift_JIS' });
    assert.equal(back.status, 200, `${master}: ${back.text.slice(0, 300)}`);
    assert.equal(back.body.counts.errors, 0, `${master}: ${JSON.stringify(back.body.errors.slice(0, 3))}`);
    assert.equal(back.body.counts.added + back.body.counts.changed, 0, `${master}: ${JSON.stringify(back.body.changed.slice(0, 2))}`);
    assert.ok(back.body.counts.unchanged > 0, master);
  }
});

test('exports guard spreadsheet formulas (CSV injection) and import back unchanged', async () => {
  const names = ['=HYPERLINK("http://evil.example","x")', '@SUM(A1:A9)', '+81-3-1234', '-1+1'];
  const codes = names.map(() => medicalCode('1', '13'));
  const text = [HEAD, ...codes.map((c, i) => [c, `"${names[i].replace(/"/g, '""')}"`, 'シケン', 'insurance', '13', '東京都千代田区', '', ''].join(','))].join('\n');
  const r = await importCsv('institutions', text, { query: { dry_run: 'false' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.counts.added, names.length, JSON.stringify(r.body.errors));
  for (const [i, c] of codes.entries()) {
    assert.equal((await ok('getMasterRow', 200, { token: op.access, params: { master: 'institutions', key: c } })).name, names[i]);
  }
  const ex = await request('GET', '/api/v1/masters/institutions/export', { token: op.access, query: { as_of: today(), encoding: 'utf-8' } });
  assert.equal(ex.status, 200);
  const lines = ex.text.split('\r\n');
  for (const [i, c] of codes.entries()) {
    const line = lines.find((l) => l.startsWith(`${c},`));
    assert.ok(line, c);
    const field = line.slice(c.length + 1);
    // The name cell starts with an apostrophe (inside the quotes if quoted): no cell begins with = + - @.
    assert.match(field, /^"?'/, `${names[i]} exported as ${field.slice(0, 40)}`);
  }
  // The export imports back with nothing to change: the reader takes the guard off again.
  const back = await importCsv('institutions', ex.raw, { charset: 'UTF-8' });
  assert.equal(back.status, 200, back.text);
  assert.equal(back.body.counts.changed + back.body.counts.added, 0, JSON.stringify(back.body.changed?.slice(0, 2)));
});
