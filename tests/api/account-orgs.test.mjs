// account-orgs.test.mjs - H-1-1: the 国保中央会 admin registers an organisation and its first
// admin (temporary password shown once, never again); codes with check digits per type;
// uniqueness; listing, reading, renaming, disabling and re-enabling organisations.
import test from 'node:test';
import assert from 'node:assert/strict';
import { call, ok } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import {
  chuokai,
  createOrg,
  orgBody,
  orgWithAdmin,
  activate,
  login,
  describe as whoami,
  uniq,
  allPages,
  suffix,
} from './lib/fixtures.mjs';
import {
  municipalityCode,
  medicalCode,
  nonInsuranceCode,
  withWrongCheckDigit,
  freeCode,
  municipalityCheckDigit,
  luhnCheckDigit,
} from './lib/codes.mjs';
import { POLICY } from './lib/env.mjs';

const HOUR = 3600_000;

function near(iso, expectedMs, slackMs, what) {
  const t = Date.parse(iso);
  assert.ok(Number.isFinite(t), `${what}: not a timestamp: ${iso}`);
  assert.ok(Math.abs(t - expectedMs) <= slackMs, `${what}: ${iso} is not within ${slackMs} ms of ${new Date(expectedMs).toISOString()}`);
}

test('H-1-1: an organisation and its first admin; the temporary password is shown once', async () => {
  const ck = await chuokai();
  const code = municipalityCode('13');
  const adminId = uniq('h11');
  const before = Date.now();
  const r = await call('createOrganization', { token: ck.access, json: orgBody('municipality', code, adminId) });
  assert.equal(r.status, 201, r.text);
  const { organization: org, admin, temporary_password: temp } = r.body;
  assert.equal(org.type, 'municipality');
  assert.equal(org.code, code);
  assert.equal(org.prefecture_code, '13');
  assert.equal(org.status, 'active');
  assert.equal(admin.user_id, adminId);
  assert.equal(admin.organization_id, org.id);
  assert.equal(admin.role, 'admin');
  assert.equal(admin.status, 'active');
  assert.equal(admin.password_change_required, true);
  assert.equal(admin.last_login_at, null);
  near(admin.password_expires_at, before + POLICY.tempTtlH * HOUR, 5 * 60_000, 'password_expires_at');
  assert.ok(temp.length >= POLICY.minLength, 'the temporary password meets the length policy');

  // Never again: not in any later answer about the organisation or its admin.
  const seen = [];
  seen.push((await call('getOrganization', { token: ck.access, params: { id: org.id } })).text);
  seen.push((await call('getUser', { token: ck.access, params: { id: admin.id } })).text);
  seen.push((await call('listUsers', { token: ck.access, query: { organization_id: org.id } })).text);
  const s = await login(adminId, temp);
  assert.equal(s.pwc, true);
  const me = await call('getMe', { token: s.access });
  assert.equal(me.status, 200);
  assert.equal(me.body.password_change_required, true);
  assert.equal(me.body.user.password_change_required, true);
  seen.push(me.text);
  for (const text of seen) {
    assert.ok(!text.includes(temp), 'the temporary password appears again');
    assert.doesNotMatch(text, /\$argon2|\$scrypt|pw_hash|password_hash/, 'a hash leaks');
  }
  const act = await activate(adminId, temp);
  const me2 = await ok('getMe', 200, { token: act.access });
  assert.equal(me2.password_change_required, false);
  assert.equal(me2.user.password_expires_at, null);
  assert.equal(me2.organization.id, org.id);
});

test('H-1-1: every organisation type can be registered with a valid code', async () => {
  const cases = [
    ['municipality', municipalityCode()],
    ['medical_institution', medicalCode('1')],
    ['medical_institution', medicalCode('3')],
    ['medical_institution', medicalCode('4')],
    ['non_insurance_medical_institution', nonInsuranceCode()],
    ['mhlw', freeCode('MHLW')],
    ['operator', freeCode('OPS')],
  ];
  for (const [type, code] of cases) {
    const made = await createOrg(type, { code });
    assert.equal(made.org.type, type);
    assert.equal(made.org.code, code);
    if (type !== 'mhlw' && type !== 'operator') assert.equal(made.org.prefecture_code, code.slice(0, 2));
  }
  const k = await createOrg('kokuhoren');
  assert.equal(k.org.type, 'kokuhoren');
  assert.match(k.org.code, /^(0[1-9]|[1-3]\d|4[0-7])$/);
  assert.equal(k.org.prefecture_code, k.org.code);
});

test('H-1-1: codes that miss their check digit or range are refused (422) and leave nothing', async () => {
  const ck = await chuokai();
  const adminId = uniq('nearmiss');
  const muni = municipalityCode();
  const med = medicalCode('1');
  const ni = nonInsuranceCode();
  const five48 = '48123';
  const bad = [
    ['municipality', withWrongCheckDigit(muni)],
    ['municipality', five48 + municipalityCheckDigit(five48)], // prefecture 48 does not exist
    ['municipality', '00123' + municipalityCheckDigit('00123')],
    ['municipality', muni.slice(0, 5)], // the 5-digit form without CD
    ['municipality', `${muni}0`],
    ['medical_institution', withWrongCheckDigit(med)],
    ['medical_institution', (() => { const n = `13${'2'}123456`; return n + luhnCheckDigit(n); })()], // 点数表 2
    ['medical_institution', ni], // a pseudo-code is not a medical institution code
    ['medical_institution', med.slice(0, 9)],
    ['non_insurance_medical_institution', med], // digit 3 must be 9
    ['non_insurance_medical_institution', withWrongCheckDigit(ni)],
    ['kokuhoren', '48'],
    ['kokuhoren', '00'],
    ['kokuhoren', '1'],
    ['kokuhoren', '131'],
    ['mhlw', 'lower-case'],
    ['operator', 'A'.repeat(17)],
    ['operator', 'HAS SPACE'],
  ];
  for (const [type, code] of bad) {
    // No prefecture_code: the code alone must be refused.
    const r = await call('createOrganization', { token: ck.access, json: orgBody(type, code, adminId, { prefecture_code: undefined }) });
    expectFieldErrors(r, 'code');
  }
  // No admin was left behind by any refusal: the login id is still free.
  const r = await call('createOrganization', { token: ck.access, json: orgBody('municipality', municipalityCode(), adminId) });
  assert.equal(r.status, 201, r.text);
});

test('H-1-1: the 国保中央会 itself cannot be registered again; bad prefecture codes are refused', async () => {
  const ck = await chuokai();
  const r1 = await call('createOrganization', { token: ck.access, json: orgBody('chuokai', freeCode('CK'), uniq('ck')) });
  expectFieldErrors(r1, 'type');
  const code = municipalityCode('13');
  const r2 = await call('createOrganization', {
    token: ck.access,
    json: orgBody('municipality', code, uniq('pref'), { prefecture_code: '14' }),
  });
  expectFieldErrors(r2, 'prefecture_code');
  const r3 = await call('createOrganization', {
    token: ck.access,
    json: orgBody('mhlw', freeCode('MHLW'), uniq('pref'), { prefecture_code: '48' }),
  });
  expectFieldErrors(r3, 'prefecture_code');
  const r4 = await call('createOrganization', {
    token: ck.access,
    json: orgBody('municipality', municipalityCode(), uniq('kana'), { name_kana: '漢字' }),
  });
  expectFieldErrors(r4, 'name_kana');
});

test('H-1-1: codes are unique per type; a taken admin login id is a 409 that creates nothing', async () => {
  const ck = await chuokai();
  const code = freeCode('DUP');
  const a = await createOrg('mhlw', { code });
  const dup = await call('createOrganization', { token: ck.access, json: orgBody('mhlw', code, uniq('dup')) });
  expectProblem(dup, 409, 'conflict');
  // The same free-form code under another type is fine.
  const b = await createOrg('operator', { code });
  assert.notEqual(a.org.id, b.org.id);

  // A login id already in use (case-insensitively): 409, and the organisation is not created.
  const code2 = municipalityCode();
  const clash = await call('createOrganization', {
    token: ck.access,
    json: orgBody('municipality', code2, a.admin.user_id.toUpperCase()),
  });
  expectProblem(clash, 409, 'conflict');
  const again = await createOrg('municipality', { code: code2 });
  assert.equal(again.org.code, code2);
});

test('organisations: national users list all (filter, cursor pages); others only their own', async () => {
  const ck = await chuokai();
  const made = [await createOrg('operator'), await createOrg('operator'), await createOrg('operator')];
  const all = await allPages('listOrganizations', { token: ck.access, query: { type: 'operator', limit: 2 } }, 500);
  const ids = all.map((o) => o.id);
  assert.equal(new Set(ids).size, ids.length, 'pages overlap');
  for (const o of all) assert.equal(o.type, 'operator');
  for (const m of made) assert.ok(ids.includes(m.org.id), `${m.org.code} missing from the list`);
  const first = await ok('listOrganizations', 200, { token: ck.access, query: { type: 'operator', limit: 2 } });
  assert.equal(first.items.length, 2);
  assert.equal(typeof first.next_cursor, 'string');

  const { adminSession } = await orgWithAdmin('medical_institution');
  const own = await ok('listOrganizations', 200, { token: adminSession.access });
  assert.deepEqual(own.items.map((o) => o.id), [adminSession.orgId]);
  assert.equal(own.next_cursor, null);
  const ownFiltered = await ok('listOrganizations', 200, { token: adminSession.access, query: { type: 'operator' } });
  assert.deepEqual(ownFiltered.items, []);
  const got = await ok('getOrganization', 200, { token: adminSession.access, params: { id: adminSession.orgId } });
  assert.equal(got.id, adminSession.orgId);
  const other = await call('getOrganization', { token: adminSession.access, params: { id: made[0].org.id } });
  expectProblem(other, 404, 'not-found');
  const missing = await call('getOrganization', { token: ck.access, params: { id: '00000000-0000-4000-8000-000000000000' } });
  expectProblem(missing, 404, 'not-found');
  const byNational = await ok('getOrganization', 200, { token: ck.access, params: { id: adminSession.orgId } });
  assert.equal(byNational.id, adminSession.orgId);
});

test('organisations: rename; disabling ends every session and refuses logins until re-enabled', async () => {
  const ck = await chuokai();
  const { org, adminSession } = await orgWithAdmin('municipality');
  const renamed = await ok('updateOrganization', 200, {
    token: ck.access,
    params: { id: org.id },
    json: { name: `改名後 ${suffix(2)}`, name_kana: 'カイメイゴ' },
  });
  assert.equal(renamed.name_kana, 'カイメイゴ');
  assert.equal(renamed.code, org.code);
  const check = await ok('getOrganization', 200, { token: adminSession.access, params: { id: org.id } });
  assert.equal(check.name, renamed.name);

  const disabled = await ok('updateOrganization', 200, { token: ck.access, params: { id: org.id }, json: { status: 'disabled' } });
  assert.equal(disabled.status, 'disabled');
  expectProblem(await call('getMe', { token: adminSession.access }), 401, 'unauthorized');
  expectProblem(await call('refreshToken', { json: { refresh_token: adminSession.refresh } }), 401, 'unauthorized');
  const refused = await call('login', { json: { user_id: adminSession.user_id, password: adminSession.password } });
  expectProblem(refused, 403, 'forbidden');
  assert.match(refused.body.detail ?? '', /organi[sz]ation|disabled/i);

  const enabled = await ok('updateOrganization', 200, { token: ck.access, params: { id: org.id }, json: { status: 'active' } });
  assert.equal(enabled.status, 'active');
  const back = await login(adminSession.user_id, adminSession.password);
  await whoami(back);
  assert.equal(back.orgId, org.id);
});

test('organisations: the 国保中央会 admin cannot disable its own organisation (409)', async () => {
  const ck = await chuokai();
  const r = await call('updateOrganization', { token: ck.access, params: { id: ck.orgId }, json: { status: 'disabled' } });
  expectProblem(r, 409, 'conflict');
  const still = await ok('getOrganization', 200, { token: ck.access, params: { id: ck.orgId } });
  assert.equal(still.status, 'active');
});
