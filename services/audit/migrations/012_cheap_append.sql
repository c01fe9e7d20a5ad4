-- 012_cheap_append.sql - a write's own access-log row for less database work (issue 14 §3).
--
-- Every write request commits its access-log row in its own transaction through audit.append
-- with one row (004), so what append costs is on the path of every registration and issuance.
-- Profiled (callgrind of a single-user backend, instructions a call, and perf of pgbench; see
-- services/audit/README.md "What an append costs"): nearly all of 011's append was setting up
-- expressions and plan nodes, once a call, not hashing. Its three costs:
--   * the digest: row_digest_v2 is inlined where it is called, so each of its 25 fields
--     (CASE, length, a cast, two concatenations, the field read three times) is a node tree
--     that the executor initialises again in every transaction (PL/pgSQL keeps plans across
--     transactions, not expression states), with a privilege check and a function lookup per
--     call node: ~40% of the call;
--   * the rows as an array of the table's composite type (array_agg of ROW(...), an element
--     field assigned in the loop, unnest(rows) for the insert);
--   * four statements (lock, build, insert, update), each with its executor set-up.
-- This append: the canonical text is built by a loop over the fields, one small expression
-- (the same bytes as row_digest_v2: 'sesshu-audit-v2', then for each field '|~' for NULL or
-- '|<length in characters>:<text>', in the same order); the rows stay in the caller's arrays
-- (positions, times and hashes in three arrays of their own); a one-row call inserts with
-- VALUES; the insert and the stream head's update are one statement. Three statements in
-- all (lock, insert with update), the head locked first as before.
-- Unchanged: the canonical text and every hash (verify still recomputes them with
-- row_digest_v2, 007/008), the stream lock and ordering (the head locked before any
-- position is taken; positions h_pos + 1 .. h_pos + n; chain_pos from the sequence in row
-- order; one clock_timestamp() a row), the table, its triggers and rights, the proofs.
-- Arrays of unequal length behave as before: the batch has as many rows as the longest array
-- and a shorter array's missing elements are NULL (as unnest pads them).

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
    n      integer := greatest(cardinality(request_id), cardinality(service),
                               cardinality(actor_kind), cardinality(actor_id),
                               cardinality(actor_login), cardinality(org_id),
                               cardinality(org_type), cardinality(muni_code), cardinality(role),
                               cardinality(method), cardinality(route), cardinality(path),
                               cardinality(res_type), cardinality(res_id),
                               cardinality(person_id), cardinality(subject_org_id),
                               cardinality(subject_muni), cardinality(client_ip),
                               cardinality(status), cardinality(duration_us), 0);
    h_pos  bigint;
    prev   bytea;
    cps    bigint[];
    tss    timestamptz[];
    hashes bytea[];
    t      text;
    f      text;
BEGIN
    IF n = 0 THEN
        RETURN 0;
    END IF;
    -- The stream's head, locked until the transaction ends.
    SELECT s.pos, s.hash INTO h_pos, prev FROM audit.streams s WHERE s.stream = p_stream
       FOR UPDATE;
    IF NOT FOUND THEN
        SELECT h.pos, h.hash INTO h_pos, prev FROM audit.stream_head(p_stream) h;
    END IF;
    FOR k IN 1 .. n LOOP
        cps[k] := nextval('audit.access_log_pos');
        tss[k] := clock_timestamp();
        -- row_digest_v2's text (007): its fields in its order, each as canon_field (001) makes it.
        t := 'sesshu-audit-v2';
        FOREACH f IN ARRAY ARRAY[encode(prev, 'hex'), p_stream, (h_pos + k)::text, cps[k]::text,
                                 (extract(epoch FROM tss[k]) * 1000000)::bigint::text,
                                 request_id[k], service[k], actor_kind[k], actor_id[k],
                                 actor_login[k], org_id[k], org_type[k], muni_code[k], role[k],
                                 method[k], route[k], path[k], res_type[k], res_id[k],
                                 person_id[k], subject_org_id[k], subject_muni[k],
                                 status[k]::text, client_ip[k], duration_us[k]::text] LOOP
            t := t || CASE WHEN f IS NULL THEN '|~' ELSE '|' || length(f)::text || ':' || f END;
        END LOOP;
        prev := sha256(convert_to(t, 'UTF8'));
        hashes[k] := prev;
    END LOOP;
    IF n = 1 THEN
        -- A write's own row: VALUES, no unnest.
        WITH ins AS (
            INSERT INTO audit.access_log (chain_pos, ts, request_id, service, actor_kind,
                                          actor_id, actor_login, org_id, org_type, muni_code,
                                          role, method, route, path, res_type, res_id,
                                          person_id, subject_org_id, subject_muni, status,
                                          client_ip, duration_us, hash, stream, stream_pos, xid)
            VALUES (cps[1], tss[1], request_id[1], service[1], actor_kind[1], actor_id[1],
                    actor_login[1], org_id[1], org_type[1], muni_code[1], role[1], method[1],
                    route[1], path[1], res_type[1], res_id[1], person_id[1], subject_org_id[1],
                    subject_muni[1], status[1], client_ip[1], duration_us[1], prev, p_stream,
                    h_pos + 1, pg_current_xact_id()))
        UPDATE audit.streams s SET pos = h_pos + 1, hash = prev WHERE s.stream = p_stream;
        RETURN 1;
    END IF;
    WITH ins AS (
        INSERT INTO audit.access_log (chain_pos, ts, request_id, service, actor_kind, actor_id,
                                      actor_login, org_id, org_type, muni_code, role, method,
                                      route, path, res_type, res_id, person_id, subject_org_id,
                                      subject_muni, status, client_ip, duration_us, hash, stream,
                                      stream_pos, xid)
        SELECT u.cp, u.ts, u.request_id, u.service, u.actor_kind, u.actor_id, u.actor_login,
               u.org_id, u.org_type, u.muni_code, u.role, u.method, u.route, u.path, u.res_type,
               u.res_id, u.person_id, u.subject_org_id, u.subject_muni, u.status, u.client_ip,
               u.duration_us, u.hash, p_stream, h_pos + u.i, pg_current_xact_id()
          FROM unnest(cps, tss, request_id, service, actor_kind, actor_id, actor_login, org_id,
                      org_type, muni_code, role, method, route, path, res_type, res_id,
                      person_id, subject_org_id, subject_muni, status, client_ip, duration_us,
                      hashes)
               WITH ORDINALITY AS u(cp, ts, request_id, service, actor_kind, actor_id,
                                    actor_login, org_id, org_type, muni_code, role, method, route,
                                    path, res_type, res_id, person_id, subject_org_id,
                                    subject_muni, status, client_ip, duration_us, hash, i))
    UPDATE audit.streams s SET pos = h_pos + n, hash = prev WHERE s.stream = p_stream;
    RETURN n;
END
$$;
