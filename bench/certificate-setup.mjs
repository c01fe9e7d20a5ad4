// certificate-setup.mjs - data for bench/certificate.sh, made through the API of the bench's
// own stack: a municipality (its admin session), N residents with one MR dose each (records
// API), a portal client and a vaccinee token per resident (RFC 8693 exchange), and one paper
// certificate per resident (for the PDF run). Prints one JSON line: the staff token, the person
// ids, the vaccinee tokens, the certificate ids, one certificate with its card (the PDF bound)
// and that card's payload (the signing bound).
// Usage: node bench/certificate-setup.mjs PERSONS   (SESSHU_TEST_* from certificate.sh)
import { inflateRawSync } from 'node:zlib';
import { request } from '../tests/api/lib/http.mjs';
import { municipality, person, portal, vaccineeToken } from '../tests/api/lib/vaccinee.mjs';

const n = Number(process.argv[2] ?? 32);
const muni = await municipality();
const p = await portal();
const persons = [];
const tokens = [];
const certs = [];
let sample;
for (let i = 0; i < n; i++) {
  const q = await person(muni, { name: `証明 ${String(i).padStart(4, '0')}`, birth_date: '2025-06-01', address: '東京都渋谷区神南1-1-1' });
  const d = await request('POST', '/api/v1/immunizations', {
    token: muni.access,
    json: {
      person_id: q.id, vaccinated_on: '2026-06-15', vaccine_code: '631300601', dose_number: 1, lot_no: 'MR123',
      institution_code: '1311012346', doctor_name: '医師 花子', dose_ml: 0.5, site: '左上腕', category: 'routine',
    },
  });
  if (d.status !== 201) throw new Error(`dose: ${d.status} ${d.text.slice(0, 300)}`);
  const c = await request('POST', '/api/v1/certificates', {
    token: muni.access, json: { person_id: q.id, identity_check: { method: 'my_number_card' } },
  });
  if (c.status !== 201) throw new Error(`certificate: ${c.status} ${c.text.slice(0, 300)}`);
  persons.push(q.id);
  certs.push(c.body.id);
  tokens.push(await vaccineeToken(p, q));
  sample ??= c.body;
}
const payload = inflateRawSync(Buffer.from(sample.jws.split('.')[1], 'base64url')).toString('utf8');
console.log(JSON.stringify({ staff: muni.access, persons, tokens, certs, sample, payload }));
