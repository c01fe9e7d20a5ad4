// account-users.test.mjs - H-1-2 (an admin issues users in its organisation), H-1-3 (a user
// changes their own profile), H-1-4 (an admin changes profile and role, disables, re-enables and
// resets a user; each ends the user's sessions), and the rescue of another organisation's admin
// by the 国保中央会 admin.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import {
  chuokai,
  orgWithAdmin,
  createUser,
  userIn,
  activate,
  login,
  describe as whoami,
  uniq,
  emailFor,
  personBody,
  allPages,
  KANA,
  newPassword,
} from './lib/fixtures.mjs';
import * as mail from './lib/mail.mjs';
import { POLICY, ADMIN_LOGIN } from './lib/env.mjs';

let admin; // activated admin of a municipality
let other; // activated admin of another organisation

before(async () => {
  ({ adminSession: admin } = await orgWithAdmin('municipality'));
  ({ adminSession: other } = await orgWithAdmin('medical_institution'));
});

test('H-1-2: an admin issues a user with a temporary password in its own organisation', async () => {
  const id = uniq('h12');
  const r = await call('createUser', { token: admin.access, json: { ...personBody(id), role: 'user' } });
  assert.equal(r.status, 201, r.text);
  const { user, temporary_password: temp } = r.body;
  assert.equal(user.user_id, id);
  assert.equal(user.organization_id, admin.orgId);
  assert.equal(user.role, 'user');
  assert.equal(user.status, 'active');
  assert.equal(user.password_change_required, true);
  assert.equal(user.email, emailFor(id));
  assert.ok(temp.length >= POLICY.minLength);

  const got = await call('getUser', { token: admin.access, params: { id: user.id } });
  assert.equal(got.status, 200);
  assert.ok(!got.text.includes(temp), 'the temporary password is shown again');
  const list = await allPages('listUsers', { token: admin.access, query: { role: 'user', status: 'active' } });
  assert.ok(list.some((u) => u.id === user.id));
  for (const u of list) {
    assert.equal(u.organization_id, admin.orgId);
    assert.equal(u.role, 'user');
    assert.equal(u.status, 'active');
  }
  const admins = await allPages('listUsers', { token: admin.access, query: { role: 'admin' } });
  assert.ok(!admins.some((u) => u.id === user.id));
  assert.ok(admins.some((u) => u.id === admin.id));

  const s = await activate(id, temp);
  const me = await ok('getMe', 200, { token: s.access });
  assert.equal(me.user.id, user.id);
  assert.ok(me.menu.some((m) => m.permission === 'access_logs.read'));
  assert.ok(!me.menu.some((m) => m.permission === 'users.manage'), 'a user gets no users.manage');
  const after = await ok('getUser', 200, { token: admin.access, params: { id: user.id } });
  assert.ok(after.last_login_at, 'last_login_at is set by the login');
  assert.ok(Math.abs(Date.parse(after.last_login_at) - Date.now()) < 5 * 60_000);
  assert.equal(after.password_change_required, false);
});

test('H-1-2: login ids are unique across organisations (409), role and e-mail are checked', async () => {
  const { user } = await createUser(other, 'user');
  const dup = await call('createUser', { token: admin.access, json: { ...personBody(user.user_id), role: 'user' } });
  expectProblem(dup, 409, 'conflict');
  const dupRoot = await call('createUser', { token: admin.access, json: { ...personBody(ADMIN_LOGIN), role: 'admin' } });
  expectProblem(dupRoot, 409, 'conflict');
  const badRole = await call('createUser', { token: admin.access, json: { ...personBody(uniq('r')), role: 'superuser' } });
  expectFieldErrors(badRole, 'role');
  const badMail = await call('createUser', { token: admin.access, json: { ...personBody(uniq('m')), email: 'not-an-address', role: 'user' } });
  expectFieldErrors(badMail, 'email');
  const badId = await call('createUser', { token: admin.access, json: { ...personBody('a b'), email: emailFor(uniq('e')), role: 'user' } });
  expectFieldErrors(badId, 'user_id');
  const shortId = await call('createUser', { token: admin.access, json: { ...personBody('ab'), role: 'user' } });
  expectFieldErrors(shortId, 'user_id');
  const kana = await call('createUser', { token: admin.access, json: { ...personBody(uniq('k')), name_kana: '山田', role: 'user' } });
  expectFieldErrors(kana, 'name_kana');
  const smuggle = await call('createUser', {
    token: admin.access,
    json: { ...personBody(uniq('s')), role: 'user', organization_id: other.orgId },
  });
  expectFieldErrors(smuggle, 'organization_id');
});

test('H-1-2: user lists are paged by cursor without overlap', async () => {
  const { adminSession: a } = await orgWithAdmin('mhlw');
  const made = [];
  for (let i = 0; i < 3; i++) made.push((await createUser(a, 'user')).user.id);
  const seen = await allPages('listUsers', { token: a.access, query: { limit: 1 } });
  const ids = seen.map((u) => u.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(ids.length, 4);
  for (const id of [...made, a.id]) assert.ok(ids.includes(id));
  const page = await ok('listUsers', 200, { token: a.access, query: { limit: 2 } });
  assert.equal(page.items.length, 2);
  assert.equal(typeof page.next_cursor, 'string');
});

test('H-1-3: a user changes their own name and kana at once, not their role', async () => {
  const u = await userIn(admin, 'user');
  const r = await ok('updateMe', 200, { token: u.access, json: { name: '新しい 名前', name_kana: 'アタラシイ ナマエ' } });
  assert.equal(r.name, '新しい 名前');
  assert.equal(r.name_kana, 'アタラシイ ナマエ');
  assert.equal(r.email, u.email);
  assert.equal(r.role, 'user');
  assert.equal(r.pending_email, undefined);
  const seen = await ok('getUser', 200, { token: admin.access, params: { id: u.id } });
  assert.equal(seen.name, '新しい 名前');
  for (const field of ['role', 'status', 'user_id', 'organization_id', 'password']) {
    const bad = await call('updateMe', { token: u.access, json: { [field]: field === 'role' ? 'admin' : 'x' } });
    expectFieldErrors(bad, field);
  }
  expectFieldErrors(await call('updateMe', { token: u.access, json: { email: 'nope', current_password: u.password } }), 'email');
  expectFieldErrors(await call('updateMe', { token: u.access, json: { name: '' } }), 'name');
  expectFieldErrors(await call('updateMe', { token: u.access, json: { name_kana: 'Ｋａｎａ漢字' } }), 'name_kana');
  expectFieldErrors(await call('updateMe', { token: u.access, json: { name: 'x', current_password: u.password } }), 'current_password');
  const still = await ok('getMe', 200, { token: u.access });
  assert.equal(still.user.role, 'user');
  assert.equal(still.user.email, u.email);
});

test('H-1-3: an e-mail change needs the current password, the new address confirms it, the old one is told', async () => {
  const u = await userIn(admin, 'user');
  const next = emailFor(uniq('moved'));
  const before = mail.snapshot();
  // A stolen session alone cannot move the address (where password resets go).
  expectFieldErrors(await call('updateMe', { token: u.access, json: { email: next } }), 'current_password');
  expectFieldErrors(await call('updateMe', { token: u.access, json: { email: next, current_password: 'not-the-password-1' } }), 'current_password');
  const asked = await ok('updateMe', 200, { token: u.access, json: { email: next, current_password: u.password, name: '移転 太郎' } });
  assert.equal(asked.email, u.email, 'the address changes only when confirmed');
  assert.equal(asked.pending_email, next);
  assert.equal(asked.name, '移転 太郎');
  const notice = await mail.waitForMail(u.email, { before, match: /メールアドレス変更/ });
  assert.ok(notice.text.includes(next), 'the old address is told where the change would go');
  const confirm = await mail.waitForMail(next, { before, match: /メールアドレス変更の確認/ });
  const token = mail.extractToken(confirm.text);
  assert.ok(token && token.length >= 40, 'a token in the confirmation mail');
  assert.ok(!notice.text.includes(token), 'the old address gets no token');
  assert.equal((await ok('getMe', 200, { token: u.access })).user.email, u.email);
  // A wrong token changes nothing; the right one, once.
  expectProblem(await call('confirmEmailChange', { json: { token: 'x'.repeat(43) } }), 400, 'bad-request');
  assert.equal((await call('confirmEmailChange', { json: { token } })).status, 204);
  assert.equal((await ok('getMe', 200, { token: u.access })).user.email, next);
  expectProblem(await call('confirmEmailChange', { json: { token } }), 400, 'bad-request');
  expectFieldErrors(await call('confirmEmailChange', { json: { token, extra: 1 } }), 'extra');
  expectFieldErrors(await call('confirmEmailChange', { json: {} }), 'token');
});

test('H-1-3: a pending e-mail change dies with a new password', async () => {
  const u = await userIn(admin, 'user');
  const next = emailFor(uniq('late'));
  const before = mail.snapshot();
  await ok('updateMe', 200, { token: u.access, json: { email: next, current_password: u.password } });
  const token = mail.extractToken((await mail.waitForMail(next, { before, match: /メールアドレス変更の確認/ })).text);
  const pw = newPassword();
  await ok('changePassword', 200, { token: u.access, json: { current_password: u.password, new_password: pw } });
  expectProblem(await call('confirmEmailChange', { json: { token } }), 400, 'bad-request');
  assert.equal((await ok('getUser', 200, { token: admin.access, params: { id: u.id } })).email, u.email);
});

test('H-1-4: an admin changes a user\'s profile and role; a demoted session loses the admin rights', async () => {
  const u = await userIn(admin, 'user');
  const p = await ok('updateUser', 200, { token: admin.access, params: { id: u.id }, json: { name: '変更 済み', name_kana: KANA } });
  assert.equal(p.name, '変更 済み');
  const still = await call('getMe', { token: u.access });
  assert.equal(still.status, 200, 'a profile change keeps the session');

  const promoted = await ok('updateUser', 200, { token: admin.access, params: { id: u.id }, json: { role: 'admin' } });
  assert.equal(promoted.role, 'admin');
  const old = await call('listUsers', { token: u.access });
  assert.ok([401, 403].includes(old.status), `a session from before the promotion: ${old.status}`);
  const again = await login(u.user_id, u.password);
  const me = await ok('getMe', 200, { token: again.access });
  assert.equal(me.user.role, 'admin');
  assert.ok(me.menu.some((m) => m.permission === 'users.manage'), 'an admin gets users.manage');
  assert.equal((await call('listUsers', { token: again.access })).status, 200);

  const demoted = await ok('updateUser', 200, { token: admin.access, params: { id: u.id }, json: { role: 'user' } });
  assert.equal(demoted.role, 'user');
  const stale = await call('listUsers', { token: again.access });
  assert.ok([401, 403].includes(stale.status), `the admin session of a demoted user still manages users: ${stale.status}`);
  const s3 = await login(u.user_id, u.password);
  expectProblem(await call('listUsers', { token: s3.access }), 403, 'forbidden');
});

test('H-1-4: disabling ends the sessions and refuses login; re-enabling lets the user in again', async () => {
  const u = await userIn(admin, 'user');
  const d = await ok('updateUser', 200, { token: admin.access, params: { id: u.id }, json: { status: 'disabled' } });
  assert.equal(d.status, 'disabled');
  expectProblem(await call('getMe', { token: u.access }), 401, 'unauthorized');
  expectProblem(await call('refreshToken', { json: { refresh_token: u.refresh } }), 401, 'unauthorized');
  const refused = await call('login', { json: { user_id: u.user_id, password: u.password } });
  expectProblem(refused, 403, 'forbidden');
  const wrong = await call('login', { json: { user_id: u.user_id, password: `${u.password}x` } });
  expectProblem(wrong, 401, 'unauthorized'); // only the right password learns the state
  const listed = await allPages('listUsers', { token: admin.access, query: { status: 'disabled' } });
  assert.ok(listed.some((x) => x.id === u.id));

  const e = await ok('updateUser', 200, { token: admin.access, params: { id: u.id }, json: { status: 'active' } });
  assert.equal(e.status, 'active');
  const back = await login(u.user_id, u.password);
  assert.equal((await call('getMe', { token: back.access })).status, 200);
  const bad = await call('updateUser', { token: admin.access, params: { id: u.id }, json: { status: 'suspended' } });
  expectFieldErrors(bad, 'status');
});

test('H-1-4: an admin-issued reset gives a temporary password and ends every session', async () => {
  const u = await userIn(admin, 'user');
  const second = await login(u.user_id, u.password);
  const before = Date.now();
  const r = await ok('resetUserPassword', 200, { token: admin.access, params: { id: u.id } });
  assert.ok(r.temporary_password.length >= POLICY.minLength);
  assert.ok(Math.abs(Date.parse(r.expires_at) - (before + POLICY.tempTtlH * 3600_000)) < 5 * 60_000);
  expectProblem(await call('getMe', { token: u.access }), 401, 'unauthorized');
  expectProblem(await call('getMe', { token: second.access }), 401, 'unauthorized');
  expectProblem(await call('login', { json: { user_id: u.user_id, password: u.password } }), 401, 'unauthorized');
  const t = await login(u.user_id, r.temporary_password);
  assert.equal(t.pwc, true);
  expectProblem(await call('updateMe', { token: t.access, json: { name: 'x' } }), 403, 'password-change-required');
  const seen = await ok('getUser', 200, { token: admin.access, params: { id: u.id } });
  assert.equal(seen.password_change_required, true);
  await activate(u.user_id, r.temporary_password);
});

test('H-1-4: an admin cannot disable or demote themselves (409) but may edit their profile', async () => {
  const { adminSession: a } = await orgWithAdmin('kokuhoren');
  expectProblem(await call('updateUser', { token: a.access, params: { id: a.id }, json: { status: 'disabled' } }), 409, 'conflict');
  expectProblem(await call('updateUser', { token: a.access, params: { id: a.id }, json: { role: 'user' } }), 409, 'conflict');
  const me = await ok('getMe', 200, { token: a.access });
  assert.equal(me.user.role, 'admin');
  assert.equal(me.user.status, 'active');
  const p = await ok('updateUser', 200, { token: a.access, params: { id: a.id }, json: { name_kana: 'カンリシャ' } });
  assert.equal(p.name_kana, 'カンリシャ');
});

test('H-1-4: another organisation\'s users are not found (404) and stay untouched', async () => {
  const victim = await userIn(other, 'user');
  for (const [op, opts] of [
    ['getUser', {}],
    ['updateUser', { json: { name: '乗っ取り' } }],
    ['resetUserPassword', {}],
  ]) {
    expectProblem(await call(op, { token: admin.access, params: { id: victim.id }, ...opts }), 404, 'not-found');
    expectProblem(await call(op, { token: admin.access, params: { id: other.id }, ...opts }), 404, 'not-found');
  }
  const seen = await ok('getUser', 200, { token: other.access, params: { id: victim.id } });
  assert.notEqual(seen.name, '乗っ取り');
  assert.equal((await call('getMe', { token: victim.access })).status, 200, 'the victim\'s session survived');
  const list = await call('listUsers', { token: admin.access, query: { organization_id: other.orgId } });
  expectProblem(list, 404, 'not-found');
});

test('rescue: the 国保中央会 admin may read, change and reset another organisation\'s admins, not its users', async () => {
  const ck = await chuokai();
  const { adminSession: a } = await orgWithAdmin('non_insurance_medical_institution');
  const u = await userIn(a, 'user');
  const got = await ok('getUser', 200, { token: ck.access, params: { id: a.id } });
  assert.equal(got.organization_id, a.orgId);
  const admins = await ok('listUsers', 200, { token: ck.access, query: { organization_id: a.orgId } });
  assert.deepEqual(admins.items.map((x) => x.id), [a.id]);
  expectProblem(await call('getUser', { token: ck.access, params: { id: u.id } }), 404, 'not-found');
  expectProblem(await call('resetUserPassword', { token: ck.access, params: { id: u.id } }), 404, 'not-found');
  const reset = await ok('resetUserPassword', 200, { token: ck.access, params: { id: a.id } });
  expectProblem(await call('getMe', { token: a.access }), 401, 'unauthorized');
  const back = await whoami(await activate(a.user_id, reset.temporary_password));
  assert.equal(back.id, a.id);
});
