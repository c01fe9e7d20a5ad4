// env.mjs - what the test environment gives (scripts/test.sh sets these) and the stack's own
// configuration, read from the sourceable env file the services were started with.
import { execFileSync } from 'node:child_process';

function trimSlash(u) {
  return u.replace(/\/+$/, '');
}

export const BASE = trimSlash(process.env.SESSHU_TEST_BASE_URL ?? 'http://127.0.0.1:8080');
export const ACCOUNT_URL = trimSlash(process.env.SESSHU_TEST_ACCOUNT_URL ?? 'http://127.0.0.1:8101');
export const AUDIT_URL = trimSlash(process.env.SESSHU_TEST_AUDIT_URL ?? 'http://127.0.0.1:8108');
export const ADMIN_LOGIN = 'chuokai-admin';

// A missing variable fails the test that needs it, with a line saying which one.
export function need(name) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    throw new Error(`${name} is not set: run the API tests through scripts/test.sh`);
  }
  return v;
}

let stackEnvCache;
// The variables the stack was started with (SESSHU_TEST_ENV_FILE sourced by sh), or {}.
export function stackEnv() {
  if (stackEnvCache !== undefined) return stackEnvCache;
  stackEnvCache = {};
  const file = process.env.SESSHU_TEST_ENV_FILE;
  if (!file) return stackEnvCache;
  const out = execFileSync('sh', ['-c', 'set -a; . "$1" >/dev/null 2>&1; set +a; env -0', 'sh', file], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeout: 10_000,
  });
  for (const kv of out.toString('utf8').split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0 && kv.startsWith('SESSHU_')) stackEnvCache[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return stackEnvCache;
}

// A policy number of the stack (README "Policy"), else its documented default.
export function policy(name, def) {
  const v = stackEnv()[name];
  return v === undefined || v === '' ? def : Number(v);
}

export const POLICY = {
  get minLength() {
    return policy('SESSHU_PW_MIN_LENGTH', 13);
  },
  get history() {
    return policy('SESSHU_PW_HISTORY', 5);
  },
  get tempTtlH() {
    return policy('SESSHU_TEMP_PW_TTL_H', 72);
  },
  get maxFailures() {
    return policy('SESSHU_LOGIN_MAX_FAILURES', 5);
  },
  get lockMinutes() {
    return policy('SESSHU_LOCK_MINUTES', 15);
  },
  get accessTtlS() {
    return policy('SESSHU_ACCESS_TTL_S', 900);
  },
  get inactiveDays() {
    return policy('SESSHU_INACTIVE_DAYS', 90);
  },
  get warnDays() {
    return policy('SESSHU_INACTIVE_WARN_DAYS', 14);
  },
};
