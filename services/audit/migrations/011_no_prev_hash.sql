-- 011_no_prev_hash.sql - the row no longer stores its predecessor's hash (issue 14 §3, issue 15 §3).
--
-- prev_hash (33 bytes a row) is the hash of the row before it in its stream (007; for the rows
-- of the single chain, the row before it by chain_pos; 32 zero bytes for a first row): a copy of
-- a column of another row. verify (the walk) already reads that row to check the link, so it
-- now feeds the predecessor's hash straight into the digest: a row is intact when its hash is
-- the digest of its predecessor's hash and its own contents, which is what the two checks
-- (prev_hash = the predecessor's hash, hash = digest(prev_hash, row)) said together. The digest,
-- its canonical text and every stored hash are unchanged, so the checkpoints' tree, the stored
-- subtrees and every proof are the same bytes. What verify names: a changed row is still the
-- first broken row ("hash does not match the row contents and the previous row"); a row whose
-- predecessor was changed with its hash rewritten consistently is named in its place (it was
-- "prev_hash does not match the previous row"); a gap is "row missing" as before.
--
-- The column is dropped (catalog only: rows already written keep their bytes until their
-- partition is rewritten or archived; new rows do not carry it). append (007) and the row
-- trigger (007) write every column but it; verify is the walk of 010 without it.

ALTER TABLE audit.access_log DROP COLUMN prev_hash;

-- 007's append, without prev_hash.
CREATE OR REPLACE FUNCTION audit.append(
    p_stream text,
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
    rows   audit.access_log[];
    prev   bytea;
    n      integer;
BEGIN
    -- The stream's head, locked (stream_head's two statements inlined: this runs per request).
    SELECT s.pos, s.hash INTO h_pos, h_hash FROM audit.streams s WHERE s.stream = p_stream
       FOR UPDATE;
    IF NOT FOUND THEN
        SELECT h.pos, h.hash INTO h_pos, h_hash FROM audit.stream_head(p_stream) h;
    END IF;
    SELECT array_agg(ROW(NULL, nextval('audit.access_log_pos'), clock_timestamp(), u.request_id,
                         u.service, u.actor_kind, u.actor_id, u.actor_login, u.org_id,
                         u.org_type, u.muni_code, u.role, u.method, u.route, u.path,
                         u.res_type, u.res_id, u.person_id, u.subject_org_id, u.subject_muni,
                         u.status, u.client_ip, u.duration_us, NULL, p_stream,
                         h_pos + u.i, pg_current_xact_id())::audit.access_log ORDER BY u.i)
      INTO rows
      FROM unnest(request_id, service, actor_kind, actor_id, actor_login, org_id, org_type,
                  muni_code, role, method, route, path, res_type, res_id, person_id,
                  subject_org_id, subject_muni, client_ip, status, duration_us)
           WITH ORDINALITY AS u(request_id, service, actor_kind, actor_id, actor_login, org_id,
                                org_type, muni_code, role, method, route, path, res_type,
                                res_id, person_id, subject_org_id, subject_muni, client_ip,
                                status, duration_us, i);
    n := coalesce(cardinality(rows), 0);
    IF n = 0 THEN
        RETURN 0;
    END IF;
    prev := h_hash;
    FOR k IN 1 .. n LOOP
        rows[k].hash := audit.row_digest_v2(prev, rows[k]);
        prev := rows[k].hash;
    END LOOP;
    INSERT INTO audit.access_log (chain_pos, ts, request_id, service, actor_kind, actor_id,
                                  actor_login, org_id, org_type, muni_code, role, method, route,
                                  path, res_type, res_id, person_id, subject_org_id, subject_muni,
                                  status, client_ip, duration_us, hash, stream, stream_pos,
                                  xid)
    SELECT x.chain_pos, x.ts, x.request_id, x.service, x.actor_kind, x.actor_id, x.actor_login,
           x.org_id, x.org_type, x.muni_code, x.role, x.method, x.route, x.path, x.res_type,
           x.res_id, x.person_id, x.subject_org_id, x.subject_muni, x.status, x.client_ip,
           x.duration_us, x.hash, x.stream, x.stream_pos, x.xid
      FROM unnest(rows) x;
    UPDATE audit.streams s SET pos = h_pos + n, hash = prev WHERE s.stream = p_stream;
    RETURN n;
END
$$;
-- 007's row trigger, without prev_hash.
CREATE OR REPLACE FUNCTION audit.chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h_pos  bigint;
    h_hash bytea;
BEGIN
    NEW.stream := coalesce(NEW.service, 'unknown') || '/insert';
    SELECT h.pos, h.hash INTO h_pos, h_hash FROM audit.stream_head(NEW.stream) h;
    -- ts keeps its default (clock_timestamp()): writers hold no right to set it, and a
    -- partition is chosen by it (008) before this trigger runs.
    NEW.chain_pos := nextval('audit.access_log_pos');
    NEW.stream_pos := h_pos + 1;
    NEW.xid := pg_current_xact_id();
    NEW.hash := audit.row_digest_v2(h_hash, NEW);
    UPDATE audit.streams s SET pos = NEW.stream_pos, hash = NEW.hash WHERE s.stream = NEW.stream;
    RETURN NEW;
END
$$;

-- 010's walk, the predecessor's hash fed into the digest.
CREATE OR REPLACE FUNCTION audit.verify_chain(from_pos bigint, max_rows bigint)
    RETURNS TABLE (checked bigint, last_pos bigint, broken_pos bigint, broken_seq bigint,
                   reason text, head_pos bigint, head_hash bytea, complete boolean)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    zero bytea := decode(repeat('00', 32), 'hex');
    b    record;
BEGIN
    SELECT l.chain_pos, l.hash INTO head_pos, head_hash FROM audit.access_log l
     ORDER BY l.chain_pos DESC LIMIT 1;
    head_pos := coalesce(head_pos, 0);
    SELECT count(*), max(w.chain_pos) INTO checked, last_pos
      FROM (SELECT l.chain_pos FROM audit.access_log l WHERE l.chain_pos >= from_pos
             ORDER BY l.chain_pos LIMIT max_rows) w;
    complete := checked < max_rows;
    -- The first row of the range that breaks its stream.
    SELECT x.chain_pos, x.seq, x.why INTO b FROM (
        SELECT r.chain_pos, r.seq, CASE
            WHEN r.pred_pos IS DISTINCT FROM r.k - 1 AND r.k > 1 THEN 'row missing'
            WHEN r.hash IS DISTINCT FROM CASE WHEN r.stream IS NULL
                     THEN audit.row_digest(r.prev, r.rw) ELSE audit.row_digest_v2(r.prev, r.rw) END
                THEN 'hash does not match the row contents and the previous row'
            END AS why
          FROM (SELECT w.*, coalesce(w.lag_pos, p.k) AS pred_pos,
                       coalesce(CASE WHEN w.lag_pos IS NOT NULL THEN w.lag_hash ELSE p.hash END,
                                CASE WHEN w.k = 1 THEN zero END) AS prev
                  FROM (SELECT l.rw, l.chain_pos, l.seq, l.stream, l.hash,
                               coalesce(l.stream_pos, l.chain_pos) AS k,
                               lag(coalesce(l.stream_pos, l.chain_pos)) OVER s AS lag_pos,
                               lag(l.hash) OVER s AS lag_hash
                          FROM (SELECT l0 AS rw, l0.* FROM audit.access_log l0
                                 WHERE l0.chain_pos >= from_pos
                                 ORDER BY l0.chain_pos LIMIT max_rows) l
                        WINDOW s AS (PARTITION BY l.stream
                                     ORDER BY coalesce(l.stream_pos, l.chain_pos))) w
                  LEFT JOIN LATERAL (
                      SELECT coalesce(q.stream_pos, q.chain_pos) AS k, q.hash
                        FROM audit.access_log q
                       WHERE w.lag_pos IS NULL AND w.k > 1
                         AND ((w.stream IS NULL AND q.stream IS NULL AND q.chain_pos = w.k - 1)
                           OR (w.stream IS NOT NULL
                               AND hashtextextended(q.stream, 0) = hashtextextended(w.stream, 0)
                               AND q.stream = w.stream AND q.stream_pos = w.k - 1))) p ON true) r) x
     WHERE x.why IS NOT NULL ORDER BY x.chain_pos LIMIT 1;
    IF FOUND THEN
        broken_pos := b.chain_pos;
        broken_seq := b.seq;
        reason := b.why;
        RETURN NEXT;
        RETURN;
    END IF;
    IF complete THEN
        -- A row cut off the end of a stream (or of the single chain) leaves its head behind.
        SELECT x.k INTO broken_pos FROM (
            SELECT coalesce(t.chain_pos, 0) AS k FROM audit.streams s
              LEFT JOIN LATERAL (SELECT l.chain_pos, l.stream_pos, l.hash FROM audit.access_log l
                                  WHERE hashtextextended(l.stream, 0) = hashtextextended(s.stream, 0)
                                    AND l.stream = s.stream ORDER BY l.stream_pos DESC LIMIT 1) t
                     ON true
             WHERE s.pos > 0 AND (t.stream_pos IS DISTINCT FROM s.pos OR t.hash IS DISTINCT FROM s.hash)
            UNION ALL
            SELECT coalesce(t.chain_pos, 0) FROM audit.chain_head h
              LEFT JOIN LATERAL (SELECT l.chain_pos, l.hash FROM audit.access_log l
                                  WHERE l.stream IS NULL ORDER BY l.chain_pos DESC LIMIT 1) t
                     ON true
             WHERE h.pos > 0 AND (t.chain_pos IS DISTINCT FROM h.pos OR t.hash IS DISTINCT FROM h.hash)) x
         LIMIT 1;
        IF FOUND THEN
            reason := 'chain head does not match the last row';
        END IF;
    END IF;
    RETURN NEXT;
END
$$;
REVOKE ALL ON FUNCTION audit.verify_chain(bigint, bigint) FROM PUBLIC;
