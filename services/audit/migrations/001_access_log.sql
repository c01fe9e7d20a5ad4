-- 001_access_log.sql - the access log (H-12): append-only, hash-chained in commit order.
--
-- Run by ss_migrate() as sesshu_audit (owner of schema audit), in one transaction.
-- Every service role is a member of sesshu_audit_writer, which may only INSERT the columns a
-- caller supplies; the INSERT triggers (SECURITY DEFINER) set ts, chain_pos, prev_hash and hash
-- under a lock on audit.chain_head, so the rows of all services form one chain in commit order.
-- UPDATE, DELETE and TRUNCATE are neither granted nor accepted by the triggers. (The owner could
-- grant them back to itself and disable the triggers: PostgreSQL owners can; the hash chain is
-- what makes such a change visible.)

CREATE TABLE audit.access_log (
    seq            bigserial PRIMARY KEY,
    chain_pos      bigint NOT NULL UNIQUE,
    ts             timestamptz NOT NULL DEFAULT clock_timestamp(),
    request_id     text NOT NULL,
    service        text NOT NULL,
    actor_kind     text NOT NULL,
    actor_id       text,
    actor_login    text,
    org_id         text,
    org_type       text,
    muni_code      text,
    role           text,
    method         text NOT NULL,
    route          text,
    path           text,
    res_type       text,
    res_id         text,
    person_id      text,
    subject_org_id text,
    subject_muni   text,
    status         integer NOT NULL,
    client_ip      text,
    duration_us    bigint,
    prev_hash      bytea NOT NULL,
    hash           bytea NOT NULL
);

-- The head of the chain: one row, locked by every insert until its transaction ends.
-- Genesis: position 0 with 32 zero bytes.
CREATE TABLE audit.chain_head (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    pos  bigint NOT NULL,
    hash bytea NOT NULL
);
INSERT INTO audit.chain_head (id, pos, hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));

-- One text field of the canonical row text: '~' for NULL, else '<length in characters>:<text>'.
-- The length prefix makes the concatenation unambiguous whatever the text contains, and keeps
-- NULL distinct from ''.
CREATE FUNCTION audit.canon_field(v text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN v IS NULL THEN '~' ELSE length(v)::text || ':' || v END;

-- SHA-256 of 'sesshu-audit-v1' | hex(prev) | every column but seq, prev_hash and hash, in a fixed
-- order. ts is taken as integer microseconds since the epoch so the text does not depend on the
-- session's TimeZone or DateStyle. Changing this function invalidates every stored hash: a new
-- canonical form needs a new version tag and a new function.
CREATE FUNCTION audit.row_digest(prev bytea, r audit.access_log) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.concat_ws('|',
        'sesshu-audit-v1',
        audit.canon_field(pg_catalog.encode(prev, 'hex')),
        audit.canon_field(r.chain_pos::text),
        audit.canon_field((extract(epoch FROM r.ts) * 1000000)::bigint::text),
        audit.canon_field(r.request_id),
        audit.canon_field(r.service),
        audit.canon_field(r.actor_kind),
        audit.canon_field(r.actor_id),
        audit.canon_field(r.actor_login),
        audit.canon_field(r.org_id),
        audit.canon_field(r.org_type),
        audit.canon_field(r.muni_code),
        audit.canon_field(r.role),
        audit.canon_field(r.method),
        audit.canon_field(r.route),
        audit.canon_field(r.path),
        audit.canon_field(r.res_type),
        audit.canon_field(r.res_id),
        audit.canon_field(r.person_id),
        audit.canon_field(r.subject_org_id),
        audit.canon_field(r.subject_muni),
        audit.canon_field(r.status::text),
        audit.canon_field(r.client_ip),
        audit.canon_field(r.duration_us::text)), 'UTF8'));

-- The chain is linked in three steps so that the head row is locked and written once per
-- statement (a group-commit batch inserts up to a thousand rows in one statement; updating the
-- head per row would pile up a thousand row versions in one transaction):
--   chain_lock    BEFORE INSERT, per statement: lock chain_head until the transaction ends, so
--                 chain positions follow commit order across every service.
--   chain         BEFORE INSERT, per row: link the row to the later of the head and the last
--                 row (rows inserted earlier in the same statement are visible to the trigger's
--                 queries and are past the head). Should rows at the end of the chain have been
--                 removed behind our back, the chain continues from the head, so the gap stays
--                 visible to verify_chain instead of being papered over.
--   chain_advance AFTER INSERT, per statement: move the head to the last row.
-- All run as the owner so that writers need no right on chain_head; search_path is pinned.
CREATE FUNCTION audit.chain_lock() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM 1 FROM audit.chain_head FOR UPDATE;
    RETURN NULL;
END
$$;

CREATE FUNCTION audit.chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    last_pos  bigint;
    last_hash bytea;
BEGIN
    SELECT CASE WHEN a.chain_pos > h.pos THEN a.chain_pos ELSE h.pos END,
           CASE WHEN a.chain_pos > h.pos THEN a.hash ELSE h.hash END
      INTO STRICT last_pos, last_hash
      FROM audit.chain_head h
      LEFT JOIN LATERAL (SELECT l.chain_pos, l.hash FROM audit.access_log l
                          ORDER BY l.chain_pos DESC LIMIT 1) a ON true;
    NEW.ts := clock_timestamp();
    NEW.chain_pos := last_pos + 1;
    NEW.prev_hash := last_hash;
    NEW.hash := audit.row_digest(last_hash, NEW);
    RETURN NEW;
END
$$;

CREATE FUNCTION audit.chain_advance() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE audit.chain_head h SET pos = a.chain_pos, hash = a.hash
      FROM (SELECT l.chain_pos, l.hash FROM audit.access_log l
             ORDER BY l.chain_pos DESC LIMIT 1) a
     WHERE a.chain_pos > h.pos;
    RETURN NULL;
END
$$;

CREATE FUNCTION audit.refuse_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'audit.access_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER access_log_chain_lock BEFORE INSERT ON audit.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit.chain_lock();
CREATE TRIGGER access_log_chain BEFORE INSERT ON audit.access_log
    FOR EACH ROW EXECUTE FUNCTION audit.chain();
CREATE TRIGGER access_log_chain_advance AFTER INSERT ON audit.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit.chain_advance();
CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON audit.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON audit.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER chain_head_no_delete BEFORE DELETE OR TRUNCATE ON audit.chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

-- The head moves only from chain_advance (itself a trigger, hence depth 2), never by hand.
CREATE FUNCTION audit.head_guard() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'audit.chain_head moves only with the chain'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER chain_head_guard BEFORE UPDATE ON audit.chain_head
    FOR EACH ROW EXECUTE FUNCTION audit.head_guard();

-- Filters of GET /api/v1/access-logs; pages are read newest first by chain_pos.
CREATE INDEX access_log_ts ON audit.access_log (ts);
CREATE INDEX access_log_actor_id ON audit.access_log (actor_id, chain_pos) WHERE actor_id IS NOT NULL;
CREATE INDEX access_log_actor_login ON audit.access_log (actor_login, chain_pos)
    WHERE actor_login IS NOT NULL;
CREATE INDEX access_log_org ON audit.access_log (org_id, chain_pos) WHERE org_id IS NOT NULL;
CREATE INDEX access_log_subject_org ON audit.access_log (subject_org_id, chain_pos)
    WHERE subject_org_id IS NOT NULL;
CREATE INDEX access_log_muni ON audit.access_log (muni_code, chain_pos) WHERE muni_code IS NOT NULL;
CREATE INDEX access_log_subject_muni ON audit.access_log (subject_muni, chain_pos)
    WHERE subject_muni IS NOT NULL;
CREATE INDEX access_log_resource ON audit.access_log (res_type, res_id, chain_pos);
CREATE INDEX access_log_person ON audit.access_log (person_id, chain_pos) WHERE person_id IS NOT NULL;
CREATE INDEX access_log_request ON audit.access_log (request_id);
-- Failures are few: without this, "outcome=failure" or "status=403" over a scope with none would
-- walk the whole log backwards.
CREATE INDEX access_log_failures ON audit.access_log (status, chain_pos) WHERE status >= 400;

-- Privileges. The owner (sesshu_audit) keeps SELECT and INSERT only; writers may insert the
-- caller-supplied columns and nothing else: no SELECT on the log or the head, so a service
-- cannot read other services' traffic, and no way to set ts, chain_pos or the hashes.
REVOKE ALL ON audit.access_log FROM PUBLIC;
REVOKE ALL ON audit.chain_head FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit.access_log FROM sesshu_audit;
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit.chain_head FROM sesshu_audit;
-- The chain trigger runs as the owner and must move the head.
GRANT UPDATE (pos, hash) ON audit.chain_head TO sesshu_audit;
GRANT USAGE ON SCHEMA audit TO sesshu_audit_writer;
GRANT INSERT (request_id, service, actor_kind, actor_id, actor_login, org_id, org_type, muni_code,
              role, method, route, path, res_type, res_id, person_id, subject_org_id,
              subject_muni, status, client_ip, duration_us)
    ON audit.access_log TO sesshu_audit_writer;
GRANT USAGE ON SEQUENCE audit.access_log_seq_seq TO sesshu_audit_writer;
REVOKE ALL ON FUNCTION audit.chain_lock(), audit.chain(), audit.chain_advance() FROM PUBLIC;
