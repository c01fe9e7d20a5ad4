-- 006_gateway_log.sql - how far the gateway's JSON access log has been read (gateway_import.c).
--
-- Requests the gateway refused itself (429, 413, 400 ...) never reach a service, so no service
-- logs them: the audit service reads them from nginx's log into audit.access_log (service
-- "gateway"). The offset moves in the same transaction as the rows it covers.
CREATE TABLE audit.gateway_log_offset (
    file        text PRIMARY KEY,
    inode       text NOT NULL,
    byte_offset bigint NOT NULL CHECK (byte_offset >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON audit.gateway_log_offset FROM PUBLIC;
