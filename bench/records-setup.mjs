// records-setup.mjs - data for bench/records.sh, made through the API of the bench's own stack:
// a municipality with its admin session, and persons bulk-imported (NDJSON chunks) for the
// registration runs (b) and for the million-record import (c). Prints one JSON line.
// Usage: node bench/records-setup.mjs PERSONS_B PERSONS_C   (SESSHU_TEST_* from records.sh)
import { orgWithAdmin } from '../tests/api/lib/fixtures.mjs';
import { request } from '../tests/api/lib/http.mjs';

const [nb, nc] = process.argv.slice(2).map(Number);
const m = await orgWithAdmin('municipality');
const token = m.adminSession.access;

async function post(path, body, contentType = 'application/json') {
  const r = await request('POST', path, { token, body, contentType, timeoutMs: 900_000 });
  if (r.status >= 300) throw new Error(`${path}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.body;
}

// Persons as NDJSON chunks of at most 1 MiB, one import job.
async function importPersons(prefix, n, birth) {
  const job = await post('/api/v1/linkage/imports', JSON.stringify({ kind: 'persons', mode: 'all_or_nothing' }));
  let chunk = '';
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const line =
      JSON.stringify({
        resident_no: `${prefix}${String(i).padStart(7, '0')}`,
        name: 'ベンチ 太郎',
        name_kana: 'ベンチ タロウ',
        birth_date: birth,
        sex: '1',
        address: '東京都渋谷区神南1-1-1',
      }) + '\n';
    const len = Buffer.byteLength(line);
    if (bytes + len > 1_000_000) {
      await post(`/api/v1/linkage/imports/${job.id}/lines`, chunk, 'application/x-ndjson');
      chunk = '';
      bytes = 0;
    }
    chunk += line;
    bytes += len;
  }
  if (chunk) await post(`/api/v1/linkage/imports/${job.id}/lines`, chunk, 'application/x-ndjson');
  const done = await post(`/api/v1/linkage/imports/${job.id}/commit`, undefined);
  if (done.imported !== n) throw new Error(`persons import ${prefix}: ${JSON.stringify(done)}`);
}

const t0 = Date.now();
await importPersons('S', nb, '2026-06-01'); // (b) service
await importPersons('P', nb, '2026-06-01'); // (b) bare peer
await importPersons('C', nc, '2025-07-01'); // (c)
const secs = (Date.now() - t0) / 1000;
console.log(JSON.stringify({ token, muni: m.code, persons: 2 * nb + nc, persons_import_s: secs }));
