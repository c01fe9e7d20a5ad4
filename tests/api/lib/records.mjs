// records.mjs - fixtures of the records tests: a municipality and a medical institution with
// sessions, persons with valid 個人番号, and master rows the shipped reference data lacks
// (registered through the master API by the organisations that may).
import { randomInt } from 'node:crypto';
import { orgWithAdmin, suffix } from './fixtures.mjs';
import { call, ok } from './http.mjs';
import { today, addYears } from './dates.mjs';

// 個人番号 with its check digit (docs/domain.md §2).
export function myNumber() {
  let s = '';
  for (let i = 0; i < 11; i++) s += String(randomInt(10));
  const w = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
  let sum = 0;
  for (let i = 0; i < 11; i++) sum += Number(s[i]) * w[i];
  const r = sum % 11;
  return s + String(r <= 1 ? 0 : 11 - r);
}

export async function municipality() {
  const m = await orgWithAdmin('municipality');
  return { session: m.adminSession, code: m.code };
}

// A medical institution whose code is in the institution master: its admin registers the
// organisation's own row through the master API (the edit right of an institution).
export async function institution(extra = {}) {
  const m = await orgWithAdmin('medical_institution', extra);
  const code = m.code;
  await ok('registerMasterRow', 201, {
    token: m.adminSession.access,
    params: { master: 'institutions' },
    json: {
      code,
      name: `試験医院 ${code}`,
      name_kana: 'シケンイイン',
      kind: 'insurance',
      prefecture_code: code.slice(0, 2),
      address: '試験県試験市1-1',
      valid_from: '2020-01-01',
    },
  });
  return { session: m.adminSession, code };
}

// Lots the reference data lacks (live varicella, 9-valent HPV), registered by the ministry
// through the master API; 409 when an earlier run of this stack registered them.
export async function ensureLots() {
  const mhlw = (await orgWithAdmin('mhlw')).adminSession;
  for (const [vaccine_code, lot_no] of [['631301601', 'VZ001'], ['631301901', 'HPV9-1']]) {
    const r = await call('registerMasterRow', {
      token: mhlw.access,
      params: { master: 'lots' },
      json: { vaccine_code, lot_no, expiry_on: addYears(today(), 3), certified_on: '2025-01-01', valid_from: '2024-04-01' },
    });
    if (r.status !== 201 && r.status !== 409) throw new Error(`lot ${lot_no}: ${r.status} ${r.text}`);
  }
}

// A lot of the product in use around today (certified a year ago, expiring in three): for doses
// dated from today, whatever today is. The shipped lots are the FY2026 ones and expire.
const currentLots = new Map();
export async function currentLot(vaccine_code) {
  if (currentLots.has(vaccine_code)) return currentLots.get(vaccine_code);
  const mhlw = (await orgWithAdmin('mhlw')).adminSession;
  const lot_no = `C${suffix(6).toUpperCase()}`;
  const r = await call('registerMasterRow', {
    token: mhlw.access,
    params: { master: 'lots' },
    json: { vaccine_code, lot_no, expiry_on: addYears(today(), 3), certified_on: addYears(today(), -1), valid_from: addYears(today(), -1) },
  });
  if (r.status !== 201) throw new Error(`lot ${lot_no}: ${r.status} ${r.text}`);
  currentLots.set(vaccine_code, lot_no);
  return lot_no;
}

export async function person(muni, extra = {}) {
  const body = {
    resident_no: `R${suffix(6)}`,
    name: '接種 太郎',
    name_kana: 'セッシュ タロウ',
    birth_date: '2026-06-01',
    sex: '1',
    address: '東京都渋谷区神南1-1-1',
    my_number: myNumber(),
    ...extra,
  };
  const p = await ok('createPerson', 201, { token: muni.session.access, json: body });
  return { ...p, my_number: body.my_number };
}

export function doseBody(personId, extra = {}) {
  return {
    person_id: personId,
    vaccinated_on: '2026-08-01',
    vaccine_code: '631300101',
    dose_number: 1,
    lot_no: 'GB001A',
    institution_code: '1311012346',
    doctor_name: '医師 花子',
    dose_ml: 0.5,
    site: '左上腕',
    category: 'routine',
    ...extra,
  };
}

// A master institution in the given prefecture (an institution of that prefecture registers it).
export async function masterInstitution(pref) {
  const { medicalCode } = await import('./codes.mjs');
  return (await institution({ code: medicalCode('1', pref) })).code;
}
