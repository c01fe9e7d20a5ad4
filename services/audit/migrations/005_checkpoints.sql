-- 005_checkpoints.sql - signed checkpoints of the access log (logs_proof.c, RFC 9162 style).
--
-- A checkpoint is the Merkle tree head over the rows 1..tree_size in chain order (leaf input:
-- the row's hash), signed by the audit service's own key as a compact JWS (ES256). Kept so a
-- consistency proof can be asked between any two published sizes, and so verify can hold the
-- log against the last one (a truncated tail or a rewritten prefix shows). Append-only.
CREATE TABLE audit.checkpoints (
    tree_size    bigint PRIMARY KEY CHECK (tree_size >= 0),
    root_hash    text NOT NULL CHECK (root_hash ~ '^[0-9a-f]{64}$'),
    signed_at_ms bigint NOT NULL,
    jws          text NOT NULL,
    signed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER checkpoints_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit.checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
REVOKE ALL ON audit.checkpoints FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit.checkpoints FROM sesshu_audit;
