-- 002_verify_chain.sql - walk the hash chain and report the first broken link.
--
-- audit.verify_chain(from_pos, max_rows) checks rows from_pos .. from_pos+max_rows-1 in chain
-- order. For each row: its position follows the previous one (no row removed), its prev_hash is
-- the previous row's hash (no row replaced), and its hash is the digest of its own contents (no
-- row altered). When the walk reaches the end of the chain, the head must be the last row (no
-- row removed at the end). The loop reads through a cursor, so memory stays flat however long
-- the chain is; STABLE makes every query of the walk see one snapshot, so rows committed during
-- the walk cannot be mistaken for a broken head.
CREATE FUNCTION audit.verify_chain(from_pos bigint, max_rows bigint)
    RETURNS TABLE (checked bigint, last_pos bigint, broken_pos bigint, broken_seq bigint,
                   reason text, head_pos bigint, head_hash bytea, complete boolean)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r           audit.access_log;
    expect_pos  bigint := greatest(from_pos, 1);
    expect_prev bytea := decode(repeat('00', 32), 'hex');
BEGIN
    checked := 0;
    last_pos := NULL;
    complete := false;
    SELECT h.pos, h.hash INTO STRICT head_pos, head_hash FROM audit.chain_head h;
    IF expect_pos > head_pos + 1 THEN
        complete := true;
        RETURN NEXT;
        RETURN;
    END IF;
    IF expect_pos > 1 THEN
        SELECT a.hash INTO expect_prev FROM audit.access_log a WHERE a.chain_pos = expect_pos - 1;
        IF NOT FOUND THEN
            broken_pos := expect_pos - 1;
            reason := 'row missing';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    FOR r IN SELECT * FROM audit.access_log a WHERE a.chain_pos >= expect_pos
              ORDER BY a.chain_pos LIMIT max_rows
    LOOP
        IF r.chain_pos <> expect_pos THEN
            broken_pos := expect_pos;
            reason := 'row missing';
        ELSIF r.prev_hash IS DISTINCT FROM expect_prev THEN
            broken_pos := r.chain_pos;
            broken_seq := r.seq;
            reason := 'prev_hash does not match the previous row';
        ELSIF r.hash IS DISTINCT FROM audit.row_digest(r.prev_hash, r) THEN
            broken_pos := r.chain_pos;
            broken_seq := r.seq;
            reason := 'hash does not match the row contents';
        END IF;
        IF reason IS NOT NULL THEN
            RETURN NEXT;
            RETURN;
        END IF;
        checked := checked + 1;
        last_pos := r.chain_pos;
        expect_pos := r.chain_pos + 1;
        expect_prev := r.hash;
    END LOOP;
    IF checked < max_rows THEN
        complete := true;
        IF expect_pos - 1 <> head_pos OR (head_pos > 0 AND expect_prev IS DISTINCT FROM head_hash) THEN
            broken_pos := least(expect_pos, head_pos);
            reason := 'chain head does not match the last row';
        END IF;
    END IF;
    RETURN NEXT;
END
$$;

REVOKE ALL ON FUNCTION audit.verify_chain(bigint, bigint) FROM PUBLIC;
