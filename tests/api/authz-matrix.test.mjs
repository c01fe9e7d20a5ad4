// authz-matrix.test.mjs - the authorisation matrix, exhaustively: every organisation type x role
// (14 principals) x every endpoint of the account and audit services, expecting 2xx, 403 or 404;
// every cross-organisation attempt on users (404, except the 国保中央会 admin's rescue of admin
// users); every protected endpoint without a token (401). Refused calls leave nothing behind.
//
// The expected permissions are the table below (services/*/README.md, docs/domain.md §1, authz.h):
//   everyone: profile; admins: users.manage;
//   chuokai: organizations.read_all, access_logs.read, access_logs.verify
//            (+ organizations.create, accounts.maintain for admins);
//   operator: organizations.read_all, access_logs.read, access_logs.verify, accounts.maintain;
//   municipality: access_logs.read;
//   municipality and non-insurance admins: api_clients.manage (token service, H-2);
//   chuokai and operator admins: portal_clients.manage (token service, H-3-3);
//   chuokai, mhlw, operator, kokuhoren: notices.post (notice service, H-11);
//   mhlw: analytics.read (stats service, H-6-1);
//   everyone: masters.read, masters.write; admins and the operator: masters.import (H-8);
//   records service (H-3, H-4, H-7): see `rec` in permissions();
//   payment service (H-9, H-10, claims): institutions claims.submit (+ bank_accounts.manage for
//   admins), 国保連合会 bank_accounts.review and claims.review (+ payer_accounts.manage for admins).
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { chuokai, orgWithAdmin, userIn, createUser, createOrg, login, orgBody, personBody, uniq, newPassword } from './lib/fixtures.mjs';
import { freeCode } from './lib/codes.mjs';
import { operations } from './lib/contract.mjs';

const TYPES = ['chuokai', 'kokuhoren', 'municipality', 'medical_institution', 'non_insurance_medical_institution', 'mhlw', 'operator'];
const ROLES = ['admin', 'user'];
const NATIONAL = new Set(['chuokai', 'operator']);

function permissions(type, role) {
  const p = new Set(['profile']);
  if (role === 'admin') p.add('users.manage');
  if (type === 'chuokai' || type === 'operator') {
    p.add('organizations.read_all');
    p.add('access_logs.read');
    p.add('access_logs.verify');
  }
  if (type === 'chuokai' && role === 'admin') {
    p.add('organizations.create');
    p.add('accounts.maintain');
  }
  if (type === 'operator') p.add('accounts.maintain');
  if (type === 'municipality') p.add('access_logs.read');
  // H-2: API clients of a municipality or a non-insurance medical institution (token service).
  if (role === 'admin' && (type === 'municipality' || type === 'non_insurance_medical_institution')) {
    p.add('api_clients.manage');
  }
  // H-3-3: portal clients of the token exchange (token service), by the 国保中央会 and operator admins.
  if (role === 'admin' && (type === 'chuokai' || type === 'operator')) p.add('portal_clients.manage');
  // H-11: notice authors (notice service).
  if (['chuokai', 'mhlw', 'operator', 'kokuhoren'].includes(type)) p.add('notices.post');
  // H-8: everyone reads and edits its own masters (the master service narrows per master);
  // admins and the operator import.
  p.add('masters.read');
  p.add('masters.write');
  if (role === 'admin' || type === 'operator') p.add('masters.import');
  // H-6-1: the ministry's analysis (stats service).
  if (type === 'mhlw') p.add('analytics.read');
  // H-3, H-4, H-7 (records service).
  const rec = {
    municipality: ['persons.read', 'persons.write', 'records.read', 'records.write', 'linkage.read',
      'questionnaires.read', 'mch.read', 'mch.write'],
    medical_institution: ['records.read', 'records.write', 'questionnaires.read', 'questionnaires.write'],
    non_insurance_medical_institution: ['records.read', 'records.write', 'questionnaires.read', 'questionnaires.write'],
    kokuhoren: ['records.read'],
    mhlw: ['records.read', 'questionnaire_templates.manage'],
    operator: ['questionnaire_templates.manage'],
  };
  for (const x of rec[type] ?? []) p.add(x);
  // H-9, H-10, claims (payment service).
  if (type === 'medical_institution' || type === 'non_insurance_medical_institution') {
    p.add('claims.submit');
    if (role === 'admin') p.add('bank_accounts.manage');
  }
  if (type === 'kokuhoren') {
    p.add('bank_accounts.review');
    p.add('claims.review');
    if (role === 'admin') p.add('payer_accounts.manage');
  }
  return p;
}

const P = {}; // P[type][role] = session (describe()d), with .target (a throwaway user of its org) for admins
let ck;
let victim; // an organisation whose admin the 国保中央会 admin may rescue
const forbidden = { orgCode: freeCode('MTX'), orgAdmin: uniq('mtxadm'), userId: uniq('mtxusr') };
const namesBefore = new Map(); // org id -> name, to see that refused renames changed nothing

before(async () => {
  ck = await chuokai();
  for (const type of TYPES) {
    P[type] = {};
    if (type === 'chuokai') {
      P[type].admin = await userIn(ck, 'admin');
      P[type].user = await userIn(ck, 'user');
    } else {
      const { adminSession } = await orgWithAdmin(type);
      P[type].admin = adminSession;
      P[type].user = await userIn(adminSession, 'user');
    }
    P[type].admin.target = (await createUser(P[type].admin, 'user')).user;
    namesBefore.set(P[type].admin.orgId, P[type].admin.org.name);
  }
  victim = await orgWithAdmin('mhlw');
});

// An organisation that is not p's own.
function foreignOrg(type) {
  return type === 'municipality' ? P.medical_institution.admin.orgId : P.municipality.admin.orgId;
}

for (const type of TYPES) {
  for (const role of ROLES) {
    test(`matrix: ${type} ${role}`, async (t) => {
      const p = P[type][role];
      const can = permissions(type, role);
      const isAdmin = role === 'admin';
      const allowed = (perm) => can.has(perm);

      await t.test('GET /me: 200 with exactly the menu of the role', async () => {
        const me = await ok('getMe', 200, { token: p.access });
        assert.equal(me.organization.type, type);
        assert.equal(me.user.role, role);
        assert.deepEqual(new Set(me.menu.map((m) => m.permission)), can);
      });
      await t.test('PATCH /me: 200 (profile)', async () => {
        const u = await ok('updateMe', 200, { token: p.access, json: { name_kana: 'マトリクス' } });
        assert.equal(u.name_kana, 'マトリクス');
      });
      await t.test('POST /auth/password: allowed (an empty body is 422, not 403)', async () => {
        expectProblem(await call('changePassword', { token: p.access, json: {} }), 422, 'validation-failed');
      });
      await t.test('GET /organizations: all for national, else only their own', async () => {
        const list = await ok('listOrganizations', 200, { token: p.access, query: { limit: 200 } });
        if (NATIONAL.has(type)) assert.ok(list.items.some((o) => o.id !== p.orgId), 'a national user sees only their own');
        else assert.deepEqual(list.items.map((o) => o.id), [p.orgId]);
      });
      await t.test('GET /organizations/:own: 200', async () => {
        assert.equal((await ok('getOrganization', 200, { token: p.access, params: { id: p.orgId } })).id, p.orgId);
      });
      await t.test(`GET /organizations/:other: ${NATIONAL.has(type) ? 200 : 404}`, async () => {
        const r = await call('getOrganization', { token: p.access, params: { id: foreignOrg(type) } });
        if (NATIONAL.has(type)) assert.equal(r.status, 200);
        else expectProblem(r, 404, 'not-found');
      });
      await t.test(`PATCH /organizations/:id: ${allowed('organizations.create') ? 200 : 403}`, async () => {
        if (allowed('organizations.create')) {
          const r = await ok('updateOrganization', 200, { token: p.access, params: { id: victim.org.id }, json: { name_kana: 'マトリクス' } });
          assert.equal(r.name_kana, 'マトリクス');
        } else {
          const r = await call('updateOrganization', { token: p.access, params: { id: p.orgId }, json: { name: '乗っ取り' } });
          expectProblem(r, 403, 'forbidden');
        }
      });
      await t.test(`POST /organizations: ${allowed('organizations.create') ? 201 : 403}`, async () => {
        if (allowed('organizations.create')) {
          const r = await call('createOrganization', { token: p.access, json: orgBody('operator', freeCode('MTXOK'), uniq('mtxok')) });
          assert.equal(r.status, 201, r.text);
        } else {
          const r = await call('createOrganization', { token: p.access, json: orgBody('mhlw', forbidden.orgCode, forbidden.orgAdmin) });
          expectProblem(r, 403, 'forbidden');
        }
      });
      await t.test(`POST /users: ${isAdmin ? 201 : 403}`, async () => {
        if (isAdmin) {
          const r = await ok('createUser', 201, { token: p.access, json: { ...personBody(uniq('mtx')), role: 'user' } });
          assert.equal(r.user.organization_id, p.orgId);
        } else {
          const r = await call('createUser', { token: p.access, json: { ...personBody(forbidden.userId), role: 'admin' } });
          expectProblem(r, 403, 'forbidden');
        }
      });
      await t.test(`GET /users: ${isAdmin ? 200 : 403}`, async () => {
        const r = await call('listUsers', { token: p.access, query: { limit: 200 } });
        if (!isAdmin) return expectProblem(r, 403, 'forbidden');
        assert.equal(r.status, 200);
        for (const u of r.body.items) assert.equal(u.organization_id, p.orgId);
        assert.ok(r.body.items.some((u) => u.id === p.id));
      });
      const target = isAdmin ? p.target : P[type].admin.target;
      await t.test(`GET /users/:own-org: ${isAdmin ? 200 : 403}`, async () => {
        const r = await call('getUser', { token: p.access, params: { id: target.id } });
        if (isAdmin) assert.equal(r.status, 200);
        else expectProblem(r, 403, 'forbidden');
      });
      await t.test(`PATCH /users/:own-org: ${isAdmin ? 200 : 403}`, async () => {
        const r = await call('updateUser', { token: p.access, params: { id: target.id }, json: { name_kana: 'ヘンコウ' } });
        if (isAdmin) assert.equal(r.status, 200);
        else expectProblem(r, 403, 'forbidden');
      });
      await t.test(`POST /users/:own-org/password-reset: ${isAdmin ? 200 : 403}`, async () => {
        const r = await call('resetUserPassword', { token: p.access, params: { id: target.id } });
        if (isAdmin) assert.equal(r.status, 200);
        else expectProblem(r, 403, 'forbidden');
      });
      await t.test(`GET /access-logs: ${allowed('access_logs.read') ? 200 : 403}`, async () => {
        const r = await call('listAccessLogs', { token: p.access, query: { limit: 1 } });
        if (allowed('access_logs.read')) assert.equal(r.status, 200);
        else expectProblem(r, 403, 'forbidden');
      });
      await t.test(`GET /access-logs/verify: ${allowed('access_logs.verify') ? 200 : 403}`, async () => {
        const r = await call('verifyAccessLogs', { token: p.access });
        if (allowed('access_logs.verify')) assert.equal(r.status, 200);
        else expectProblem(r, 403, 'forbidden');
      });
      await t.test('public endpoints answer the same with a session token', async () => {
        assert.equal((await call('getJwks', { token: p.access })).status, 200);
        assert.equal((await call('requestPasswordReset', { token: p.access, json: { user_id: uniq('ghost') } })).status, 202);
        assert.equal((await call('requestUserIdReminder', { token: p.access, json: { email: `${uniq('ghost')}@mail.sesshu.test` } })).status, 202);
        expectProblem(await call('confirmPasswordReset', { token: p.access, json: { token: 'B'.repeat(43), new_password: newPassword() } }), 400);
        expectProblem(await call('refreshToken', { token: p.access, json: { refresh_token: 'C'.repeat(43) } }), 401, 'unauthorized');
        expectProblem(await call('login', { token: p.access, json: { user_id: p.user_id, password: `${p.password}-wrong` } }), 401, 'unauthorized');
      });
      await t.test('POST /auth/logout: 204, and that session is over', async () => {
        const s = await login(p.user_id, p.password);
        assert.equal((await call('logout', { token: s.access })).status, 204);
        expectProblem(await call('getMe', { token: s.access }), 401, 'unauthorized');
        assert.equal((await call('getMe', { token: p.access })).status, 200, 'logout ended another session');
      });
    });
  }
}

test('matrix: refused writes left nothing behind', async () => {
  const org = await createOrg('mhlw', { code: forbidden.orgCode, adminId: forbidden.orgAdmin });
  assert.equal(org.org.code, forbidden.orgCode);
  const u = await createUser(ck, 'user', { user_id: forbidden.userId });
  assert.equal(u.user.user_id, forbidden.userId);
  for (const type of TYPES) {
    if (type === 'chuokai') continue;
    const o = await ok('getOrganization', 200, { token: ck.access, params: { id: P[type].admin.orgId } });
    assert.equal(o.name, namesBefore.get(o.id), `${type}: a refused rename changed the name`);
  }
});

test('cross-organisation: another organisation\'s users are 404 for every admin', async () => {
  for (const type of TYPES) {
    const a = P[type].admin;
    for (const other of TYPES) {
      if (other === type) continue;
      const targets = [P[other].user];
      // Admin users of another organisation are out of reach too, except for the 国保中央会 admin.
      if (type !== 'chuokai') targets.push(P[other].admin);
      for (const v of targets) {
        expectProblem(await call('getUser', { token: a.access, params: { id: v.id } }), 404, 'not-found');
        expectProblem(await call('updateUser', { token: a.access, params: { id: v.id }, json: { name: '乗っ取り' } }), 404, 'not-found');
        expectProblem(await call('resetUserPassword', { token: a.access, params: { id: v.id } }), 404, 'not-found');
      }
      if (type !== 'chuokai') {
        expectProblem(await call('listUsers', { token: a.access, query: { organization_id: P[other].admin.orgId } }), 404, 'not-found');
      }
    }
  }
  // Nobody was touched: every session is alive and no name changed.
  for (const type of TYPES) {
    for (const role of ROLES) {
      const me = await ok('getMe', 200, { token: P[type][role].access });
      assert.notEqual(me.user.name, '乗っ取り');
    }
  }
});

test('cross-organisation: the 国保中央会 admin may rescue another organisation\'s admin', async () => {
  const a = P.chuokai.admin;
  const adminId = victim.admin.id;
  assert.equal((await ok('getUser', 200, { token: a.access, params: { id: adminId } })).id, adminId);
  assert.equal((await ok('updateUser', 200, { token: a.access, params: { id: adminId }, json: { name_kana: 'キュウサイ' } })).name_kana, 'キュウサイ');
  const reset = await ok('resetUserPassword', 200, { token: a.access, params: { id: adminId } });
  expectProblem(await call('getMe', { token: victim.adminSession.access }), 401, 'unauthorized');
  const s = await login(victim.admin.user_id, reset.temporary_password);
  assert.equal(s.pwc, true);
  // The chuokai *user* may not (no users.manage).
  expectProblem(await call('getUser', { token: P.chuokai.user.access, params: { id: adminId } }), 403, 'forbidden');
});

test('without a token every protected endpoint answers 401', async () => {
  const uuid = '00000000-0000-4000-8000-000000000000';
  let n = 0;
  for (const [opId, op] of operations()) {
    const isPublic = Array.isArray(op.operation.security) && op.operation.security.length === 0;
    if (isPublic) continue;
    // Every path parameter gets a well-formed value: masters a master and a key, the rest a uuid.
    const fixed = { master: 'diseases', key: 'hib' };
    const params = new Proxy({}, { get: (_, k) => fixed[k] ?? uuid });
    const r = await call(opId, { params, json: op.method === 'GET' ? undefined : {} });
    expectProblem(r, 401, 'unauthorized');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/i, `${opId}: no WWW-Authenticate`);
    n++;
  }
  assert.ok(n >= 15, `only ${n} protected operations`);
});
