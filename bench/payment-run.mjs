// payment-run.mjs - for bench/payment.sh: the service's own path for a claim month of one
// prefecture, through the gateway, timed step by step: every institution collects its records
// (POST /claims/collect until complete) and closes its batch; the 国保連合会 accepts every
// batch (POST /claims/batches/:id/accept), issues the invoices; each municipality records its
// payment; the federation prepares the payment run, another user approves it, and the Zengin
// file is fetched and read back (trailer = data records). Prints one JSON line.
// Usage: node bench/payment-run.mjs SETUP.json MONTH CLAIM_MONTH CONCURRENCY (MONTH: of the
// vaccinations; CLAIM_MONTH: the batch they go to, the same or the first month still open)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { call, ok } from '../tests/api/lib/http.mjs';
import { today } from '../tests/api/lib/dates.mjs';

// node's fetch gives up on a response whose headers take more than 300 s (undici's default
// headersTimeout) and on a body silent as long: a long step of a million lines would be cut off
// by the client rather than measured. The npm undici (tests/api's) sets the dispatcher node's
// fetch uses, with neither timeout; http.mjs's timeoutMs below is the one bound.
const { Agent, setGlobalDispatcher } = createRequire(new URL('../tests/api/package.json', import.meta.url))('undici');
setGlobalDispatcher(new Agent({ headersTimeout: 0, bodyTimeout: 0 }));

const [setupFile, month, claimMonth, conc] = process.argv.slice(2);
const s = JSON.parse(readFileSync(setupFile, 'utf8'));
const width = Number(conc);
const steps = {};
const t00 = performance.now();
async function step(name, fn) {
  const t0 = performance.now();
  const out = await fn();
  steps[name] = +((performance.now() - t0) / 1000).toFixed(3);
  return out;
}
// fn over items, `width` at a time.
async function pool(items, fn) {
  let next = 0;
  const out = [];
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}
const opts = { timeoutMs: 1_800_000 };

const collected = await step('collect', () =>
  pool(s.insts, async (it) => {
    let added = 0;
    for (;;) {
      const c = await ok('collectClaims', 200, { ...opts, token: it.token, json: { month } });
      added += c.counts.added;
      if (c.complete) return added;
    }
  }),
);
const lines = collected.reduce((a, b) => a + b, 0);
const batches = await step('close', () =>
  pool(s.insts, (it) => ok('closeClaimBatch', 200, { ...opts, token: it.token, json: { claim_month: claimMonth } })),
);
await step('review_accept_all', () =>
  pool(batches, (b) => ok('acceptClaimBatch', 200, { ...opts, token: s.fedUser, params: { id: b.id } })),
);
const inv = await step('invoices', () => ok('issueInvoices', 200, { ...opts, token: s.fedUser, json: { claim_month: claimMonth } }));
await step('municipal_payments', () =>
  pool(inv.items, (i) => {
    const m = s.munis.find((x) => x.code === i.muni_code);
    return ok('payInvoice', 200, { ...opts, token: m.token, params: { id: i.id }, json: { paid_on: today(), amount_yen: i.total_yen } });
  }),
);
const run = await step('payment_run', () => ok('createPaymentRun', 201, { ...opts, token: s.fedUser, json: { claim_month: claimMonth } }));
await step('approve', () => ok('approvePaymentRun', 200, { ...opts, token: s.fed, params: { id: run.id } }));
const z = await step('zengin', async () => {
  const r = await call('getPaymentRunZengin', { ...opts, token: s.fedUser, params: { id: run.id } });
  if (r.status !== 200) throw new Error(`zengin: ${r.status} ${r.text.slice(0, 300)}`);
  return r.raw;
});
const total_s = +((performance.now() - t00) / 1000).toFixed(3);
// The file read back: 120 bytes + CR LF a record; the trailers sum the data records.
let data = 0;
let dataYen = 0;
let trailerYen = 0;
for (let i = 0; i < z.length; i += 122) {
  const rec = z.subarray(i, i + 120).toString('latin1');
  if (rec[0] === '2') {
    data++;
    dataYen += Number(rec.slice(80, 90));
  } else if (rec[0] === '8') trailerYen += Number(rec.slice(7, 19));
}
if (dataYen !== trailerYen || dataYen !== run.total_yen) throw new Error(`zengin totals: data ${dataYen}, trailer ${trailerYen}, run ${run.total_yen}`);
const perInst = Object.fromEntries(run.items.map((i) => [i.institution_code, i.amount_yen]));
console.log(JSON.stringify({ lines, total_s, steps, invoices: inv.items.length, run_total_yen: run.total_yen, zengin_bytes: z.length, zengin_data_records: data, per_inst: perInst }));
