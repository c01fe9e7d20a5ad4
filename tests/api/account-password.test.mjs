// account-password.test.mjs - the password lifecycle: H-1-7 (a temporary password opens only
// change-password, logout and GET /me; it expires), the policy (length, login id inside,
// history), H-1-5 (reset by mail: single-use token, every session ends) and H-1-6 (login-id
// reminder by mail; the same 202 whether or not the address is known).
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok } from './lib/http.mjs';
import { expectProblem, expectFieldErrors } from './lib/problem.mjs';
import { orgWithAdmin, createUser, userIn, activate, login, newPassword, uniq, emailFor, personBody } from './lib/fixtures.mjs';
import { POLICY } from './lib/env.mjs';
import { snapshot, waitForMail, expectNoMail, extractToken } from './lib/mail.mjs';
import { agePasswordSetAt, expireResetTokens } from './lib/sql.mjs';

let admin; // activated admin of a non-insurance medical institution

before(async () => {
  ({ adminSession: admin } = await orgWithAdmin('non_insurance_medical_institution'));
});

test('H-1-7: a temporary-password session may only change the password, log out and read /me', async () => {
  const { user, temp } = await createUser(admin, 'admin');
  const s = await login(user.user_id, temp);
  assert.equal(s.pwc, true);
  const me = await ok('getMe', 200, { token: s.access });
  assert.equal(me.password_change_required, true);
  const countBefore = (await ok('listUsers', 200, { token: admin.access, query: { limit: 200 } })).items.length;
  const gated = [
    ['updateMe', { json: { name: 'x' } }],
    ['listUsers', {}],
    ['createUser', { json: { ...personBody(uniq('g')), role: 'user' } }],
    ['getUser', { params: { id: user.id } }],
    ['updateUser', { params: { id: user.id }, json: { name: 'x' } }],
    ['resetUserPassword', { params: { id: admin.id } }],
    ['listOrganizations', {}],
    ['getOrganization', { params: { id: admin.orgId } }],
    ['createOrganization', { json: {} }],
    ['updateOrganization', { params: { id: admin.orgId }, json: { name: 'x' } }],
    ['listAccessLogs', {}],
    ['verifyAccessLogs', {}],
  ];
  for (const [op, opts] of gated) {
    const r = await call(op, { token: s.access, ...opts });
    expectProblem(r, 403, 'password-change-required');
  }
  // Nothing was done by the refused calls.
  const users = await ok('listUsers', 200, { token: admin.access, query: { limit: 200 } });
  assert.equal(users.items.length, countBefore, 'a user was created by a temporary-password session');

  const second = await login(user.user_id, temp);
  assert.equal((await call('logout', { token: second.access })).status, 204);

  const np = newPassword();
  const pair = await ok('changePassword', 200, { token: s.access, json: { current_password: temp, new_password: np } });
  assert.equal(pair.password_change_required, false);
  expectProblem(await call('getMe', { token: s.access }), 401, 'unauthorized'); // the old session ended
  assert.equal((await call('listUsers', { token: pair.access_token })).status, 200);
  const me2 = await ok('getMe', 200, { token: pair.access_token });
  assert.equal(me2.password_change_required, false);
  expectProblem(await call('login', { json: { user_id: user.user_id, password: temp } }), 401, 'unauthorized');
});

test('H-1-7: a temporary password older than its lifetime no longer logs in', async () => {
  const { user, temp } = await createUser(admin, 'user');
  await agePasswordSetAt(user.id, POLICY.tempTtlH + 1);
  const r = await call('login', { json: { user_id: user.user_id, password: temp } });
  expectProblem(r, 401, 'unauthorized');
  assert.match(r.body.detail ?? '', /temporary password expired/i);
  // A wrong password still gets the plain answer (only the right one learns of the expiry).
  const w = await call('login', { json: { user_id: user.user_id, password: `${temp}x` } });
  expectProblem(w, 401, 'unauthorized');
  assert.doesNotMatch(w.body.detail ?? '', /expired/i);
  // The admin issues a new one, which works.
  const reset = await ok('resetUserPassword', 200, { token: admin.access, params: { id: user.id } });
  await activate(user.user_id, reset.temporary_password);
});

test('password policy: length, the login id inside, and reuse of the current password', async () => {
  const u = await userIn(admin, 'user');
  const change = (current, next, token = u.access) =>
    call('changePassword', { token, json: { current_password: current, new_password: next } });
  const short = 'a1-'.repeat(8).slice(0, POLICY.minLength - 1);
  expectFieldErrors(await change(u.password, short), 'new_password', 'password-policy');
  const withId = `Zq9-${u.user_id}-Xw`;
  expectFieldErrors(await change(u.password, withId), 'new_password', 'password-policy');
  const withIdUpper = `Zq9-${u.user_id.toUpperCase()}-Xw`;
  expectFieldErrors(await change(u.password, withIdUpper), 'new_password', 'password-policy');
  expectFieldErrors(await change(u.password, u.password), 'new_password', 'password-policy');
  // A wrong current password changes nothing.
  const wrong = await change(`${u.password}x`, newPassword());
  assert.ok([400, 401, 403, 422].includes(wrong.status), `wrong current password: ${wrong.status}`);
  // Exactly the minimum length is enough.
  const exact = 'k7#Lm2$Qp9@Wz4&Rt6'.slice(0, POLICY.minLength);
  const pair = await ok('changePassword', 200, { token: u.access, json: { current_password: u.password, new_password: exact } });
  assert.equal((await call('getMe', { token: pair.access_token })).status, 200);
  await login(u.user_id, exact);
});

test(`password policy: none of the last ${POLICY.history} passwords may come back`, { timeout: 120_000 }, async () => {
  const u = await userIn(admin, 'user');
  let current = u.password;
  let token = u.access;
  const chosen = [current];
  const step = async (next) => {
    const pair = await ok('changePassword', 200, { token, json: { current_password: current, new_password: next } });
    current = next;
    token = pair.access_token;
    chosen.push(next);
  };
  for (let i = 1; i < POLICY.history; i++) await step(newPassword());
  // chosen holds the last `history` passwords (the current one included): all refused.
  for (const old of chosen) {
    const r = await call('changePassword', { token, json: { current_password: current, new_password: old } });
    expectFieldErrors(r, 'new_password', 'password-policy');
  }
  // One more change pushes the oldest out of the history: it may be chosen again.
  await step(newPassword());
  await step(chosen[0]);
  await login(u.user_id, chosen[0]);
});

test('H-1-5: reset by mail; the token works once; every session ends', { timeout: 60_000 }, async () => {
  const u = await userIn(admin, 'user');
  const other = await login(u.user_id, u.password);
  const seen = snapshot();
  const r = await call('requestPasswordReset', { json: { user_id: u.user_id } });
  assert.equal(r.status, 202);
  const mail = await waitForMail(u.email, { before: seen });
  const token = extractToken(mail.text);
  assert.ok(token && token.length >= 16, `no token in the reset mail:\n${mail.text}`);
  assert.ok(!mail.text.includes(u.password));

  const weak = await call('confirmPasswordReset', { json: { token, new_password: 'short' } });
  expectFieldErrors(weak, 'new_password', 'password-policy');
  const np = newPassword();
  const c = await call('confirmPasswordReset', { json: { token, new_password: np } });
  assert.equal(c.status, 204, c.text);
  expectProblem(await call('getMe', { token: u.access }), 401, 'unauthorized');
  expectProblem(await call('getMe', { token: other.access }), 401, 'unauthorized');
  expectProblem(await call('login', { json: { user_id: u.user_id, password: u.password } }), 401, 'unauthorized');
  const s = await login(u.user_id, np);
  assert.equal(s.pwc, false);

  const twice = await call('confirmPasswordReset', { json: { token, new_password: newPassword() } });
  expectProblem(twice, 400);
  const bogus = await call('confirmPasswordReset', { json: { token: 'A'.repeat(43), new_password: newPassword() } });
  expectProblem(bogus, 400);
  sameAnswer(twice, bogus);
  await login(u.user_id, np); // the refused confirmations changed nothing
});

test('H-1-5: an expired reset token is refused like a bogus one', { timeout: 60_000 }, async () => {
  const u = await userIn(admin, 'user');
  const seen = snapshot();
  assert.equal((await call('requestPasswordReset', { json: { user_id: u.user_id } })).status, 202);
  const token = extractToken((await waitForMail(u.email, { before: seen })).text);
  await expireResetTokens(u.id); // 30 minutes cannot be waited for
  const r = await call('confirmPasswordReset', { json: { token, new_password: newPassword() } });
  expectProblem(r, 400);
  const bogus = await call('confirmPasswordReset', { json: { token: 'A'.repeat(43), new_password: newPassword() } });
  sameAnswer(r, bogus);
  await login(u.user_id, u.password); // unchanged
});

function sameAnswer(a, b) {
  assert.equal(a.status, b.status);
  assert.equal(a.body?.type, b.body?.type);
  assert.equal(a.body?.detail, b.body?.detail);
}

test('H-1-5: the same 202 for unknown and disabled users, and they get no mail', async () => {
  const u = await userIn(admin, 'user');
  await ok('updateUser', 200, { token: admin.access, params: { id: u.id }, json: { status: 'disabled' } });
  const seen = snapshot();
  const a = await call('requestPasswordReset', { json: { user_id: u.user_id } });
  const b = await call('requestPasswordReset', { json: { user_id: uniq('ghost') } });
  assert.equal(a.status, 202);
  assert.equal(b.status, 202);
  assert.equal(a.text, b.text);
  await expectNoMail(u.email, { before: seen });
});

test('H-1-6: the reminder lists every login id of the address; same 202 for unknown addresses', { timeout: 60_000 }, async () => {
  const shared = emailFor(uniq('shared'));
  const one = await createUser(admin, 'user', { email: shared });
  const two = await createUser(admin, 'user', { email: shared });
  const elsewhere = await createUser(admin, 'user');
  const seen = snapshot();
  const r = await call('requestUserIdReminder', { json: { email: shared.toUpperCase() } });
  assert.equal(r.status, 202);
  const ghost = await call('requestUserIdReminder', { json: { email: emailFor(uniq('nobody')) } });
  assert.equal(ghost.status, 202);
  assert.equal(r.text, ghost.text);
  const mail = await waitForMail(shared, { before: seen });
  assert.ok(mail.text.includes(one.user.user_id), `the mail lacks ${one.user.user_id}:\n${mail.text}`);
  assert.ok(mail.text.includes(two.user.user_id), `the mail lacks ${two.user.user_id}:\n${mail.text}`);
  assert.ok(!mail.text.includes(elsewhere.user.user_id));
  assert.ok(!mail.text.includes(one.temp) && !mail.text.includes(two.temp), 'a password in the mail');
  expectFieldErrors(await call('requestUserIdReminder', { json: { email: 'not-an-address' } }), 'email');
});

test('the password change takes no guesses on a locked account, and the right password does not lift the lock', { timeout: 60_000 }, async () => {
  const u = await userIn(admin, 'user');
  for (let i = 0; i < POLICY.maxFailures; i++) {
    expectFieldErrors(await call('changePassword', { token: u.access, json: { current_password: `wrong-guess-${i}-xyz`, new_password: newPassword() } }), 'current_password');
  }
  // Locked now: a guess is not even tried, and the right password is refused the same way.
  for (const current of ['another-guess-xyz', u.password]) {
    const r = await call('changePassword', { token: u.access, json: { current_password: current, new_password: newPassword() }, retry429: false });
    expectProblem(r, 429, 'rate-limited');
  }
  expectProblem(await call('login', { json: { user_id: u.user_id, password: u.password } }), 401, 'unauthorized');
  // The e-mail change re-authenticates the same way.
  expectProblem(await call('updateMe', { token: u.access, json: { email: emailFor(uniq('x')), current_password: u.password }, retry429: false }), 429, 'rate-limited');
});

test('a password change ends every outstanding reset token', { timeout: 60_000 }, async () => {
  const u = await userIn(admin, 'user');
  const seen = snapshot();
  assert.equal((await call('requestPasswordReset', { json: { user_id: u.user_id } })).status, 202);
  const token = extractToken((await waitForMail(u.email, { before: seen })).text);
  const np = newPassword();
  await ok('changePassword', 200, { token: u.access, json: { current_password: u.password, new_password: np } });
  expectProblem(await call('confirmPasswordReset', { json: { token, new_password: newPassword() } }), 400);
  await login(u.user_id, np);
});

test('password policy: repetitive and sequential passwords are refused whatever their length', async () => {
  const u = await userIn(admin, 'user');
  for (const weak of ['aaaaaaaaaaaaa', 'abababababababab', 'abcdefghijklmnop', 'ponmlkjihgfedcba', '1111111111111111111111', 'zyxwvutsrqponm']) {
    const r = await call('changePassword', { token: u.access, json: { current_password: u.password, new_password: weak } });
    expectFieldErrors(r, 'new_password', 'password-policy');
    assert.ok(['repetitive', 'sequential'].includes(r.body.errors[0].reason), `${weak}: ${JSON.stringify(r.body.errors)}`);
  }
  // Just past the rule: five different characters, not one run.
  const fine = 'aaaaaaaabcdeq';
  await ok('changePassword', 200, { token: u.access, json: { current_password: u.password, new_password: fine } });
});
