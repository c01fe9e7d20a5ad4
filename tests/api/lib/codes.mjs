// codes.mjs - organisation codes that pass (or just miss) their check digits, docs/domain.md §2:
// 全国地方公共団体コード (JIS X 0402), 医療機関コード (Luhn, digit 3 ∈ {1,3,4}), the
// non-insurance pseudo-code (digit 3 = 9, same Luhn), the 国保連 prefecture code.
import { randomInt, randomBytes } from 'node:crypto';

function digits(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += String(randomInt(10));
  return s;
}

export function prefecture() {
  return String(randomInt(1, 48)).padStart(2, '0');
}

export function municipalityCheckDigit(five) {
  const w = [6, 5, 4, 3, 2];
  let sum = 0;
  for (let i = 0; i < 5; i++) sum += Number(five[i]) * w[i];
  return String((11 - (sum % 11)) % 10);
}

export function luhnCheckDigit(s) {
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    let d = Number(s[s.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

function otherDigit(d) {
  return String((Number(d) + 1 + randomInt(9)) % 10);
}

// 6 digits: prefecture + 3 (100-999, so never a prefecture's own PP000 code) + CD.
export function municipalityCode(pref = prefecture()) {
  const five = pref + String(randomInt(100, 1000));
  return five + municipalityCheckDigit(five);
}

// 10 digits: prefecture + 点数表 (1 医科, 3 歯科, 4 調剤) + 郡市区 2 + 機関番号 4 + Luhn.
export function medicalCode(kind = ['1', '3', '4'][randomInt(3)], pref = prefecture()) {
  const nine = pref + kind + digits(6);
  return nine + luhnCheckDigit(nine);
}

// The non-insurance pseudo-code range: digit 3 = 9, same Luhn digit.
export function nonInsuranceCode(pref = prefecture()) {
  return medicalCode('9', pref);
}

// Same code with a wrong last (check) digit.
export function withWrongCheckDigit(code) {
  return code.slice(0, -1) + otherDigit(code.at(-1));
}

// Free-form codes (chuokai, mhlw, operator): 1-16 of [A-Z0-9-].
export function freeCode(prefix = 'T') {
  return `${prefix}-${randomBytes(6).toString('hex').toUpperCase()}`.slice(0, 16);
}

// A valid code for an organisation type; `attempt` varies kokuhoren over the 47 prefectures.
export function codeFor(type, attempt = 0) {
  switch (type) {
    case 'municipality':
      return municipalityCode();
    case 'medical_institution':
      return medicalCode();
    case 'non_insurance_medical_institution':
      return nonInsuranceCode();
    case 'kokuhoren':
      return kokuhorenOrder()[attempt % 47];
    default:
      return freeCode(type === 'mhlw' ? 'MHLW' : type === 'operator' ? 'OPS' : 'CK');
  }
}

let order;
function kokuhorenOrder() {
  if (!order) {
    order = Array.from({ length: 47 }, (_, i) => String(i + 1).padStart(2, '0'));
    for (let i = order.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
  }
  return order;
}

// The prefecture a code implies (what we send as prefecture_code), or undefined.
export function prefectureOf(type, code) {
  if (type === 'kokuhoren') return code;
  if (['municipality', 'medical_institution', 'non_insurance_medical_institution'].includes(type)) return code.slice(0, 2);
  return undefined;
}
