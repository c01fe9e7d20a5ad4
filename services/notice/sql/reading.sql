-- reading.sql - the reader side of notices (reading.c). A notice targets a reader when it is
-- neither withdrawn nor outside its publication window and the reader matches every non-empty
-- audience list; a reader without a prefecture never matches a prefecture list.

-- name: ntc_reader_list
-- $1 org_type: text, the reader's organisation type
-- $2 pref_code: text, the reader's prefecture (NULL if none)
-- $3 org_id: uuid, the reader's organisation
-- $4 role: text, the reader's role
-- $5 user_id: text, the reader (the token's sub)
-- $6 cursor_read: int, 0 or 1 (NULL: the first page)
-- $7 cursor_publish_from: timestamptz
-- $8 cursor_id: uuid
-- $9 limit: int, page size + 1
SELECT json_build_object('id', n.id, 'title', n.title, 'body', n.body, 'importance', n.importance,
      'publish_from', n.publish_from, 'publish_until', n.publish_until, 'author_org_type',
      n.author_org_type, 'version', n.version, 'updated_at', n.updated_at, 'read', rd.read_at IS NOT
      NULL, 'read_at', rd.read_at)::text, (rd.read_at IS NOT NULL)::int::text, n.publish_from::text,
    n.id::text
FROM notice.notices n
LEFT JOIN notice.reads rd ON rd.notice_id = n.id AND rd.user_id = $5
WHERE n.withdrawn_at IS NULL AND n.publish_from <= now() AND (n.publish_until IS NULL OR
      n.publish_until > now()) AND (cardinality(n.aud_org_types) = 0 OR $1 = ANY (n.aud_org_types))
   AND (cardinality(n.aud_prefs) = 0 OR $2 = ANY (n.aud_prefs)) AND (cardinality(n.aud_orgs) = 0 OR
      $3::uuid = ANY (n.aud_orgs)) AND (cardinality(n.aud_roles) = 0 OR $4 = ANY (n.aud_roles))
   AND ($6::int IS NULL OR (rd.read_at IS NOT NULL)::int > $6::int OR ((rd.read_at IS NOT NULL)::int
        = $6::int AND (n.publish_from, n.id) < ($7::timestamptz, $8::uuid)))
ORDER BY (rd.read_at IS NOT NULL), n.publish_from DESC, n.id DESC
LIMIT $9::int;

-- name: ntc_reader_unread_count
-- $1 org_type: text, the reader's organisation type
-- $2 pref_code: text, the reader's prefecture (NULL if none)
-- $3 org_id: uuid, the reader's organisation
-- $4 role: text, the reader's role
-- $5 user_id: text, the reader (the token's sub)
SELECT count(*)
FROM notice.notices n
WHERE n.withdrawn_at IS NULL AND n.publish_from <= now() AND (n.publish_until IS NULL OR
      n.publish_until > now()) AND (cardinality(n.aud_org_types) = 0 OR $1 = ANY (n.aud_org_types))
   AND (cardinality(n.aud_prefs) = 0 OR $2 = ANY (n.aud_prefs)) AND (cardinality(n.aud_orgs) = 0 OR
      $3::uuid = ANY (n.aud_orgs)) AND (cardinality(n.aud_roles) = 0 OR $4 = ANY (n.aud_roles))
   AND NOT EXISTS (SELECT 1
  FROM notice.reads rd
  WHERE rd.notice_id = n.id AND rd.user_id = $5);

-- name: ntc_reader_mark_read
-- $1 org_type: text, the reader's organisation type
-- $2 pref_code: text, the reader's prefecture (NULL if none)
-- $3 org_id: uuid, the reader's organisation
-- $4 role: text, the reader's role
-- $5 user_id: text, the reader (the token's sub)
-- $6 id: uuid, the notice
WITH t AS (SELECT n.id
  FROM notice.notices n
  WHERE n.id = $6::uuid AND n.withdrawn_at IS NULL AND n.publish_from <= now()
     AND (n.publish_until IS NULL OR n.publish_until > now()) AND (cardinality(n.aud_org_types) = 0
        OR $1 = ANY (n.aud_org_types)) AND (cardinality(n.aud_prefs) = 0 OR $2 = ANY (n.aud_prefs))
     AND (cardinality(n.aud_orgs) = 0 OR $3::uuid = ANY (n.aud_orgs)) AND (cardinality(n.aud_roles)
        = 0 OR $4 = ANY (n.aud_roles))), i AS (INSERT INTO notice.reads (notice_id, user_id)
  SELECT id, $5
  FROM t
  ON CONFLICT DO NOTHING)
SELECT count(*)
FROM t;
