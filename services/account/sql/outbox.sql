-- outbox.sql - the mail outbox (mailout.c): at most 20 due messages a round, 8 attempts with
-- exponential back-off, the body dropped once sent or given up.

-- name: acct_outbox_sent
-- $1 id: bigint
UPDATE account.outbox
SET sent_at = now(), body = NULL
WHERE id = $1::bigint;

-- name: acct_outbox_failed
-- $1 id: bigint, the outbox row
-- $2 error: text, the SS_ERR_* name of the failure
UPDATE account.outbox
SET attempts = attempts + 1, last_error = $2, next_at = now() + make_interval(secs => 30 * power(2,
        attempts)), body = CASE WHEN attempts + 1 >= 8 THEN NULL ELSE body END
WHERE id = $1::bigint;

-- name: acct_outbox_due
SELECT id, to_addr, subject, coalesce(body, '')
FROM account.outbox
WHERE sent_at IS NULL AND attempts < 8 AND next_at <= now()
ORDER BY id
LIMIT 20
FOR UPDATE SKIP LOCKED;
