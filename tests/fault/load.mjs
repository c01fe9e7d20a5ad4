// load.mjs - the write load of the access-log fault test (tests/fault/access_log_fault.sh).
//
// Sets up a municipality (through the gateway), prints its code, then creates persons straight
// at the records service (FAULT_RECORDS_URL) from FAULT_WORKERS loops until the file FAULT_STOP
// exists. Every attempt is written to FAULT_OUT as "request_id resident_no status" (status 0:
// no answer - the service was killed or the connection cut), so the checker can hold each one
// against the database and the access log, whatever the client was told. With FAULT_TIMELINE set,
// each answer's time is also written there as "epoch_ms status retry_after" (the failover test's
// 503 window; retry_after is the Retry-After header, "-" when absent).
import { appendFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { municipality, myNumber } from '../api/lib/records.mjs';

const out = process.env.FAULT_OUT;
const stop = process.env.FAULT_STOP;
const base = process.env.FAULT_RECORDS_URL;
const workers = Number(process.env.FAULT_WORKERS ?? 4);
const timeline = process.env.FAULT_TIMELINE;
const run = randomBytes(4).toString('hex');

const muni = await municipality();
console.log(`muni ${muni.code} run ${run}`);
let n = 0;

async function worker() {
  while (!existsSync(stop)) {
    const i = n++;
    const rid = `fault-${run}-${i}`;
    const resident = `FLT-${run}-${i}`;
    let status = 0;
    let retryAfter = '-';
    try {
      const res = await fetch(`${base}/api/v1/persons`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${muni.session.access}`, 'X-Request-Id': rid },
        body: JSON.stringify({
          resident_no: resident, name: '障害 試験', name_kana: 'ショウガイ シケン', birth_date: '2020-01-01',
          sex: '2', address: '東京都千代田区1-1', my_number: myNumber(),
        }),
        signal: AbortSignal.timeout(15_000),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after') ?? '-';
      const text = await res.text();
      // 503 "the change may have been made": the service could not learn its commit's outcome.
      if (status === 503 && text.includes('may have been made')) status = 1503;
    } catch {
      status = 0;
      await new Promise((r) => setTimeout(r, 50));
    }
    appendFileSync(out, `${rid} ${resident} ${status}\n`);
    if (timeline) appendFileSync(timeline, `${Date.now()} ${status} ${retryAfter}\n`);
    if (status >= 500 || status === 0) await new Promise((r) => setTimeout(r, 20));
  }
}

await Promise.all(Array.from({ length: workers }, worker));
console.log(`done ${n}`);
