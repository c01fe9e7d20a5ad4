// certificate.test.mjs - certificates (H-5) through the gateway: a vaccinee token issues a
// SMART Health Card for itself and its minor child (H-5-1), municipality staff issue on paper
// for their residents (H-5-2), the issuance log (H-5-4), verification, and a correction that
// supersedes the card (its rid on the key's revocation list), a person correction (name, birth
// date) that supersedes the cards printed with the old values, staff revocation, and H-5-3
// (records entered from paper, then issued in the same sitting, marked as from paper). Every card is checked by an
// independent verifier written from the spec (lib/shc.mjs: jose + zlib.inflateRawSync), the
// QR read back by zbarimg, the PDF by pdftotext/pdffonts (poppler); answers against
// proto-schemas/certificate.yaml.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request, call } from './lib/http.mjs';
import { expectContract } from './lib/contract.mjs';
import { expectProblem } from './lib/problem.mjs';
import { BASE } from './lib/env.mjs';
import { municipality, person, portal, linkGuardian, immunization, vaccineeToken, dateYearsAgo } from './lib/vaccinee.mjs';
import { verifyCard, shcToJws, issuerKeys } from './lib/shc.mjs';
import { orgWithAdmin } from './lib/fixtures.mjs';

const ISSUER = `${BASE}/shc`;
const have = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
};
const tmp = mkdtempSync(path.join(tmpdir(), 'sesshu-cert-'));

let muni, otherMuni, parent, child, adultChild, stranger, p, tok, otherTok, childDose, parentDose, voidedDose;

before(async () => {
  muni = await municipality();
  otherMuni = await municipality();
  parent = await person(muni, { name: '証明 花子' });
  child = await person(muni, { name: '証明 陽太', birth_date: '2025-06-01', sex: '1' });
  adultChild = await person(muni, { birth_date: dateYearsAgo(20) });
  stranger = await person(otherMuni);
  await linkGuardian(muni, child, parent);
  await linkGuardian(muni, adultChild, parent);
  parentDose = await immunization(parent, muni.org.code, { vaccine_code: '182110901', disease_codes: ['covid19'], vaccinated_on: dateYearsAgo(1) });
  voidedDose = await immunization(parent, muni.org.code, { vaccinated_on: dateYearsAgo(2), status: 'voided' });
  await immunization(stranger, otherMuni.org.code, {});
  // The child's dose through the records API, so that it can be corrected through it too.
  const r = await request('POST', '/api/v1/immunizations', {
    token: muni.access,
    json: {
      person_id: child.id, vaccinated_on: '2026-06-15', vaccine_code: '631300601', dose_number: 1, lot_no: 'MR123',
      institution_code: '1311012346', doctor_name: '医師 花子', dose_ml: 0.5, site: '左上腕', category: 'routine',
    },
  });
  assert.equal(r.status, 201, r.text);
  childDose = r.body;
  p = await portal();
  tok = await vaccineeToken(p, parent);
  otherTok = await vaccineeToken(p, stranger);
});

async function issueSelf(json = {}, token = tok, headers = {}) {
  return request('POST', '/api/v1/certificates/self', { token, json, headers });
}

test('the issuer key set: CORS open, thumbprint kids, not the session keys', async () => {
  const r = await issuerKeys(ISSUER);
  expectContract(r, 'getShcJwks');
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  assert.ok(r.body.keys.length >= 1);
  for (const k of r.body.keys) {
    assert.equal(k.kty, 'EC');
    assert.equal(k.crv, 'P-256');
    assert.equal(k.alg, 'ES256');
    assert.equal(k.use, 'sig');
    assert.ok(!('d' in k), 'no private part');
  }
  const sessions = await request('GET', '/.well-known/jwks.json');
  const sessionKids = new Set(sessions.body.keys.map((k) => k.kid));
  for (const k of r.body.keys) assert.ok(!sessionKids.has(k.kid), 'the card key is not a session key');
});

test('H-5-1: a vaccinee issues its own card; an independent verifier accepts it', async () => {
  const r = await issueSelf();
  assert.equal(r.status, 201, r.text);
  expectContract(r, 'issueSelfCertificate');
  assert.equal(r.body.channel, 'portal');
  assert.equal(r.body.status, 'valid');
  assert.equal(r.body.person_id, parent.id);
  assert.match(r.body.certificate_no, /^[0-9]{16}$/);
  assert.deepEqual(r.body.records, [{ id: parentDose.id, version: 1 }], 'the voided record is not certified');
  const { bundle, header } = await verifyCard(r.body.jws, ISSUER);
  assert.equal(header.kid, r.body.kid);
  const patient = bundle.entry[0].resource;
  assert.equal(patient.birthDate, parent.birth_date);
  assert.equal(patient.name[0].family, '証明');
  assert.deepEqual(patient.name[0].given, ['花子']);
  assert.equal(bundle.entry.length, 2);
  const imm = bundle.entry[1].resource;
  assert.equal(imm.vaccineCode.coding[0].code, '182110901');
  assert.equal(imm.vaccineCode.coding[0].system, 'urn:oid:1.2.392.200119.4.403.1');
  assert.equal(imm.occurrenceDateTime, parentDose.vaccinated_on);
  assert.equal(imm.lotNumber, parentDose.lot_no);
  assert.ok(!r.text.includes(parent.my_number), 'the 個人番号 is never in a certificate');
});

test('H-5-1: a minor child of the token, not an adult child, another family or a staff token', async () => {
  const c = await issueSelf({ person_id: child.id });
  assert.equal(c.status, 201, c.text);
  const { bundle } = await verifyCard(c.body.jws, ISSUER);
  assert.equal(bundle.entry[0].resource.birthDate, '2025-06-01');
  assert.equal(bundle.entry[1].resource.lotNumber, 'MR123');
  assert.equal(bundle.entry[1].resource.protocolApplied[0].doseNumberPositiveInt, 1);
  for (const id of [adultChild.id, stranger.id, '00000000-0000-4000-8000-000000000000']) {
    const r = await issueSelf({ person_id: id });
    expectProblem(r, 404, 'not-found');
    expectContract(r, 'issueSelfCertificate');
  }
  const staff = await issueSelf({}, muni.access);
  expectProblem(staff, 403, 'forbidden');
});

test('the .smart-health-card file and the QR (zbarimg reads the shc:/ numeric text back)', async () => {
  const c = await issueSelf();
  assert.equal(c.status, 201, c.text);
  const f = await request('GET', `/api/v1/certificates/${c.body.id}/shc`, { token: tok });
  assert.equal(f.status, 200, f.text);
  assert.equal(f.headers.get('content-type'), 'application/smart-health-card');
  assert.deepEqual(JSON.parse(f.text), { verifiableCredential: [c.body.jws] });
  const svg = await request('GET', `/api/v1/certificates/${c.body.id}/qr`, { token: tok, query: { format: 'svg' } });
  assert.equal(svg.status, 200);
  assert.match(svg.headers.get('content-type'), /^image\/svg\+xml/);
  assert.match(svg.text, /<svg /);
  const png = await request('GET', `/api/v1/certificates/${c.body.id}/qr`, { token: tok });
  assert.equal(png.status, 200);
  assert.equal(png.headers.get('content-type'), 'image/png');
  assert.equal(png.raw.subarray(1, 4).toString('latin1'), 'PNG');
  const bad = await request('GET', `/api/v1/certificates/${c.body.id}/qr`, { token: tok, query: { format: 'gif' } });
  expectProblem(bad, 422, 'validation-failed');
  if (!have('zbarimg')) return;
  const file = path.join(tmp, 'qr.png');
  writeFileSync(file, png.raw);
  const text = execFileSync('zbarimg', ['--raw', '-q', file]).toString('utf8').trim();
  assert.equal(shcToJws(text), c.body.jws);
  const v = await request('POST', '/api/v1/certificates/verify', { json: { credential: text } });
  assert.equal(v.body.result, 'valid', v.text);
});

test('verify: valid with the decoded doses; tampered, foreign and malformed cards are invalid', async () => {
  const c = await issueSelf({ person_id: child.id });
  const ok1 = await request('POST', '/api/v1/certificates/verify', { json: { credential: c.body.jws } });
  assert.equal(ok1.status, 200, ok1.text);
  expectContract(ok1, 'verifyCertificate');
  assert.equal(ok1.body.result, 'valid');
  assert.equal(ok1.body.patient.name, '証明 陽太');
  assert.equal(ok1.body.patient.birth_date, '2025-06-01');
  assert.deepEqual(ok1.body.doses.map((d) => [d.vaccinated_on, d.vaccine_code, d.lot_no]), [['2026-06-15', '631300601', 'MR123']]);
  assert.ok(!('certificate_no' in ok1.body) && !('person_id' in ok1.body), 'nothing the card does not hold');
  const file = await request('POST', '/api/v1/certificates/verify', { json: { verifiableCredential: [c.body.jws] } });
  assert.equal(file.body.result, 'valid');
  const [h, pl, s] = c.body.jws.split('.');
  const flipped = `${h}.${pl}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
  const cases = [
    [flipped, 'bad-signature'],
    ['not.a.card', 'malformed'],
    ['abc', 'malformed'],
    [`${Buffer.from('{"alg":"ES256","zip":"DEF","kid":"nope"}').toString('base64url')}.${pl}.${s}`, 'unknown-key'],
    [`${Buffer.from('{"alg":"HS256","kid":"x"}').toString('base64url')}.${pl}.${s}`, 'unsupported-header'],
    ['shc:/5676', 'bad-signature'],
    ['shc:/2/2/1234', 'malformed-qr'],
  ];
  for (const [credential, why] of cases) {
    const r = await request('POST', '/api/v1/certificates/verify', { json: { credential } });
    assert.equal(r.status, 200, r.text);
    expectContract(r, 'verifyCertificate');
    assert.equal(r.body.result, 'invalid', credential);
    if (why !== 'bad-signature' || credential === flipped) assert.equal(r.body.reason, why, credential);
    assert.equal(r.body.patient, undefined, 'an invalid card reveals nothing');
  }
});

test('verify: bad inputs get problem+json', async () => {
  const cases = [
    [{ body: '{"credential": ', contentType: 'application/json' }, 400],
    [{ body: 'x', contentType: 'text/plain' }, 415],
    [{ json: {} }, 422],
    [{ json: { credential: 'a', verifiableCredential: ['b'] } }, 422],
    [{ json: { credential: 5 } }, 422],
    [{ json: { verifiableCredential: ['a', 'b'] } }, 422],
    [{ json: { credential: 'x', extra: true } }, 422],
    [{ json: { credential: 'x'.repeat(20000) } }, 422],
  ];
  for (const [opts, status] of cases) {
    const r = await request('POST', '/api/v1/certificates/verify', opts);
    assert.equal(r.status, status, `${JSON.stringify(opts).slice(0, 80)}: ${r.text}`);
    expectContract(r, 'verifyCertificate');
  }
});

test('H-5-2: staff issue on paper for their resident; identity check required; others are 404', async () => {
  const body = { person_id: child.id, identity_check: { method: 'my_number_card', applicant: 'guardian' } };
  const r = await request('POST', '/api/v1/certificates', { token: muni.access, json: body });
  assert.equal(r.status, 201, r.text);
  expectContract(r, 'issueCertificate');
  assert.equal(r.body.channel, 'paper');
  assert.equal(r.body.issued_by.kind, 'user');
  assert.equal(r.body.identity_check.method, 'my_number_card');
  assert.equal(r.body.doses[0].vaccine_name, 'ミールビック');
  assert.equal(r.body.doses[0].manufacturer, '阪大微生物病研究会');
  await verifyCard(r.body.jws, ISSUER);
  const other = await request('POST', '/api/v1/certificates', { token: otherMuni.access, json: body });
  expectProblem(other, 404, 'not-found');
  const strangers = await request('POST', '/api/v1/certificates', { token: muni.access, json: { ...body, person_id: stranger.id } });
  expectProblem(strangers, 404, 'not-found');
  const bad = [
    { person_id: child.id },
    { ...body, identity_check: { method: 'telepathy' } },
    { ...body, identity_check: { method: 'passport', x: 1 } },
    { ...body, person_id: 'x' },
    { ...body, immunization_ids: [voidedDose.id] },
    { ...body, immunization_ids: ['nope'] },
    { ...body, kind: 'other' },
    { ...body, reissue_of: '00000000-0000-4000-8000-000000000000' },
    { ...body, name: "'; DROP TABLE certificate.certificates; --" },
  ];
  for (const json of bad) {
    const x = await request('POST', '/api/v1/certificates', { token: muni.access, json });
    assert.equal(x.status, 422, `${JSON.stringify(json)}: ${x.text}`);
    expectContract(x, 'issueCertificate');
  }
  const vac = await request('POST', '/api/v1/certificates', { token: tok, json: body });
  expectProblem(vac, 403, 'forbidden');
  const anon = await request('POST', '/api/v1/certificates', { json: body });
  expectProblem(anon, 401, 'unauthorized');
});

test('issuance is idempotent under Idempotency-Key; without one a re-issue is a new certificate', async () => {
  const body = { person_id: child.id, identity_check: { method: 'passport' } };
  const headers = { 'Idempotency-Key': `cert-${Date.now()}` };
  const a = await request('POST', '/api/v1/certificates', { token: muni.access, json: body, headers });
  const b = await request('POST', '/api/v1/certificates', { token: muni.access, json: body, headers });
  assert.equal(a.status, 201, a.text);
  assert.equal(b.status, 201, b.text);
  assert.equal(b.body.id, a.body.id);
  const c = await request('POST', '/api/v1/certificates', { token: muni.access, json: { ...body, reissue_of: a.body.id } });
  assert.equal(c.status, 201, c.text);
  assert.notEqual(c.body.id, a.body.id);
  assert.equal(c.body.reissue_of, a.body.id);
});

test('H-5-4: the log for staff (own residents, paging, CSV) and for the vaccinee (own family)', async () => {
  const list = await request('GET', '/api/v1/certificates', { token: muni.access, query: { person_id: child.id, limit: 1 } });
  assert.equal(list.status, 200, list.text);
  expectContract(list, 'listCertificates');
  assert.equal(list.body.items.length, 1);
  assert.ok(list.body.next_cursor);
  const page2 = await request('GET', '/api/v1/certificates', { token: muni.access, query: { person_id: child.id, limit: 1, cursor: list.body.next_cursor } });
  assert.equal(page2.status, 200, page2.text);
  assert.notEqual(page2.body.items[0].id, list.body.items[0].id);
  const all = await request('GET', '/api/v1/certificates', { token: muni.access, query: { person_id: child.id, limit: 200 } });
  const channels = new Set(all.body.items.map((c) => c.channel));
  assert.deepEqual([...channels].sort(), ['paper', 'portal'], 'portal and paper issues of the resident');
  const paper = await request('GET', '/api/v1/certificates', { token: muni.access, query: { channel: 'paper', status: 'valid' } });
  assert.ok(paper.body.items.every((c) => c.channel === 'paper' && c.status === 'valid'));
  const csv = await request('GET', '/api/v1/certificates', { token: muni.access, query: { person_id: child.id, format: 'csv' } });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  assert.match(csv.text.split('\r\n')[0], /^certificate_no,issued_at,status/);
  assert.ok(csv.text.includes('証明 陽太'));
  const theirs = await request('GET', '/api/v1/certificates', { token: otherMuni.access, query: { person_id: child.id } });
  assert.equal(theirs.status, 200);
  assert.equal(theirs.body.items.length, 0, "another municipality does not see this resident's log");
  const one = await request('GET', `/api/v1/certificates/${list.body.items[0].id}`, { token: otherMuni.access });
  expectProblem(one, 404, 'not-found');
  const mine = await request('GET', '/api/v1/certificates/self', { token: tok });
  assert.equal(mine.status, 200, mine.text);
  expectContract(mine, 'listSelfCertificates');
  const persons = new Set(mine.body.items.map((c) => c.person_id));
  assert.ok(persons.has(parent.id) && persons.has(child.id));
  assert.ok(mine.body.items.every((c) => !('identity_check' in c)));
  const notMine = await request('GET', `/api/v1/certificates/${mine.body.items[0].id}`, { token: otherTok });
  expectProblem(notMine, 404, 'not-found');
  const strangerLog = await request('GET', '/api/v1/certificates/self', { token: otherTok });
  assert.ok(strangerLog.body.items.every((c) => c.person_id === stranger.id));
  for (const query of [{ status: 'x' }, { channel: 'fax' }, { issued_from: '2026-13-01' }, { person_id: 'x' }, { limit: 0 }, { cursor: '!!' }, { bogus: 1 }, { format: 'xml' }]) {
    const x = await request('GET', '/api/v1/certificates', { token: muni.access, query });
    assert.equal(x.status, 422, `${JSON.stringify(query)}: ${x.text}`);
    expectContract(x, 'listCertificates');
  }
  const vacStaff = await request('GET', '/api/v1/certificates', { token: tok });
  expectProblem(vacStaff, 403, 'forbidden');
  for (const id of ['x', '00000000-0000-4000-8000-000000000000']) {
    const x = await request('GET', `/api/v1/certificates/${id}`, { token: muni.access });
    expectProblem(x, 404, 'not-found');
  }
});

test('a correction supersedes every card carrying the old version; its rid goes on the CRL', async () => {
  const old = await issueSelf({ person_id: child.id });
  assert.equal(old.status, 201, old.text);
  const fix = await request('POST', `/api/v1/immunizations/${childDose.id}/corrections`, {
    token: muni.access,
    json: { version: childDose.version, reason: 'ロット番号の誤入力', vaccinated_on: '2026-06-16' },
  });
  assert.equal(fix.status, 200, fix.text);
  const v = await request('POST', '/api/v1/certificates/verify', { json: { credential: old.body.jws } });
  assert.equal(v.body.result, 'superseded', v.text);
  assert.equal(v.body.reason, 'record-corrected');
  const fresh = await issueSelf({ person_id: child.id, reissue_of: old.body.id });
  assert.equal(fresh.status, 201, fresh.text);
  assert.deepEqual(fresh.body.records, [{ id: childDose.id, version: 2 }]);
  const v2 = await request('POST', '/api/v1/certificates/verify', { json: { credential: fresh.body.jws } });
  assert.equal(v2.body.result, 'valid', v2.text);
  assert.equal(v2.body.doses[0].vaccinated_on, '2026-06-16');
  const log = await request('GET', '/api/v1/certificates/self', { token: tok, query: { person_id: child.id, limit: 200 } });
  const byId = new Map(log.body.items.map((c) => [c.id, c]));
  assert.equal(byId.get(old.body.id).status, 'superseded', 'the old one stays in the log');
  assert.equal(byId.get(fresh.body.id).status, 'valid');
  // SHC revocation: the key announces a CRL version, and the CRL lists the old card's rid.
  const { payload } = await verifyCard(old.body.jws, ISSUER);
  const jwks = await issuerKeys(ISSUER);
  const key = jwks.body.keys.find((k) => k.kid === old.body.kid);
  assert.ok(key.crlVersion >= 1);
  const crl = await request('GET', `/shc/.well-known/crl/${old.body.kid}.json`);
  assert.equal(crl.status, 200, crl.text);
  expectContract(crl, 'getShcCrl');
  assert.equal(crl.headers.get('access-control-allow-origin'), '*');
  assert.equal(crl.body.method, 'rid');
  assert.ok(crl.body.rids.includes(payload.vc.rid));
  const { payload: p2 } = await verifyCard(fresh.body.jws, ISSUER);
  assert.ok(!crl.body.rids.includes(p2.vc.rid));
  const none = await request('GET', '/shc/.well-known/crl/unknown.json');
  expectProblem(none, 404, 'not-found');
});

test('a voided record revokes its cards', async () => {
  const d = await request('POST', '/api/v1/immunizations', {
    token: muni.access,
    json: {
      person_id: child.id, vaccinated_on: '2026-08-01', vaccine_code: '631300101', dose_number: 1, lot_no: 'GB001A',
      institution_code: '1311012346', doctor_name: '医師 花子', category: 'voluntary',
    },
  });
  if (d.status !== 201) return; // the rule check may refuse this dose for this child; the correction test stands
  const c = await issueSelf({ person_id: child.id, immunization_ids: [d.body.id] });
  assert.equal(c.status, 201, c.text);
  const v = await request('POST', `/api/v1/immunizations/${d.body.id}/void`, { token: muni.access, json: { reason: '別人の記録' } });
  assert.equal(v.status, 200, v.text);
  const r = await request('POST', '/api/v1/certificates/verify', { json: { credential: c.body.jws } });
  assert.equal(r.body.result, 'revoked', r.text);
  assert.equal(r.body.reason, 'record-voided');
});

test('the paper certificate: an A4 PDF in Japanese with embedded fonts and the card as QR', async (t) => {
  const c = await request('POST', '/api/v1/certificates', { token: muni.access, json: { person_id: child.id, identity_check: { method: 'driver_license' } } });
  assert.equal(c.status, 201, c.text);
  const pdf = await request('GET', `/api/v1/certificates/${c.body.id}/pdf`, { token: muni.access });
  assert.equal(pdf.status, 200, pdf.text.slice(0, 200));
  assert.equal(pdf.headers.get('content-type'), 'application/pdf');
  assert.equal(pdf.raw.subarray(0, 5).toString('latin1'), '%PDF-');
  if (!have('pdftotext')) return t.skip('poppler-utils not installed');
  const file = path.join(tmp, 'cert.pdf');
  writeFileSync(file, pdf.raw);
  const text = execFileSync('pdftotext', ['-layout', file, '-']).toString('utf8');
  for (const s of ['証明 陽太', '2025年6月1日', 'ミールビック', 'MR123', c.body.certificate_no]) assert.ok(text.includes(s), `${s} in the PDF`);
  const fonts = execFileSync('pdffonts', [file]).toString('utf8');
  // All text in the face derived from IPAex Gothic (services/certificate/font.c), embedded;
  // pdftotext found every text above through the characters each glyph was drawn for.
  assert.match(fonts, /SesshuCertGothic/);
  assert.ok(fonts.split('\n').slice(2).filter((l) => l.trim()).every((l) => /\byes\b/.test(l.split(/\s+/).slice(-5).join(' '))), fonts);
  if (!have('pdftoppm') || !have('zbarimg')) return;
  execFileSync('pdftoppm', ['-r', '200', '-png', '-singlefile', file, path.join(tmp, 'page')]);
  const qr = execFileSync('zbarimg', ['--raw', '-q', path.join(tmp, 'page.png')]).toString('utf8').trim();
  assert.equal(shcToJws(qr), c.body.jws);
});

const verify = (credential) => request('POST', '/api/v1/certificates/verify', { json: { credential } });
const paperIssue = (token, personId) =>
  request('POST', '/api/v1/certificates', { token, json: { person_id: personId, identity_check: { method: 'passport' } } });

test('a person correction (name, birth date) supersedes the cards printed with the old values; a move does not', async () => {
  const q = await person(muni, { name: '訂正 一郎' });
  await immunization(q, muni.org.code, {});
  const a = await paperIssue(muni.access, q.id);
  assert.equal(a.status, 201, a.text);
  const moved = await request('PATCH', `/api/v1/persons/${q.id}`, { token: muni.access, json: { address: '東京都渋谷区神南2-2-2' } });
  assert.equal(moved.status, 200, moved.text);
  assert.equal((await verify(a.body.jws)).body.result, 'valid', 'a new address prints nothing the card holds');
  const renamed = await request('PATCH', `/api/v1/persons/${q.id}`, { token: muni.access, json: { name: '訂正 二郎' } });
  assert.equal(renamed.status, 200, renamed.text);
  const v = await verify(a.body.jws);
  assert.equal(v.body.result, 'superseded', v.text);
  assert.equal(v.body.reason, 'person-corrected');
  expectContract(v, 'verifyCertificate');
  const b = await request('POST', '/api/v1/certificates', {
    token: muni.access, json: { person_id: q.id, identity_check: { method: 'passport' }, reissue_of: a.body.id },
  });
  assert.equal(b.status, 201, b.text);
  assert.equal(b.body.person.name, '訂正 二郎');
  assert.equal((await verify(b.body.jws)).body.result, 'valid', 'the reissue carries the new name');
  const one = await request('GET', `/api/v1/certificates/${a.body.id}`, { token: muni.access });
  expectContract(one, 'getCertificate');
  assert.equal(one.body.status, 'superseded', 'the old one stays in the log');
  assert.equal(one.body.status_reason, 'person-corrected');
  const born = await request('PATCH', `/api/v1/persons/${q.id}`, { token: muni.access, json: { birth_date: dateYearsAgo(36) } });
  assert.equal(born.status, 200, born.text);
  const vb = await verify(b.body.jws);
  assert.equal(vb.body.result, 'superseded', vb.text);
  assert.equal(vb.body.reason, 'person-corrected');
  const { payload } = await verifyCard(a.body.jws, ISSUER);
  const crl = await request('GET', `/shc/.well-known/crl/${a.body.kid}.json`);
  assert.ok(crl.body.rids.includes(payload.vc.rid), 'the superseded card is on the revocation list');
});

test('staff revoke a certificate of their residents with a reason: logged, on the CRL, once', async () => {
  const c = await paperIssue(muni.access, child.id);
  assert.equal(c.status, 201, c.text);
  const url = `/api/v1/certificates/${c.body.id}/revoke`;
  const med = await orgWithAdmin('medical_institution');
  const refused = [
    [{ json: { reason: 'issued-in-error' } }, 401],
    [{ token: tok, json: { reason: 'issued-in-error' } }, 403],
    [{ token: med.adminSession.access, json: { reason: 'issued-in-error' } }, 403],
    [{ token: otherMuni.access, json: { reason: 'issued-in-error' } }, 404],
    [{ token: muni.access, body: '{"reason": ', contentType: 'application/json' }, 400],
    [{ token: muni.access, body: 'reason=x', contentType: 'application/x-www-form-urlencoded' }, 415],
    [{ token: muni.access, json: {} }, 422],
    [{ token: muni.access, json: { reason: 'bored' } }, 422],
    [{ token: muni.access, json: { reason: 5 } }, 422],
    [{ token: muni.access, json: { reason: 'other', note: '' } }, 422],
    [{ token: muni.access, json: { reason: 'other', note: 'x'.repeat(401) } }, 422],
    [{ token: muni.access, json: { reason: 'other', note: ['a'] } }, 422],
    [{ token: muni.access, json: { reason: 'other', status: 'valid' } }, 422],
    [{ token: muni.access, body: Buffer.from([0x7b, 0x22, 0x72, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), contentType: 'application/json' }, 400],
  ];
  for (const [opts, status] of refused) {
    const r = await request('POST', url, opts);
    assert.equal(r.status, status, `${JSON.stringify(opts).slice(0, 100)}: ${r.text}`);
    expectContract(r, 'revokeCertificate');
  }
  for (const id of ['x', '00000000-0000-4000-8000-000000000000']) {
    const r = await request('POST', `/api/v1/certificates/${id}/revoke`, { token: muni.access, json: { reason: 'other' } });
    expectProblem(r, 404, 'not-found');
  }
  assert.equal((await verify(c.body.jws)).body.result, 'valid', 'nothing changed by the refused requests');
  const note = "窓口で別人に交付'; DROP TABLE certificate.certificates; --";
  const headers = { 'Idempotency-Key': `revoke-${c.body.id}` };
  const rid = `cert-revoke-${Date.now()}`;
  const r = await request('POST', url, { token: muni.access, json: { reason: 'wrong-person', note }, headers, requestId: rid });
  assert.equal(r.status, 200, r.text);
  expectContract(r, 'revokeCertificate');
  assert.equal(r.body.status, 'revoked');
  assert.equal(r.body.status_reason, 'wrong-person');
  assert.equal(r.body.status_by.note, note);
  assert.ok(r.body.status_by.id);
  const again = await request('POST', url, { token: muni.access, json: { reason: 'wrong-person', note }, headers });
  assert.equal(again.status, 200, 'a retry under the same key gets the first answer');
  assert.equal(again.body.status_at, r.body.status_at);
  const twice = await request('POST', url, { token: muni.access, json: { reason: 'other' } });
  expectProblem(twice, 409, 'conflict');
  expectContract(twice, 'revokeCertificate');
  const v = await verify(c.body.jws);
  assert.equal(v.body.result, 'revoked', v.text);
  assert.equal(v.body.reason, 'wrong-person');
  const { payload } = await verifyCard(c.body.jws, ISSUER);
  const crl = await request('GET', `/shc/.well-known/crl/${c.body.kid}.json`);
  assert.ok(crl.body.rids.includes(payload.vc.rid));
  const mine = await request('GET', `/api/v1/certificates/${c.body.id}`, { token: tok });
  assert.equal(mine.status, 200, mine.text);
  assert.equal(mine.body.status, 'revoked');
  assert.ok(!('status_by' in mine.body), 'the vaccinee does not see who revoked it or the note');
  const log = await request('GET', '/api/v1/access-logs', { token: muni.access, query: { resource_id: c.body.id, limit: 200 } });
  assert.equal(log.status, 200, log.text);
  assert.ok(log.body.items.some((e) => e.request_id === rid && e.method === 'POST'), 'the revocation is in the access log');
});

test('H-5-3: records entered from paper and issued in the same sitting; the certificate marks them', async (t) => {
  const q = await person(muni, { name: '紙台帳 花子', birth_date: '2025-05-01', sex: '2' });
  const entered = await request('POST', '/api/v1/immunizations', {
    token: muni.access,
    json: {
      person_id: q.id, vaccinated_on: '2026-06-15', vaccine_code: '631300601', dose_number: 1, lot_no: 'MR123',
      institution_code: '1311012346', doctor_name: '医師 花子', category: 'routine', source: 'paper',
    },
  });
  assert.equal(entered.status, 201, entered.text);
  assert.equal(entered.body.source, 'paper');
  const c = await paperIssue(muni.access, q.id);
  assert.equal(c.status, 201, c.text);
  const dose = c.body.doses.find((d) => d.immunization_id === entered.body.id);
  assert.equal(dose.paper, true);
  assert.equal(dose.source, 'paper');
  assert.equal((await verify(c.body.jws)).body.result, 'valid');
  const pdf = await request('GET', `/api/v1/certificates/${c.body.id}/pdf`, { token: muni.access });
  assert.equal(pdf.status, 200);
  if (!have('pdftotext')) return t.skip('poppler-utils not installed');
  const file = path.join(tmp, 'paper.pdf');
  writeFileSync(file, pdf.raw);
  const text = execFileSync('pdftotext', ['-layout', file, '-']).toString('utf8');
  assert.ok(text.includes('MR123') && text.includes('(紙)') && text.includes('紙台帳 花子'), text);
});
