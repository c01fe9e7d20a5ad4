// records.mjs - fixtures of the records tests: a municipality and a medical institution with
// sessions, persons with valid 個人番号, and master rows the shipped reference data lacks.
import { randomInt } from 'node:crypto';
import { orgWithAdmin, suffix } from './fixtures.mjs';
import { ok } from './http.mjs';
import { psql, lit } from './sql.mjs';

// 個人番号 with its check digit (DOMAIN.md 1.5).
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

// An institution whose code is in the institution master. Test setup through SQL until the
// master API registers institutions (the shipped reference data has a handful, all taken).
export async function institution() {
  const m = await orgWithAdmin('medical_institution');
  const code = m.code;
  await psql(
    `INSERT INTO master.institutions (code, name, name_kana, kind, prefecture_code, address, valid_from, source) ` +
      `VALUES (${lit(code)}, ${lit('試験医院 ' + code)}, 'シケンイイン', 'insurance', ${lit(code.slice(0, 2))}, '試験県', '2020-01-01', 'ONSHI')`,
  );
  return { session: m.adminSession, code };
}

// Lots the reference data lacks (live varicella, 9-valent HPV), once per stack.
export async function ensureLots() {
  await psql(
    `INSERT INTO master.lots (vaccine_code, lot_no, expiry_on, certified_on, valid_from, source) ` +
      `SELECT v, l, '2027-12-31', '2025-01-01', '2024-04-01', 'MHLW' FROM (VALUES ('631301601', 'VZ001'), ('631301901', 'HPV9-1')) AS t(v, l) ` +
      `WHERE NOT EXISTS (SELECT 1 FROM master.lots x WHERE x.vaccine_code = t.v AND x.lot_no = t.l)`,
  );
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

// A master institution in the given prefecture (test setup through SQL, as institution()).
export async function masterInstitution(pref) {
  const { medicalCode } = await import('./codes.mjs');
  const code = medicalCode('1', pref);
  await psql(
    `INSERT INTO master.institutions (code, name, name_kana, kind, prefecture_code, address, valid_from, source) ` +
      `VALUES (${lit(code)}, ${lit('試験病院 ' + code)}, 'シケンビョウイン', 'insurance', ${lit(pref)}, '試験県', '2020-01-01', 'ONSHI')`,
  );
  return code;
}
