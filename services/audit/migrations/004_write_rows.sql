-- 004_write_rows.sql - the row of a write request commits in the request's own transaction.
--
-- The dispatcher (libs/common/src/dispatch.c) keeps a write request's transaction open until the
-- response is known, then calls audit.append (003) with that one row and commits: the change and
-- its row commit together or not at all. When the answer to that COMMIT is lost (the connection
-- broke), the service asks audit.logged on a fresh connection whether the row - and so the
-- change - committed, and tells the client the truth. Writers hold no SELECT on the log; this
-- function answers only yes or no for one request id of the caller's own service, searching the
-- last ten minutes (the BRIN index on ts bounds the scan).
CREATE FUNCTION audit.logged(p_request_id text, p_service text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN EXISTS (SELECT 1 FROM audit.access_log l
                    WHERE l.ts >= clock_timestamp() - interval '10 minutes'
                      AND l.request_id = p_request_id AND l.service = p_service);

REVOKE ALL ON FUNCTION audit.logged(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.logged(text, text) TO sesshu_audit_writer;
