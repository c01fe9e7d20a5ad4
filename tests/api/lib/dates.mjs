// dates.mjs - "today" and date arithmetic in Japan time, the calendar every service uses.
// Tests derive every date that is compared with the clock from these, so the suite passes on
// any calendar date (run it under faketime to see: README "Tests on any date").

const JST_MS = 9 * 3600 * 1000;

// Today's date in Asia/Tokyo, YYYY-MM-DD.
export function today() {
  return new Date(Date.now() + JST_MS).toISOString().slice(0, 10);
}

// DATE plus N days (N may be negative).
export function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// DATE plus N calendar months; a day past the target month's end becomes its last day.
export function addMonths(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + n);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d.toISOString().slice(0, 10);
}

export function addYears(date, n) {
  return addMonths(date, 12 * n);
}

// The first day of the Japanese fiscal year (April to March) that holds DATE, shifted by N years.
export function fiscalYearStart(date = today(), n = 0) {
  const y = Number(date.slice(0, 4)) - (Number(date.slice(5, 7)) < 4 ? 1 : 0) + n;
  return `${y}-04-01`;
}

// The first day of DATE's month, shifted by N months.
export function monthStart(date = today(), n = 0) {
  return addMonths(`${date.slice(0, 7)}-01`, n);
}
