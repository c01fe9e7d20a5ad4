-- 003_append_batch.sql - a batch is linked into the chain by one function call, not row by row.
--
-- Until now every row went through a PL/pgSQL row trigger (audit.chain, 001) that looked up the
-- last row and hashed the row: with the JSON decoding of the batch and twelve indexes, about
-- 40-100 us of database CPU per row. Writers (libs/common/src/audit.c) now call
-- audit.append(...) with one array per column, one statement per group-commit batch:
--   1. lock the chain head until the transaction ends (so positions follow commit order across
--      every service, as before), and continue from it (or from the last row, should one be
--      past it: the same rule as audit.chain);
--   2. build each row's canonical text after the previous hash in one set-based query (the same
--      fields, order and encoding as audit.row_digest, 001), with its position and timestamp;
--   3. chain the hashes in one tight loop: hash_i = SHA-256('sesshu-audit-v1|64:' ||
--      hex(hash_{i-1}) || '|' || text_i) - exactly row_digest's input, so audit.verify_chain
--      (002) checks these rows unchanged;
--   4. insert the batch with its chain fields in one statement; the statement trigger
--      chain_advance (001) moves the head to the last row.
-- The function runs as the owner: writers still cannot choose chain_pos, ts or the hashes (they
-- hold no INSERT right on those columns), and the row trigger of 001 now fires only for rows
-- inserted without chain_pos - a writer on the older library, whose plain INSERT is still
-- chained as before.
--
-- Indexes: request_id's served no query (dropped); ts's B-tree becomes a BRIN index (ts grows
-- with chain_pos, so block ranges summarise it well, at a fraction of the upkeep).

CREATE FUNCTION audit.append(
    request_id text[], service text[], actor_kind text[], actor_id text[], actor_login text[],
    org_id text[], org_type text[], muni_code text[], role text[], method text[], route text[],
    path text[], res_type text[], res_id text[], person_id text[], subject_org_id text[],
    subject_muni text[], client_ip text[], status integer[], duration_us bigint[])
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h_pos  bigint;
    h_hash bytea;
    texts  text[];
    tss    timestamptz[];
    hashes bytea[];
    prev   bytea;
    n      integer;
BEGIN
    -- As audit.chain (001): lock the head, continue from the later of the head and the last row.
    PERFORM 1 FROM audit.chain_head FOR UPDATE;
    SELECT CASE WHEN a.chain_pos > h.pos THEN a.chain_pos ELSE h.pos END,
           CASE WHEN a.chain_pos > h.pos THEN a.hash ELSE h.hash END
      INTO STRICT h_pos, h_hash
      FROM audit.chain_head h
      LEFT JOIN LATERAL (SELECT l.chain_pos, l.hash FROM audit.access_log l
                          ORDER BY l.chain_pos DESC LIMIT 1) a ON true;
    SELECT array_agg(concat_ws('|',
               audit.canon_field((h_pos + u.i)::text),
               audit.canon_field((extract(epoch FROM u.ts) * 1000000)::bigint::text),
               audit.canon_field(u.request_id), audit.canon_field(u.service),
               audit.canon_field(u.actor_kind), audit.canon_field(u.actor_id),
               audit.canon_field(u.actor_login), audit.canon_field(u.org_id),
               audit.canon_field(u.org_type), audit.canon_field(u.muni_code),
               audit.canon_field(u.role), audit.canon_field(u.method),
               audit.canon_field(u.route), audit.canon_field(u.path),
               audit.canon_field(u.res_type), audit.canon_field(u.res_id),
               audit.canon_field(u.person_id), audit.canon_field(u.subject_org_id),
               audit.canon_field(u.subject_muni), audit.canon_field(u.status::text),
               audit.canon_field(u.client_ip), audit.canon_field(u.duration_us::text))
               ORDER BY u.i),
           array_agg(u.ts ORDER BY u.i)
      INTO texts, tss
      FROM (SELECT x.*, clock_timestamp() AS ts
              FROM unnest(request_id, service, actor_kind, actor_id, actor_login, org_id, org_type,
                          muni_code, role, method, route, path, res_type, res_id, person_id,
                          subject_org_id, subject_muni, client_ip, status, duration_us)
                   WITH ORDINALITY AS x(request_id, service, actor_kind, actor_id, actor_login,
                                        org_id, org_type, muni_code, role, method, route, path,
                                        res_type, res_id, person_id, subject_org_id,
                                        subject_muni, client_ip, status, duration_us, i)) u;
    n := coalesce(cardinality(texts), 0);
    IF n = 0 THEN
        RETURN 0;
    END IF;
    hashes := array_fill(NULL::bytea, ARRAY[n]);
    prev := h_hash;
    FOR k IN 1 .. n LOOP
        prev := sha256(convert_to('sesshu-audit-v1|64:' || encode(prev, 'hex') || '|' || texts[k],
                                  'UTF8'));
        hashes[k] := prev;
    END LOOP;
    INSERT INTO audit.access_log (chain_pos, ts, prev_hash, hash, request_id, service, actor_kind,
                                  actor_id, actor_login, org_id, org_type, muni_code, role, method,
                                  route, path, res_type, res_id, person_id, subject_org_id,
                                  subject_muni, client_ip, status, duration_us)
    SELECT h_pos + x.i, tss[x.i::int], CASE WHEN x.i = 1 THEN h_hash ELSE hashes[x.i::int - 1] END,
           hashes[x.i::int], x.request_id, x.service, x.actor_kind, x.actor_id, x.actor_login, x.org_id,
           x.org_type, x.muni_code, x.role, x.method, x.route, x.path, x.res_type, x.res_id,
           x.person_id, x.subject_org_id, x.subject_muni, x.client_ip, x.status, x.duration_us
      FROM unnest(request_id, service, actor_kind, actor_id, actor_login, org_id, org_type,
                  muni_code, role, method, route, path, res_type, res_id, person_id,
                  subject_org_id, subject_muni, client_ip, status, duration_us)
           WITH ORDINALITY AS x(request_id, service, actor_kind, actor_id, actor_login, org_id,
                                org_type, muni_code, role, method, route, path, res_type, res_id,
                                person_id, subject_org_id, subject_muni, client_ip, status,
                                duration_us, i);
    RETURN n;
END
$$;

-- 001 revoked TRIGGER from the owner too: granted for these two statements only.
GRANT TRIGGER ON audit.access_log TO sesshu_audit;
DROP TRIGGER access_log_chain ON audit.access_log;
CREATE TRIGGER access_log_chain BEFORE INSERT ON audit.access_log
    FOR EACH ROW WHEN (NEW.chain_pos IS NULL) EXECUTE FUNCTION audit.chain();
REVOKE TRIGGER ON audit.access_log FROM sesshu_audit;

DROP INDEX audit.access_log_request;
DROP INDEX audit.access_log_ts;
CREATE INDEX access_log_ts ON audit.access_log USING brin (ts);

REVOKE ALL ON FUNCTION audit.append(text[], text[], text[], text[], text[], text[], text[], text[],
                                    text[], text[], text[], text[], text[], text[], text[], text[],
                                    text[], text[], integer[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.append(text[], text[], text[], text[], text[], text[], text[],
                                       text[], text[], text[], text[], text[], text[], text[],
                                       text[], text[], text[], text[], integer[], bigint[])
    TO sesshu_audit_writer;
