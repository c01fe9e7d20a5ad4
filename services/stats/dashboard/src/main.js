// main.js - the public statistics page (H-6-2): reads the index and the prefecture datasets of
// /api/v1/stats/ (same origin, through the gateway) and shows coverage over time by prefecture
// (Chart.js, bundled by esbuild at build time), a map of the 47 prefectures coloured by
// coverage (a tile map: one square a prefecture, placed roughly where it lies, drawn by
// chartjs-chart-matrix; the table below gives the same figures in text), a table by
// prefecture, the as-of time and the download links of every dataset. When it has drawn,
// <body data-ready="1">.
import { Chart, LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip } from 'chart.js';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip, MatrixController, MatrixElement);

const API = '/api/v1/stats/datasets';
const PREFS = ['北海道', '青森県', '岩手県', '宮城県', '秋田県', '山形県', '福島県', '茨城県', '栃木県', '群馬県', '埼玉県', '千葉県', '東京都', '神奈川県', '新潟県', '富山県', '石川県', '福井県', '山梨県', '長野県', '岐阜県', '静岡県', '愛知県', '三重県', '滋賀県', '京都府', '大阪府', '兵庫県', '奈良県', '和歌山県', '鳥取県', '島根県', '岡山県', '広島県', '山口県', '徳島県', '香川県', '愛媛県', '高知県', '福岡県', '佐賀県', '長崎県', '熊本県', '大分県', '宮崎県', '鹿児島県', '沖縄県'];
const COLORS = ['#1a5fb4', '#c01c28', '#26a269', '#a347ba', '#e66100', '#613583', '#1c71d8', '#865e3c'];

// The tile map: [column, row] of each prefecture, 01 北海道 … 47 沖縄県, north-east to south-west.
const TILES = [
  [11, 0], [11, 1], [11, 2], [11, 3], [10, 2], [10, 3], [11, 4], [11, 5], [10, 5], [9, 5],
  [9, 6], [11, 6], [10, 6], [10, 7], [10, 4], [9, 4], [8, 4], [7, 4], [8, 6], [8, 5],
  [7, 5], [9, 7], [7, 6], [6, 7], [6, 5], [5, 5], [5, 6], [4, 5], [6, 6], [5, 7],
  [3, 5], [2, 5], [3, 6], [2, 6], [1, 6], [4, 8], [4, 7], [3, 7], [3, 8], [1, 7],
  [0, 7], [0, 8], [1, 8], [2, 8], [2, 9], [1, 9], [0, 10],
];
// Five steps of blue, light to dark (style.css repeats them for the legend's swatches).
const SCALE = ['#deebf7', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];
const NO_DATA = '#f0f0f0';

const prefName = (code) => PREFS[Number(code) - 1] ?? code;
const seriesKey = (x) => `${x.disease_code}|${x.vaccine_code}|${x.dose_number}`;
const seriesLabel = (k) => {
  const [d, v, n] = k.split('|');
  return `${d} / ${v} / 第${n}回`;
};
const fmtInt = (n) => n.toLocaleString('ja-JP');
const fmtPct = (r) => (r === null || r === undefined ? '—' : `${(r * 100).toFixed(2)}%`);

async function ndjson(name) {
  const r = await fetch(`${API}/${name}?format=ndjson`);
  if (!r.ok) throw new Error(`${name}: ${r.status}`);
  const text = await r.text();
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

let chart;

function draw(key, pref, cov) {
  const rows = pref.filter((x) => seriesKey(x) === key);
  const covRows = cov.filter((x) => seriesKey(x) === key);
  // Table: the latest cumulative of each prefecture, with coverage where figures exist.
  const last = new Map();
  for (const x of rows) last.set(x.prefecture_code, x);
  const lastCov = new Map();
  for (const x of covRows) lastCov.set(x.prefecture_code, x);
  const tbody = document.querySelector('#by-pref tbody');
  tbody.replaceChildren();
  for (const code of [...last.keys()].sort()) {
    const c = lastCov.get(code);
    const tr = el('tr', { 'data-pref': code });
    tr.append(el('th', { scope: 'row' }, prefName(code)));
    tr.append(el('td', { 'data-col': 'cumulative' }, fmtInt(last.get(code).cumulative)));
    tr.append(el('td', { 'data-col': 'population' }, c ? fmtInt(c.population) : '—'));
    tr.append(el('td', { 'data-col': 'coverage' }, c ? fmtPct(c.coverage) : '—'));
    tbody.append(tr);
  }
  document.getElementById('table-caption').textContent = `都道府県別の累計接種件数と接種率 (${seriesLabel(key)})`;
  // Chart: coverage over time, one line per prefecture.
  const dates = [...new Set(covRows.map((x) => x.vaccinated_on))].sort();
  const byPref = new Map();
  for (const x of covRows) {
    if (!byPref.has(x.prefecture_code)) byPref.set(x.prefecture_code, new Map());
    byPref.get(x.prefecture_code).set(x.vaccinated_on, x.coverage);
  }
  const datasets = [...byPref.keys()].sort().map((code, i) => {
    let cur = null;
    const data = dates.map((d) => {
      if (byPref.get(code).has(d)) cur = byPref.get(code).get(d);
      return cur === null ? null : Number((cur * 100).toFixed(4));
    });
    return { label: prefName(code), data, borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length], spanGaps: true };
  });
  drawMap(key, lastCov);
  if (chart) chart.destroy();
  chart = new Chart(document.getElementById('chart'), {
    type: 'line',
    data: { labels: dates, datasets },
    options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { title: { display: true, text: '接種率 (%)' }, beginAtZero: true } } },
  });
}

let map;

// The map: each prefecture's latest coverage of the series, in five steps of the largest.
function drawMap(key, lastCov) {
  const max = Math.max(0, ...[...lastCov.values()].map((x) => x.coverage ?? 0));
  const step = (v) => (v === null || v === undefined || max === 0 ? -1 : Math.min(4, Math.floor((v / max) * 5)));
  const data = TILES.map(([x, y], i) => {
    const code = String(i + 1).padStart(2, '0');
    const c = lastCov.get(code);
    return { x, y, code, v: c ? c.coverage : null };
  });
  const shown = Object.fromEntries(data.filter((d) => d.v !== null).map((d) => [d.code, d.v]));
  const canvas = document.getElementById('map');
  canvas.setAttribute('data-coverage', JSON.stringify(shown));
  canvas.setAttribute('aria-label', `都道府県別の接種率の地図 (${seriesLabel(key)})。接種率のある都道府県: ${Object.keys(shown).map(prefName).join('、') || 'なし'}。数値は下の表にあります。`);
  const legend = document.getElementById('map-legend');
  legend.replaceChildren();
  for (let i = 0; i < SCALE.length; i++) {
    const li = el('li');
    li.append(el('span', { class: `swatch s${i}`, 'aria-hidden': 'true' }));
    li.append(document.createTextNode(max > 0 ? `${fmtPct((max * i) / 5)} 〜 ${fmtPct((max * (i + 1)) / 5)}` : '—'));
    legend.append(li);
  }
  const none = el('li');
  none.append(el('span', { class: 'swatch nodata', 'aria-hidden': 'true' }));
  none.append(document.createTextNode('人口の数値なし'));
  legend.append(none);
  if (map) map.destroy();
  map = new Chart(canvas, {
    type: 'matrix',
    data: {
      datasets: [
        {
          data,
          backgroundColor: (c) => (step(c.raw?.v) < 0 ? NO_DATA : SCALE[step(c.raw.v)]),
          borderColor: '#767676',
          borderWidth: 1,
          width: ({ chart }) => (chart.chartArea || {}).width / 13 - 2,
          height: ({ chart }) => (chart.chartArea || {}).height / 11 - 2,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { title: () => '', label: (c) => `${prefName(c.raw.code)}: ${fmtPct(c.raw.v)}` } },
      },
      scales: {
        x: { type: 'linear', min: -0.5, max: 12.5, display: false, offset: false },
        y: { type: 'linear', min: -0.5, max: 10.5, reverse: true, display: false, offset: false },
      },
    },
  });
}

async function main() {
  const idxRes = await fetch(API);
  if (!idxRes.ok) throw new Error(`index: ${idxRes.status}`);
  const idx = await idxRes.json();
  const asOf = idx.items.map((x) => x.as_of).sort().at(-1);
  document.getElementById('as-of').textContent = `集計時点: ${asOf ?? '—'}`;
  document.getElementById('as-of').setAttribute('data-as-of', asOf ?? '');
  const ul = document.getElementById('downloads');
  for (const d of idx.items) {
    for (const f of d.downloads) {
      const li = el('li');
      const label = `${d.title} (${f.format.toUpperCase()}${f.format === 'csv' ? `, ${f.charset === 'shift_jis' ? 'Shift_JIS' : 'UTF-8'}` : ''})`;
      li.append(el('a', { href: f.url, download: '' }, label));
      ul.append(li);
    }
  }
  const [pref, cov] = await Promise.all([ndjson('vaccinations-by-prefecture'), ndjson('coverage-by-prefecture')]);
  const keys = [...new Set(pref.map(seriesKey))].sort();
  const sel = document.getElementById('series');
  for (const k of keys) sel.append(el('option', { value: k }, seriesLabel(k)));
  const wanted = new URLSearchParams(location.search).get('series');
  if (wanted && keys.includes(wanted)) sel.value = wanted;
  sel.addEventListener('change', () => {
    draw(sel.value, pref, cov);
  });
  if (keys.length > 0) draw(sel.value, pref, cov);
  document.body.setAttribute('data-ready', '1');
}

main().catch((e) => {
  document.getElementById('as-of').textContent = `データを読み込めませんでした (${e.message})`;
  document.body.setAttribute('data-ready', 'error');
});
