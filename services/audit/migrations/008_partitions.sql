-- 008_partitions.sql - the access log partitioned by month (issue 14 §3, issue 15 §3).
--
-- A country's log grows by hundreds of millions of rows a month. audit.access_log becomes a
-- table partitioned by ts, one partition per month (audit.access_log_YYYYMM), so that queries by
-- time touch only their months, indexes stay the size of a month, and an old month can later be
-- detached for archive (ALTER TABLE ... DETACH PARTITION) without rewriting anything. (verify and
-- the proofs then need the archived month: see services/audit/README.md, "Not done".)
--   * The rows written so far stay where they are: the old table becomes the first partition
--     (audit.access_log_p0, from the beginning to the end of the month this migration runs in;
--     its old indexes are replaced by the parent's).
--   * audit.ensure_partitions(n) makes the partitions of the next n months; the migration runs
--     it, and the audit service runs it every hour (service.c), so a month exists before its
--     first row. A row past the last partition would be refused, and with it the request.
--   * Unique indexes of a partitioned table must contain the partition key: chain_pos comes from
--     a sequence and (stream, stream_pos) from the stream's locked head (007), so their indexes
--     on the parent are plain; verify finds a duplicate position as a broken link.
--   * Every partition refuses UPDATE, DELETE and TRUNCATE like the parent (a statement naming a
--     partition does not fire the parent's statement triggers), and the owner holds no such
--     right on any of them.
-- Functions whose body names the table's row type are made again for the new table (a type is
-- bound when the function is created).

SET LOCAL TimeZone = 'UTC'; -- partition bounds are written and read in UTC

ALTER TABLE audit.access_log RENAME TO access_log_p0;
DROP TRIGGER access_log_chain ON audit.access_log_p0;
ALTER TABLE audit.access_log_p0 DROP CONSTRAINT access_log_pkey,
    DROP CONSTRAINT access_log_chain_pos_key;
DROP INDEX audit.access_log_stream, audit.access_log_ts, audit.access_log_actor_id,
    audit.access_log_actor_login, audit.access_log_org, audit.access_log_subject_org,
    audit.access_log_muni, audit.access_log_subject_muni, audit.access_log_resource,
    audit.access_log_person, audit.access_log_failures;
-- Attaching clones the parent's row trigger onto it (001 took TRIGGER from the owner).
GRANT TRIGGER ON audit.access_log_p0 TO sesshu_audit;

CREATE TABLE audit.access_log (LIKE audit.access_log_p0 INCLUDING DEFAULTS)
    PARTITION BY RANGE (ts);

-- The parent's indexes: those of 001, 003 and 007, without uniqueness (above).
CREATE INDEX access_log_chain_pos ON audit.access_log (chain_pos);
CREATE INDEX access_log_seq ON audit.access_log (seq);
CREATE INDEX access_log_stream ON audit.access_log (stream, stream_pos)
    WHERE stream IS NOT NULL;
CREATE INDEX access_log_ts ON audit.access_log USING brin (ts);
CREATE INDEX access_log_actor_id ON audit.access_log (actor_id, chain_pos)
    WHERE actor_id IS NOT NULL;
CREATE INDEX access_log_actor_login ON audit.access_log (actor_login, chain_pos)
    WHERE actor_login IS NOT NULL;
CREATE INDEX access_log_org ON audit.access_log (org_id, chain_pos) WHERE org_id IS NOT NULL;
CREATE INDEX access_log_subject_org ON audit.access_log (subject_org_id, chain_pos)
    WHERE subject_org_id IS NOT NULL;
CREATE INDEX access_log_muni ON audit.access_log (muni_code, chain_pos)
    WHERE muni_code IS NOT NULL;
CREATE INDEX access_log_subject_muni ON audit.access_log (subject_muni, chain_pos)
    WHERE subject_muni IS NOT NULL;
CREATE INDEX access_log_resource ON audit.access_log (res_type, res_id, chain_pos);
CREATE INDEX access_log_person ON audit.access_log (person_id, chain_pos)
    WHERE person_id IS NOT NULL;
CREATE INDEX access_log_failures ON audit.access_log (status, chain_pos) WHERE status >= 400;

-- The partitions' guard: what 001's statement triggers do for the table.
CREATE FUNCTION audit.guard_partition(part regclass) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER no_update BEFORE UPDATE OR DELETE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()', part);
    EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()', part);
    EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', part);
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON %s FROM sesshu_audit',
                   part);
END
$$;

-- The month partitions from the end of the last one to n months after this one.
CREATE FUNCTION audit.ensure_partitions(months_ahead int) RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC'
AS $$
DECLARE
    upto  date := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => months_ahead + 1))::date;
    last  date;
    made  integer := 0;
    part  text;
BEGIN
    -- The upper bound of the latest partition (its FOR VALUES ... TO ('...')).
    SELECT max(substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([0-9-]+)')::date)
      INTO last
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'audit.access_log'::regclass;
    WHILE last < upto LOOP
        part := format('audit.access_log_%s', to_char(last, 'YYYYMM'));
        EXECUTE format('CREATE TABLE %s PARTITION OF audit.access_log FOR VALUES FROM (%L) TO (%L)',
                       part, last::timestamptz, (last + interval '1 month')::date::timestamptz);
        PERFORM audit.guard_partition(part::regclass);
        made := made + 1;
        last := (last + interval '1 month')::date;
    END LOOP;
    RETURN made;
END
$$;
REVOKE ALL ON FUNCTION audit.guard_partition(regclass), audit.ensure_partitions(int) FROM PUBLIC;

-- The parent: the same triggers and rights as the table it replaces.
CREATE TRIGGER access_log_chain BEFORE INSERT ON audit.access_log
    FOR EACH ROW WHEN (NEW.chain_pos IS NULL) EXECUTE FUNCTION audit.chain();
CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON audit.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON audit.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
REVOKE ALL ON audit.access_log FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit.access_log FROM sesshu_audit;
GRANT INSERT (request_id, service, actor_kind, actor_id, actor_login, org_id, org_type, muni_code,
              role, method, route, path, res_type, res_id, person_id, subject_org_id,
              subject_muni, status, client_ip, duration_us)
    ON audit.access_log TO sesshu_audit_writer;

-- The rows so far: the first partition, up to the end of this month (UTC).
DO $$
DECLARE
    bound date := (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')::date;
BEGIN
    EXECUTE format('ALTER TABLE audit.access_log ATTACH PARTITION audit.access_log_p0 '
                   'FOR VALUES FROM (MINVALUE) TO (%L)', bound::timestamptz);
END
$$;
REVOKE TRIGGER ON audit.access_log_p0 FROM sesshu_audit;
SELECT audit.ensure_partitions(2);

-- Functions bound to the old row type or table, made again for the new one.
DROP FUNCTION audit.row_digest(bytea, audit.access_log_p0);
CREATE FUNCTION audit.row_digest(prev bytea, r audit.access_log) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.concat_ws('|',
        'sesshu-audit-v1',
        audit.canon_field(pg_catalog.encode(prev, 'hex')),
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

DROP FUNCTION audit.row_digest_v2(bytea, audit.access_log_p0);
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

CREATE OR REPLACE FUNCTION audit.logged(p_request_id text, p_service text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN EXISTS (SELECT 1 FROM audit.access_log l
                    WHERE l.ts >= clock_timestamp() - interval '10 minutes'
                      AND l.request_id = p_request_id AND l.service = p_service);
