// zengin.mjs - the Zengin bank and branch codes of the npm package `zengin-code` (全銀協's list,
// with kana names) as the master import files of `banks` and `bank_branches`
// (proto-schemas/master-files.md). The package writes kana full-width (ミズホ, ユ－エフジエイ);
// the master keeps the half-width kana of the Zengin files (ﾐｽﾞﾎ), so `hankaku()` converts:
// katakana to JIS X 0201 kana (a voiced or semi-voiced kana becomes two characters, ガ → ｶﾞ),
// full-width letters, digits and the symbols the master allows to ASCII, the long-vowel mark
// and dashes to `-`. Anything else throws, naming the character: the package changed and the
// table below needs a look. Names (漢字) are kept as the package has them (みずほ, without 銀行,
// as the 全銀協 list writes them).
//
//   node scripts/reference/zengin.mjs OUTDIR   writes OUTDIR/banks.csv and OUTDIR/bank_branches.csv
//                                             (UTF-8, LF) and prints the counts as JSON
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const KANA = 'ァアィイゥウェエォオカキクケコサシスセソタチッツテトナニヌネノハヒフヘホマミムメモャヤュユョヨラリルレロワヲンー';
const HALF = 'ｧｱｨｲｩｳｪｴｫｵｶｷｸｹｺｻｼｽｾｿﾀﾁｯﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓｬﾔｭﾕｮﾖﾗﾘﾙﾚﾛﾜｦﾝ-';
const VOICED = 'ガギグゲゴザジズゼゾダヂヅデドバビブベボ';
const VOICED_BASE = 'ｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾊﾋﾌﾍﾎ';
const SEMI = 'パピプペポ';
const SEMI_BASE = 'ﾊﾋﾌﾍﾎ';
// Full-width ASCII the Zengin set allows (letters, digits, space and ( ) - . /) and the dashes.
const SYMBOLS = { '　': ' ', '（': '(', '）': ')', '－': '-', '‐': '-', '−': '-', '．': '.', '／': '/' };

const table = new Map();
[...KANA].forEach((k, i) => table.set(k, HALF[i]));
[...VOICED].forEach((k, i) => table.set(k, VOICED_BASE[i] + 'ﾞ'));
[...SEMI].forEach((k, i) => table.set(k, SEMI_BASE[i] + 'ﾟ'));
table.set('ヴ', 'ｳﾞ');
for (const [k, v] of Object.entries(SYMBOLS)) table.set(k, v);

/** Full-width kana as the 全銀協 list writes them → the master's half-width Zengin kana. */
export function hankaku(s) {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (table.has(ch)) out += table.get(ch);
    else if (cp >= 0xff21 && cp <= 0xff3a) out += String.fromCodePoint(cp - 0xfee0); // Ａ–Ｚ
    else if (cp >= 0xff10 && cp <= 0xff19) out += String.fromCodePoint(cp - 0xfee0); // ０–９
    else if (/^[A-Z0-9 ().\-/]$/.test(ch)) out += ch;
    else throw new Error(`no Zengin half-width form for ${JSON.stringify(ch)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}) in ${JSON.stringify(s)}`);
  }
  return out.trim();
}

function csvField(v) {
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

function csv(header, rows) {
  return [header.join(','), ...rows.map((r) => header.map((h) => csvField(r[h])).join(','))].join('\n') + '\n';
}

/** data: the package's export ({code: {code, name, kana, branches: {code: {code, name, kana}}}}).
 *  Answers {banks, branches}: rows in key order, the columns of master-files.md. */
export function masterRows(data) {
  const banks = [];
  const branches = [];
  for (const code of Object.keys(data).sort()) {
    const b = data[code];
    banks.push({ code: b.code, name: b.name, name_kana: hankaku(b.kana) });
    for (const bc of Object.keys(b.branches).sort()) {
      const br = b.branches[bc];
      branches.push({ bank_code: b.code, code: br.code, name: br.name, name_kana: hankaku(br.kana) });
    }
  }
  return { banks, branches };
}

/** The two import files (UTF-8 CSV, header first). */
export function masterCsv(data) {
  const { banks, branches } = masterRows(data);
  return {
    banks: csv(['code', 'name', 'name_kana'], banks),
    bank_branches: csv(['bank_code', 'code', 'name', 'name_kana'], branches),
    counts: { banks: banks.length, bank_branches: branches.length },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outdir = process.argv[2];
  if (!outdir) {
    console.error('usage: node zengin.mjs OUTDIR');
    process.exit(2);
  }
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const files = masterCsv(require('zengin-code'));
  writeFileSync(join(outdir, 'banks.csv'), files.banks);
  writeFileSync(join(outdir, 'bank_branches.csv'), files.bank_branches);
  const version = require('zengin-code/package.json').version;
  console.log(JSON.stringify({ package: `zengin-code ${version}`, ...files.counts }));
}
