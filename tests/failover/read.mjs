// read.mjs - the failover test's heavy read (tests/failover/failover.sh): an analytics query of
// 厚生労働省 through the gateway (SESSHU_TEST_BASE_URL), which the stats service runs on a standby
// when its replay lag is within SESSHU_STATS_MAX_LAG_MS. Prints "source <standby|primary> lag
// <ms> status <code> groups <n>" per try; exits 1 unless the answer is 200 and names its source and lag.
import { orgWithAdmin } from '../api/lib/fixtures.mjs';
import { call } from '../api/lib/http.mjs';

const mhlw = (await orgWithAdmin('mhlw')).adminSession;
// After a failover the read pool may sit on the new primary; it redials (every 5 s at most) and
// finds the rejoined standby: a few tries, a second apart.
let r;
let source;
let lag;
for (let i = 0; i < 8; i++) {
  r = await call('analyseImmunizations', { token: mhlw.access, query: { group_by: 'municipality_code,sex' } });
  source = r.headers.get('x-data-source');
  lag = r.headers.get('x-data-lag-ms');
  console.log(`source ${source} lag ${lag} status ${r.status} groups ${r.body?.items?.length}`);
  if (r.status !== 200 || source === 'standby') break;
  await new Promise((res) => setTimeout(res, 1000));
}
process.exit(r.status === 200 && ['standby', 'primary'].includes(source) && /^\d+$/.test(lag ?? '') ? 0 : 1);
