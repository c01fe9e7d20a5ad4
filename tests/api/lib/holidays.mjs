// holidays.mjs - the Japanese public-holiday calendar from the npm package @holiday-jp/holiday_jp
// (a maintained source: every 祝日, 振替休日 and 国民の休日 as the Cabinet Office publishes them),
// imported year by year through PUT /api/v1/claims/holidays/:year by an admin of the operator
// or the 国保中央会. Operators refresh it the same way after updating the package.
import { createRequire } from 'node:module';
import { ok } from './http.mjs';

const require = createRequire(import.meta.url);
const all = require('@holiday-jp/holiday_jp/lib/holidays.js');
export const SOURCE = `npm @holiday-jp/holiday_jp ${require('@holiday-jp/holiday_jp/package.json').version}`;

export function holidaysOf(year) {
  return Object.values(all)
    .filter((h) => h.date.startsWith(`${year}-`))
    .map((h) => ({ date: h.date, name: h.name }))
    .sort((a, b) => a.date.localeCompare(b.date));
}

export function isHoliday(date) {
  return all[date] !== undefined;
}

export async function importHolidays(token, years) {
  for (const y of years) {
    await ok('putHolidayYear', 200, { token, params: { year: String(y) }, json: { source: SOURCE, days: holidaysOf(y) } });
  }
}
