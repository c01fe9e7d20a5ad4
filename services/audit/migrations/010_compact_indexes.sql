-- 010_compact_indexes.sql - the access log's indexes made compact (issue 14 §3, issue 15 §3).
--
-- Measured with bench/audit-size.sh (1,000,000 rows appended with every index in place): the
-- indexes took more room than the rows. Most of it was the text keys: an actor, organisation,
-- resource or person id is a 36-character uuid in text, so an index entry of (id, chain_pos)
-- took 56 bytes, about 85 on disk once page splits leave leaves two thirds full. Those indexes
-- now key on the id's 64-bit hash (hashtextextended, the hash PostgreSQL's hash partitioning
-- uses, so it is stable across versions) and the chain position: 24 bytes an entry, whatever the
-- id's length. A query names both the hash (what the index finds) and the id itself (the recheck
-- that drops another id with the same hash), and still reads an id's rows newest first straight
-- from the index (sql/logs.sql, sql/about_me.sql). The stream index (stream, stream_pos), which
-- verify walks, does the same with the stream's name. The resource index leaves out the rows
-- without a resource id (no query asks for them) and the resource type (a recheck: a resource id
-- names one resource whatever its type). seq's index served no query (pages, filters, verify
-- and proofs go by chain_pos), nor did the two of the municipality (muni_code, subject_muni):
-- a municipality's staff page through their rows by chain_pos with the restriction as a filter
-- (even planned for its literal values, a municipality of 1.4% of the rows is read that way, and
-- a kept generic plan cannot use them at all: the restriction is "$10 IS NULL OR ..."):
-- dropped. The rows of the single chain (007) get a partial index.
--
-- Nothing proven changes: no row, hash, canonical text, tree order or stored subtree is
-- touched; only how rows are found. The indexes are rebuilt over the rows already there (every
-- partition; one transaction, so the log is locked for writes while it runs: about as long as
-- building the indexes, tens of seconds a million rows on this machine).

DROP INDEX audit.access_log_seq, audit.access_log_muni, audit.access_log_subject_muni,
    audit.access_log_actor_id, audit.access_log_actor_login,
    audit.access_log_org, audit.access_log_subject_org, audit.access_log_resource,
    audit.access_log_person, audit.access_log_stream;

CREATE INDEX access_log_actor_id ON audit.access_log ((hashtextextended(actor_id, 0)), chain_pos)
    WHERE actor_id IS NOT NULL;
CREATE INDEX access_log_actor_login ON audit.access_log
    ((hashtextextended(actor_login, 0)), chain_pos) WHERE actor_login IS NOT NULL;
CREATE INDEX access_log_org ON audit.access_log ((hashtextextended(org_id, 0)), chain_pos)
    WHERE org_id IS NOT NULL;
CREATE INDEX access_log_subject_org ON audit.access_log
    ((hashtextextended(subject_org_id, 0)), chain_pos) WHERE subject_org_id IS NOT NULL;
CREATE INDEX access_log_resource ON audit.access_log ((hashtextextended(res_id, 0)), chain_pos)
    WHERE res_id IS NOT NULL;
CREATE INDEX access_log_person ON audit.access_log ((hashtextextended(person_id, 0)), chain_pos)
    WHERE person_id IS NOT NULL;
CREATE INDEX access_log_stream ON audit.access_log ((hashtextextended(stream, 0)), stream_pos)
    WHERE stream IS NOT NULL;
-- The keys of a list of ids (about-me's persons): a function of the parameter, so a prepared
-- statement's plan keeps the index lookup of each (an ARRAY(SELECT ...) sub-query there left
-- the planner no estimate, and it walked the whole log by chain_pos instead).
CREATE FUNCTION audit.id_keys(ids text[]) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN ARRAY(SELECT hashtextextended(i, 0) FROM unnest(ids) i);

-- The rows of the single chain before 007 (none in a log begun after it): verify's check of that
-- chain's head read the log backwards from its newest row to the last of them, the whole log.
CREATE INDEX access_log_v1 ON audit.access_log (chain_pos) WHERE stream IS NULL;

-- verify's walk (007) finds a stream's rows by the stream index: the same function with the
-- stream named by its hash and its name.
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
