-- about_me.sql - "who viewed my records" (logs_about_me.c, H-3-3): rows about the caller's
-- family, the viewer shown as its organisation and role, never as a person.

-- name: aud_about_me_page
-- One page, newest first (keyset on chain_pos); the caller's own views left out. The persons'
-- rows are found by the hash of their id (index access_log_person, migration 010).
-- $1 persons: text[], the person ids the caller's token may see
-- $2 self: text, the caller's own actor id
-- $3 before: bigint, the cursor (rows below this chain position)
-- $4 limit: int, rows wanted
SELECT json_build_object(
           'at', l.ts, 'service', l.service, 'method', l.method,
           'resource_type', l.res_type, 'person_id', l.person_id, 'status', l.status,
           'viewer', json_build_object(
               'kind', CASE WHEN l.actor_kind = 'user' THEN 'staff'
                            WHEN l.actor_kind = 'client' THEN 'api_client'
                            WHEN l.actor_kind = 'vaccinee' THEN 'vaccinee'
                            WHEN l.service = 'token' THEN 'portal'
                            ELSE 'system' END,
               'organization_id', l.org_id,
               'organization_type', l.org_type,
               'organization_type_label', CASE l.org_type
                   WHEN 'municipality' THEN '市区町村'
                   WHEN 'medical_institution' THEN '医療機関'
                   WHEN 'non_insurance_medical_institution' THEN '非保険医療機関'
                   WHEN 'kokuhoren' THEN '国保連合会'
                   WHEN 'chuokai' THEN '国保中央会'
                   WHEN 'mhlw' THEN '厚生労働省'
                   WHEN 'operator' THEN '運用保守事業者' END,
               'municipality_code', l.muni_code,
               'municipality_name', (SELECT m.name FROM master.municipalities m
                                     WHERE m.code = l.muni_code AND m.superseded_at IS NULL
                                     ORDER BY m.valid_from DESC LIMIT 1),
               'role', l.role)),
       l.chain_pos
FROM audit.access_log l
WHERE hashtextextended(l.person_id, 0) = ANY (audit.id_keys($1::text[]))
  AND l.person_id = ANY ($1::text[])
  AND NOT (l.actor_kind = 'vaccinee' AND l.actor_id = $2)
  AND l.chain_pos < $3::bigint
ORDER BY l.chain_pos DESC
LIMIT $4::int;
