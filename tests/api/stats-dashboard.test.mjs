// stats-dashboard.test.mjs - the public statistics page (H-6-2) at /stats/ in a real browser:
// Debian's Chromium driven by playwright-core loads it from the gateway, and the numbers it
// shows (the map and the table by prefecture, the as-of time) equal the API's; axe-core finds no serious or
// critical accessibility violation; the page loads nothing from another origin (Chart.js is
// bundled at build time); the download links answer.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE } from './lib/env.mjs';
import { ok, request } from './lib/http.mjs';
import { municipality, person } from './lib/records.mjs';
import { orgWithAdmin } from './lib/fixtures.mjs';
import { today, addDays, addYears } from './lib/dates.mjs';

const require = createRequire(import.meta.url);
const CHROMIUM = '/usr/bin/chromium';
const FLU = '631302201';
let ctx, dir, muni, on;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (scripts/install-deps.sh installs chromium)`);
  const mhlw = (await orgWithAdmin('mhlw')).adminSession;
  const lot = `SD${randomBytes(3).toString('hex').toUpperCase()}`;
  await ok('registerMasterRow', 201, {
    token: mhlw.access,
    params: { master: 'lots' },
    json: { vaccine_code: FLU, lot_no: lot, expiry_on: addYears(today(), 1), certified_on: addYears(today(), -1), valid_from: addYears(today(), -1) },
  });
  muni = await municipality();
  await ok('registerMasterRow', 201, {
    token: mhlw.access,
    params: { master: 'populations' },
    json: { municipality_code: muni.code, sex: '2', age_band: '40-49', population: 800, valid_from: addYears(today(), -1) },
  });
  on = addDays(today(), -50);
  for (let i = 0; i < 3; i++) {
    const p = await person(muni, { sex: '2', birth_date: addYears(addDays(on, -5), -45) });
    await ok('createImmunization', 201, {
      token: muni.session.access,
      json: { person_id: p.id, vaccinated_on: on, vaccine_code: FLU, dose_number: 1, category: 'voluntary', lot_no: lot, institution_code: '1311012346', doctor_name: '医師 花子' },
    });
  }
  dir = mkdtempSync(path.join(tmpdir(), 'sesshu-chromium-'));
  ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  if (ctx) await ctx.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function ndjson(name) {
  const r = await request('GET', `/api/v1/stats/datasets/${name}`);
  assert.equal(r.status, 200);
  return r.text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

test('the page shows the API numbers, is accessible, and loads nothing from elsewhere', async () => {
  const pref = (await ndjson('vaccinations-by-prefecture')).filter((x) => x.vaccine_code === FLU && x.vaccinated_on === on && x.prefecture_code === muni.code.slice(0, 2));
  assert.ok(pref.length > 0, 'no prefecture row for the test records');
  const key = `${pref[0].disease_code}|${FLU}|1`;
  const page = await ctx.newPage();
  const foreign = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(BASE)) foreign.push(req.url());
  });
  const t0 = Date.now() - 1000;
  const res = await page.goto(`${BASE}/stats/?series=${encodeURIComponent(key)}`);
  assert.equal(res.status(), 200);
  await page.waitForSelector('body[data-ready]', { timeout: 20000 });
  assert.equal(await page.getAttribute('body', 'data-ready'), '1');
  const t1 = Date.now() + 1000;
  assert.deepEqual(foreign, []);
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  assert.equal(await page.inputValue('#series'), key);
  // The as-of time shown is the API's, taken during the load.
  const asOf = await page.getAttribute('#as-of', 'data-as-of');
  assert.ok(Date.parse(asOf) >= t0 - 1000 && Date.parse(asOf) <= t1, `as of ${asOf}`);
  assert.match(await page.textContent('#as-of'), new RegExp(asOf.replace(/[+]/g, '\\+')));
  // The table against the API, after the page's load (the data does not change meanwhile).
  const all = (await ndjson('vaccinations-by-prefecture')).filter((x) => `${x.disease_code}|${x.vaccine_code}|${x.dose_number}` === key);
  const cov = (await ndjson('coverage-by-prefecture')).filter((x) => `${x.disease_code}|${x.vaccine_code}|${x.dose_number}` === key);
  const last = new Map();
  for (const x of all) last.set(x.prefecture_code, x);
  const lastCov = new Map();
  for (const x of cov) lastCov.set(x.prefecture_code, x);
  const shown = await page.$$eval('#by-pref tbody tr', (trs) =>
    trs.map((tr) => ({
      pref: tr.getAttribute('data-pref'),
      cumulative: tr.querySelector('[data-col=cumulative]').textContent,
      population: tr.querySelector('[data-col=population]').textContent,
      coverage: tr.querySelector('[data-col=coverage]').textContent,
    })),
  );
  assert.deepEqual(shown.map((s) => s.pref).sort(), [...last.keys()].sort());
  const num = (s) => Number(s.replace(/,/g, ''));
  for (const s of shown) {
    assert.equal(num(s.cumulative), last.get(s.pref).cumulative, `cumulative of ${s.pref}`);
    const c = lastCov.get(s.pref);
    if (c) {
      assert.equal(num(s.population), c.population, `population of ${s.pref}`);
      assert.equal(s.coverage, `${(c.coverage * 100).toFixed(2)}%`, `coverage of ${s.pref}`);
    } else {
      assert.equal(s.coverage, '—');
    }
  }
  const mine = shown.find((s) => s.pref === muni.code.slice(0, 2));
  assert.ok(mine && num(mine.cumulative) >= 3 && mine.coverage !== '—', JSON.stringify(mine));
  // The map: a tile for each of the 47 prefectures, coloured by the API's latest coverage; its
  // figures (data-coverage) are the API's, and its label names the prefectures it colours.
  const mapCov = JSON.parse(await page.getAttribute('#map', 'data-coverage'));
  const want = Object.fromEntries([...lastCov].filter(([, c]) => c.coverage !== null).map(([p, c]) => [p, c.coverage]));
  assert.deepEqual(mapCov, want);
  assert.ok(mapCov[muni.code.slice(0, 2)] > 0, JSON.stringify(mapCov));
  const tiles = await page.evaluate(() => {
    const c = document.getElementById('map');
    const g = c.getContext('2d');
    return { w: c.width, h: c.height, painted: g.getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0) };
  });
  assert.ok(tiles.w > 0 && tiles.h > 0 && tiles.painted, JSON.stringify(tiles));
  assert.match(await page.getAttribute('#map', 'aria-label'), /表にあります/);
  assert.equal(await page.$$eval('#map-legend li', (li) => li.length), 6);
  // The chart is drawn (a canvas with pixels) from the bundled Chart.js.
  const drawn = await page.$eval('#chart', (c) => c.width > 0 && c.height > 0);
  assert.ok(drawn);
  // Every dataset has its download links, and they answer.
  const links = await page.$$eval('#downloads a', (as) => as.map((a) => a.getAttribute('href')));
  const idx = await ok('listStatsDatasets', 200);
  assert.equal(links.length, idx.items.reduce((n, d) => n + d.downloads.length, 0));
  for (const href of links) assert.equal((await request('GET', href)).status, 200, href);
  // axe-core, injected from the npm package: nothing serious or critical.
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(async () => await window.axe.run(document));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help}`), []);
  await page.close();
});

test('the page is static, cacheable and compressed; /stats redirects', async () => {
  const r = await request('GET', '/stats/', { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.ok(r.headers.get('etag') && r.headers.get('last-modified'));
  const js = await request('GET', '/stats/app.js');
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /javascript/);
  assert.ok(!/https?:\/\/cdn/i.test(js.text), 'the bundle names a CDN');
  const redir = await request('GET', '/stats');
  assert.equal(redir.status, 301);
  const missing = await request('GET', '/stats/nope.js');
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type'), /problem\+json/);
});
