-- 007_streams.sql - one hash chain per writer stream instead of one chain, one lock, for the
-- whole country (issue 14 §2).
--
-- Until now every batch of every service locked audit.chain_head until its transaction
-- committed (001, 003), so every logged request in the system serialised on one row, and a
-- write request (whose row commits with its change, 004) held that lock through its commit's
-- WAL flush: no two writes could share a flush.
--
-- Now:
--   * A stream is one writer that never runs two transactions at once: one pooled connection of
--     one service instance ("records/<host>/3"), or an instance's group-commit writer
--     ("records/<host>/w"). Each stream is its own hash chain (stream_pos 1, 2, ... with
--     prev_hash the stream's previous row), its head a row of audit.streams locked only by that
--     stream's own appends: a lock no other writer ever waits for.
--   * chain_pos stays the log's global row number (pages, filters, proofs name rows by it); it
--     comes from a sequence, which takes no lock held to commit.
--   * Order over all streams is the order of the signed checkpoints' Merkle tree (logs_proof.c):
--     rows in (xid, chain_pos) order, rows of this migration's predecessors (stream IS NULL, one
--     chain by chain_pos) first. A checkpoint covers only rows whose transaction ended before
--     the oldest one still running (the snapshot's xmin), so later commits always sort after the
--     rows it covers: the tree only grows at its end, as RFC 9162 requires.
-- The rows already written keep their chain (stream NULL, v1 digest) and their checkpoints stay
-- valid: they are the first leaves of the tree in the same order.

CREATE TABLE audit.streams (
    stream text PRIMARY KEY CHECK (length(stream) BETWEEN 1 AND 200),
    pos    bigint NOT NULL CHECK (pos >= 0),
    hash   bytea NOT NULL
);
REVOKE ALL ON audit.streams FROM PUBLIC;
CREATE TRIGGER streams_no_delete BEFORE DELETE OR TRUNCATE ON audit.streams
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

ALTER TABLE audit.access_log ADD COLUMN stream text, ADD COLUMN stream_pos bigint,
    ADD COLUMN xid xid8;
-- One row per position of a stream; what verify walks a stream by.
CREATE UNIQUE INDEX access_log_stream ON audit.access_log (stream, stream_pos)
    WHERE stream IS NOT NULL;

-- The global row number, continuing after the last row of the single chain.
CREATE SEQUENCE audit.access_log_pos;
SELECT setval('audit.access_log_pos',
              greatest((SELECT pos FROM audit.chain_head),
                       coalesce((SELECT max(chain_pos) FROM audit.access_log), 0), 1),
              (SELECT pos FROM audit.chain_head) > 0
                  OR EXISTS (SELECT 1 FROM audit.access_log));

-- The v2 digest: the v1 text (001's row_digest) with the stream and its position in front.
CREATE FUNCTION audit.row_digest_v2(prev bytea, r audit.access_log) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.concat_ws('|',
        'sesshu-audit-v2',
        audit.canon_field(pg_catalog.encode(prev, 'hex')),
        audit.canon_field(r.stream),
        audit.canon_field(r.stream_pos::text),
        audit.canon_field(r.chain_pos::text),
        audit.canon_field((extract(epoch FROM r.ts) * 1000000)::bigint::text),
        audit.canon_field(r.request_id), audit.canon_field(r.service),
        audit.canon_field(r.actor_kind), audit.canon_field(r.actor_id),
        audit.canon_field(r.actor_login), audit.canon_field(r.org_id),
        audit.canon_field(r.org_type), audit.canon_field(r.muni_code),
        audit.canon_field(r.role), audit.canon_field(r.method), audit.canon_field(r.route),
        audit.canon_field(r.path), audit.canon_field(r.res_type), audit.canon_field(r.res_id),
        audit.canon_field(r.person_id), audit.canon_field(r.subject_org_id),
        audit.canon_field(r.subject_muni), audit.canon_field(r.status::text),
        audit.canon_field(r.client_ip), audit.canon_field(r.duration_us::text)), 'UTF8'));

-- Lock a stream's head for this transaction (made at genesis on its first use).
CREATE FUNCTION audit.stream_head(p_stream text, OUT pos bigint, OUT hash bytea)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT s.pos, s.hash INTO pos, hash FROM audit.streams s WHERE s.stream = p_stream FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit.streams (stream, pos, hash)
        VALUES (p_stream, 0, decode(repeat('00', 32), 'hex')) ON CONFLICT DO NOTHING;
        SELECT s.pos, s.hash INTO STRICT pos, hash FROM audit.streams s
         WHERE s.stream = p_stream FOR UPDATE;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION audit.stream_head(text) FROM PUBLIC;

-- A batch of one stream: as 003's append, but under the stream's own lock.
CREATE FUNCTION audit.append(
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
                         u.status, u.client_ip, u.duration_us, NULL, NULL, p_stream,
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
        rows[k].prev_hash := prev;
        rows[k].hash := audit.row_digest_v2(prev, rows[k]);
        prev := rows[k].hash;
    END LOOP;
    INSERT INTO audit.access_log (chain_pos, ts, request_id, service, actor_kind, actor_id,
                                  actor_login, org_id, org_type, muni_code, role, method, route,
                                  path, res_type, res_id, person_id, subject_org_id, subject_muni,
                                  status, client_ip, duration_us, prev_hash, hash, stream,
                                  stream_pos, xid)
    SELECT x.chain_pos, x.ts, x.request_id, x.service, x.actor_kind, x.actor_id, x.actor_login,
           x.org_id, x.org_type, x.muni_code, x.role, x.method, x.route, x.path, x.res_type,
           x.res_id, x.person_id, x.subject_org_id, x.subject_muni, x.status, x.client_ip,
           x.duration_us, x.prev_hash, x.hash, x.stream, x.stream_pos, x.xid
      FROM unnest(rows) x;
    UPDATE audit.streams s SET pos = h_pos + n, hash = prev WHERE s.stream = p_stream;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION audit.append(text, text[], text[], text[], text[], text[], text[], text[],
                                    text[], text[], text[], text[], text[], text[], text[], text[],
                                    text[], text[], text[], integer[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.append(text, text[], text[], text[], text[], text[], text[],
                                       text[], text[], text[], text[], text[], text[], text[],
                                       text[], text[], text[], text[], text[], integer[], bigint[])
    TO sesshu_audit_writer;

-- 003's signature (a writer on the older library): its rows go to the stream "<service>/v1".
CREATE OR REPLACE FUNCTION audit.append(
    request_id text[], service text[], actor_kind text[], actor_id text[], actor_login text[],
    org_id text[], org_type text[], muni_code text[], role text[], method text[], route text[],
    path text[], res_type text[], res_id text[], person_id text[], subject_org_id text[],
    subject_muni text[], client_ip text[], status integer[], duration_us bigint[])
    RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN audit.append(coalesce(service[1], 'unknown') || '/v1', request_id, service,
                        actor_kind, actor_id, actor_login, org_id, org_type, muni_code, role,
                        method, route, path, res_type, res_id, person_id, subject_org_id,
                        subject_muni, client_ip, status, duration_us);

-- A plain INSERT (no chain_pos) is linked row by row into the stream "<service>/insert".
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
    NEW.prev_hash := h_hash;
    NEW.hash := audit.row_digest_v2(h_hash, NEW);
    UPDATE audit.streams s SET pos = NEW.stream_pos, hash = NEW.hash WHERE s.stream = NEW.stream;
    RETURN NEW;
END
$$;

-- The single chain's statement triggers lock and move its head: gone. The head stays as the
-- end of the rows written before this migration (verify holds those rows against it).
DROP TRIGGER access_log_chain_lock ON audit.access_log;
DROP TRIGGER access_log_chain_advance ON audit.access_log;

-- The walk of verify (002's signature, so every caller keeps working): rows from from_pos in
-- chain_pos order; each row is checked against its predecessor in its own stream (rows of the
-- single chain, stream NULL, against the previous chain position, with the v1 digest). When the
-- walk reaches the end, every stream's head must be its last row, and the single chain's head
-- its last row. head_pos/head_hash: the last row of the log.
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
            WHEN r.prev_hash IS DISTINCT FROM coalesce(r.pred_hash, CASE WHEN r.k = 1 THEN zero END)
                THEN 'prev_hash does not match the previous row'
            WHEN r.hash IS DISTINCT FROM CASE WHEN r.stream IS NULL
                     THEN audit.row_digest(r.prev_hash, r.rw)
                     ELSE audit.row_digest_v2(r.prev_hash, r.rw) END
                THEN 'hash does not match the row contents'
            END AS why
          FROM (SELECT w.*, coalesce(w.lag_pos, p.k) AS pred_pos,
                       CASE WHEN w.lag_pos IS NOT NULL THEN w.lag_hash ELSE p.hash END AS pred_hash
                  FROM (SELECT l.rw, l.chain_pos, l.seq, l.stream, l.prev_hash, l.hash,
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
                           OR (w.stream IS NOT NULL AND q.stream = w.stream
                               AND q.stream_pos = w.k - 1))) p ON true) r) x
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
                                  WHERE l.stream = s.stream ORDER BY l.stream_pos DESC LIMIT 1) t
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
