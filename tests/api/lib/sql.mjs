// sql.mjs - test setup that cannot go through the API, as the database superuser
// (SESSHU_TEST_PSQL), and the account binary's job (SESSHU_TEST_ACCOUNT_BIN with the stack's
// environment). Only for aging timestamps, running the H-1-8 job and tampering with the audit
// chain to prove that `verify` sees it.
import { execFile } from 'node:child_process';
import { need } from './env.mjs';

function sh(script, args, env, timeoutMs) {
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', script, 'sh', ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr, err });
      },
    );
  });
}

// SQL literal (our own generated values only).
export function lit(s) {
  return `'${String(s).replace(/'/g, "''")}'`;
}

/** Runs SQL (one -c; several statements in one implicit transaction). Returns rows as arrays of
 * strings (psql -At, fields split on \x1f). Throws on error unless allowError. */
export async function psql(sqlText, { allowError = false } = {}) {
  const prefix = need('SESSHU_TEST_PSQL');
  const r = await sh(
    `${prefix} -X -q -v ON_ERROR_STOP=1 -A -t -F "$(printf '\\037')" -c "$SESSHU_T_SQL"`,
    [],
    { SESSHU_T_SQL: sqlText },
    30_000,
  );
  if (r.code !== 0 && !allowError) throw new Error(`psql failed (${r.code}): ${r.stderr}\nSQL: ${sqlText}`);
  const rows = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\x1f'));
  return { ...r, rows };
}

// A password set `hours` ago (H-1-7 expiry): pw_set_at moves back, and a temporary password's
// expiry (pw_expires_at = set + SESSHU_TEMP_PW_TTL_H) with it.
export async function agePasswordSetAt(userUuid, hours) {
  const h = Number(hours);
  await psql(
    `UPDATE account.users SET pw_expires_at = CASE WHEN pw_temporary THEN pw_expires_at - (pw_set_at - (now() - interval '${h} hours')) ELSE pw_expires_at END, ` +
      `pw_set_at = now() - interval '${h} hours' WHERE id = ${lit(userUuid)}`,
  );
}

// Last login `days` ago (H-1-8). The account was created (and last re-enabled) before that,
// else the inactivity clock, which counts from the latest of the three, would not have run.
export async function ageLastLogin(userUuid, days) {
  const d = Number(days);
  await psql(
    `UPDATE account.users SET last_login_at = now() - interval '${d} days', ` +
      `created_at = least(created_at, now() - interval '${d + 1} days'), reactivated_at = NULL WHERE id = ${lit(userUuid)}`,
  );
}

// Every outstanding password-reset token of the user expired a minute ago (H-1-5).
export async function expireResetTokens(userUuid) {
  await psql(`UPDATE account.reset_tokens SET expires_at = now() - interval '1 minute' WHERE user_id = ${lit(userUuid)} AND used_at IS NULL`);
}

// `sesshu-account <args>` with the stack's environment (sourced from SESSHU_TEST_ENV_FILE).
export async function runAccount(...args) {
  const bin = need('SESSHU_TEST_ACCOUNT_BIN');
  const envFile = need('SESSHU_TEST_ENV_FILE');
  return sh('set -a; . "$SESSHU_T_ENV"; set +a; exec "$SESSHU_T_BIN" "$@"', args, { SESSHU_T_ENV: envFile, SESSHU_T_BIN: bin }, 120_000);
}
