// account-inactive.test.mjs - H-1-8: accounts unused for SESSHU_INACTIVE_DAYS are suspended by
// `sesshu-account suspend-inactive`, those within SESSHU_INACTIVE_WARN_DAYS of it are warned by
// mail; a suspended user cannot log in until an admin re-enables them. Ageing the last login is
// done in SQL (SESSHU_TEST_PSQL): it cannot be waited for.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok, eventually } from './lib/http.mjs';
import { expectProblem } from './lib/problem.mjs';
import { orgWithAdmin, userIn, login } from './lib/fixtures.mjs';
import { POLICY } from './lib/env.mjs';
import { ageLastLogin, runAccount } from './lib/sql.mjs';
import { snapshot, waitForMail, expectNoMail } from './lib/mail.mjs';

let admin;

before(async () => {
  ({ adminSession: admin } = await orgWithAdmin('mhlw'));
});

async function runJob() {
  const r = await runAccount('suspend-inactive');
  assert.equal(r.code, 0, `suspend-inactive exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

test('H-1-8: warning mail before the limit, suspension after it, re-enabling by the admin', { timeout: 120_000 }, async () => {
  const fresh = await userIn(admin, 'user');
  const warn = await userIn(admin, 'user');
  const gone = await userIn(admin, 'user');
  const warnDays = POLICY.inactiveDays - Math.max(1, Math.floor(POLICY.warnDays / 2)); // inside the warning window
  await ageLastLogin(warn.id, warnDays);
  await ageLastLogin(gone.id, POLICY.inactiveDays + 1);
  const seen = snapshot();
  await runJob();

  // The warned user: a mail naming the login id, still active, still logged in.
  const mail = await waitForMail(warn.email, { before: seen });
  assert.ok(mail.text.includes(warn.user_id), `the warning does not name ${warn.user_id}:\n${mail.text}`);
  const w = await ok('getUser', 200, { token: admin.access, params: { id: warn.id } });
  assert.equal(w.status, 'active');
  assert.equal((await call('getMe', { token: warn.access })).status, 200);

  // The inactive user: suspended, sessions ended, login refused (403) with the right password.
  const g = await ok('getUser', 200, { token: admin.access, params: { id: gone.id } });
  assert.equal(g.status, 'suspended');
  await eventually(async () => expectProblem(await call('getMe', { token: gone.access }), 401, 'unauthorized'), { timeoutMs: 5000 });
  const refused = await call('login', { json: { user_id: gone.user_id, password: gone.password } });
  expectProblem(refused, 403, 'forbidden');
  assert.match(refused.body.detail ?? '', /suspend/i);
  const listed = await ok('listUsers', 200, { token: admin.access, query: { status: 'suspended', limit: 200 } });
  assert.ok(listed.items.some((u) => u.id === gone.id));

  // Recently active users are untouched and not warned.
  const f = await ok('getUser', 200, { token: admin.access, params: { id: fresh.id } });
  assert.equal(f.status, 'active');
  await expectNoMail(fresh.email, { before: seen, ms: 500 });

  // The admin re-enables; the user logs in again, and a second run leaves them alone.
  const back = await ok('updateUser', 200, { token: admin.access, params: { id: gone.id }, json: { status: 'active' } });
  assert.equal(back.status, 'active');
  await login(gone.user_id, gone.password);
  await runJob();
  const again = await ok('getUser', 200, { token: admin.access, params: { id: gone.id } });
  assert.equal(again.status, 'active', 'a re-enabled user was suspended again by the next run');
});
