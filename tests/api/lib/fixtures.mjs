// fixtures.mjs - uniquely named test data made through the API: organisations with their first
// admin, users, sessions with a permanent password. Every name carries a random suffix so tests
// run in any order and against a database that already holds earlier runs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ADMIN_LOGIN, need } from './env.mjs';
import { call, ok } from './http.mjs';
import { codeFor, prefectureOf } from './codes.mjs';

export function suffix(n = 5) {
  return randomBytes(n).toString('hex');
}

// A login id: lower-case letters, digits and hyphens, at most 32 characters.
export function uniq(prefix = 't') {
  return `${prefix}-${suffix(5)}`.slice(0, 32);
}

export function emailFor(local) {
  return `${local}@mail.sesshu.test`;
}

// A password that meets the policy (length >= 13, no login id in it).
export function newPassword() {
  return `Pw-${randomBytes(12).toString('base64url')}-7k`;
}

export const KANA = 'シケンタロウ';

export function personBody(userId, extra = {}) {
  return { user_id: userId, name: `試験 太郎 ${userId}`, name_kana: KANA, email: emailFor(userId), ...extra };
}

export async function login(userId, password) {
  const r = await call('login', { json: { user_id: userId, password } });
  assert.equal(r.status, 200, `login ${userId}: ${r.status} ${r.text}`);
  return {
    user_id: userId,
    password,
    access: r.body.access_token,
    refresh: r.body.refresh_token,
    pwc: r.body.password_change_required,
  };
}

// Log in with a temporary password and replace it: a session on a permanent password.
export async function activate(userId, temporary) {
  const s = await login(userId, temporary);
  assert.equal(s.pwc, true, `${userId} logged in with a temporary password without password_change_required`);
  const password = newPassword();
  const pair = await ok('changePassword', 200, {
    token: s.access,
    json: { current_password: temporary, new_password: password },
  });
  assert.equal(pair.password_change_required, false);
  return { user_id: userId, password, access: pair.access_token, refresh: pair.refresh_token, pwc: false };
}

// Adds id, orgId, org, role, type from GET /me.
export async function describe(session) {
  const me = await ok('getMe', 200, { token: session.access });
  return Object.assign(session, {
    id: me.user.id,
    orgId: me.organization.id,
    org: me.organization,
    role: me.user.role,
    type: me.organization.type,
    email: me.user.email,
  });
}

let chuokaiSession;
// The 国保中央会 admin of the stack (permanent password from SESSHU_TEST_ADMIN_PASSWORD),
// logged in once per test file.
export async function chuokai() {
  if (!chuokaiSession) chuokaiSession = await describe(await login(ADMIN_LOGIN, need('SESSHU_TEST_ADMIN_PASSWORD')));
  return chuokaiSession;
}

export function orgBody(type, code, adminId, extra = {}) {
  const body = {
    type,
    code,
    name: `試験組織 ${code} ${suffix(3)}`,
    name_kana: 'シケンソシキ',
    admin: personBody(adminId),
    ...extra,
  };
  const pref = prefectureOf(type, code);
  if (pref !== undefined && !('prefecture_code' in extra)) body.prefecture_code = pref;
  return body;
}

/**
 * Creates an organisation of `type` with a fresh first admin (as the 国保中央会 admin).
 * Retries with another code when the code is taken (409), which matters for kokuhoren (47
 * codes). Returns { org, admin (user), adminTemp, code }.
 */
export async function createOrg(type, extra = {}) {
  const ck = await chuokai();
  let last;
  const tries = type === 'kokuhoren' ? 47 : 5;
  for (let attempt = 0; attempt < tries; attempt++) {
    const code = extra.code ?? codeFor(type, attempt);
    const adminId = extra.adminId ?? uniq(`a${type.slice(0, 3)}`);
    const { code: _c, adminId: _a, ...rest } = extra;
    last = await call('createOrganization', { token: ck.access, json: orgBody(type, code, adminId, rest) });
    if (last.status === 201) {
      return { org: last.body.organization, admin: last.body.admin, adminTemp: last.body.temporary_password, code };
    }
    if (last.status !== 409 || extra.code) break;
  }
  throw new Error(`createOrganization ${type}: ${last.status} ${last.text}`);
}

// Creates a user in the admin session's organisation. Returns { user, temp }.
export async function createUser(adminSession, role = 'user', extra = {}) {
  const id = extra.user_id ?? uniq(role === 'admin' ? 'ad' : 'us');
  const body = await ok('createUser', 201, { token: adminSession.access, json: { ...personBody(id), role, ...extra } });
  return { user: body.user, temp: body.temporary_password };
}

// An organisation of `type` with an activated admin session (describe()d).
export async function orgWithAdmin(type, extra = {}) {
  const made = await createOrg(type, extra);
  const admin = await describe(await activate(made.admin.user_id, made.adminTemp));
  return { ...made, adminSession: admin };
}

// An activated, describe()d user of role `role` in the admin session's organisation.
export async function userIn(adminSession, role = 'user', extra = {}) {
  const { user, temp } = await createUser(adminSession, role, extra);
  return describe(await activate(user.user_id, temp));
}

/**
 * A principal of (org type, role) with a permanent password. For chuokai a new user of the
 * 国保中央会 organisation (never chuokai-admin itself); otherwise a new organisation.
 * Returns the session, plus `orgAdmin` (the organisation's admin session).
 */
export async function principal(type, role) {
  if (type === 'chuokai') {
    const ck = await chuokai();
    const s = await userIn(ck, role);
    s.orgAdmin = ck;
    return s;
  }
  const { adminSession } = await orgWithAdmin(type);
  adminSession.orgAdmin = adminSession;
  if (role === 'admin') return adminSession;
  const s = await userIn(adminSession, 'user');
  s.orgAdmin = adminSession;
  return s;
}

// Every page of a list operation (bounded).
export async function allPages(opId, opts, maxPages = 100) {
  const items = [];
  let cursor;
  for (let i = 0; i < maxPages; i++) {
    const body = await ok(opId, 200, { ...opts, query: { ...(opts.query ?? {}), cursor } });
    items.push(...body.items);
    if (body.next_cursor === null) return items;
    cursor = body.next_cursor;
  }
  throw new Error(`${opId}: more than ${maxPages} pages`);
}
