-- sync.sql - the records service's change feed applied to the log (sync.c): the cursor, the
-- latest state of each corrected or voided record and of each changed person, and the
-- certificates they supersede or revoke; one page in one transaction.

-- name: cert_feed_after
SELECT after FROM certificate.feed_state WHERE id = 1;

-- name: cert_feed_start
-- $1 after: text, the records service's current head
INSERT INTO certificate.feed_state (id, after) VALUES (1, $1) ON CONFLICT (id) DO NOTHING;

-- name: cert_feed_record_states
-- $1 items: jsonb, the feed page's items
INSERT INTO certificate.record_states (immunization_id, version, status)
SELECT id, version, status
  FROM jsonb_to_recordset($1::jsonb) AS x(kind text, id uuid, version int, status text)
 WHERE coalesce(x.kind, 'immunization') = 'immunization'
    ON CONFLICT (immunization_id) DO UPDATE
   SET version = greatest(record_states.version, excluded.version), status = excluded.status,
       seen_at = now();

-- name: cert_feed_person_states
-- $1 items: jsonb, the feed page's items
INSERT INTO certificate.person_states (person_id, version, identity)
SELECT DISTINCT ON (id) id, version, identity
  FROM jsonb_to_recordset($1::jsonb) AS x(kind text, id uuid, version int, identity text)
 WHERE x.kind = 'person' AND x.identity ~ '^[0-9a-f]{64}$'
 ORDER BY id, version DESC
    ON CONFLICT (person_id) DO UPDATE
   SET version = excluded.version, identity = excluded.identity, seen_at = now()
 WHERE excluded.version >= person_states.version;

-- name: cert_feed_apply
-- $1 items: jsonb, the feed page's items
SELECT certificate.apply_record_states(ARRAY(
           SELECT (x->>'id')::uuid FROM jsonb_array_elements($1::jsonb) x
            WHERE coalesce(x->>'kind', 'immunization') = 'immunization')),
       certificate.apply_person_states(ARRAY(
           SELECT (x->>'id')::uuid FROM jsonb_array_elements($1::jsonb) x
            WHERE x->>'kind' = 'person'));

-- name: cert_feed_advance
-- $1 next: text, the page's next cursor
-- $2 after: text, the cursor the page was read after (no row: another replica moved it)
UPDATE certificate.feed_state SET after = $1 WHERE id = 1 AND after = $2;
