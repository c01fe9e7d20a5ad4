-- logs.sql - GET /api/v1/access-logs (logs_query.c): the log filtered, newest first, keyset-
-- paginated on chain_pos. Every filter is a parameter, NULL when not asked for. The statements
-- differ only in the filter that leads (written out in each, so that the plan a prepared
-- statement keeps walks the index that filter needs): logs_query.c picks the most selective
-- one asked for, the person, then the resource, the actor, the organisation, failures, else
-- none. A municipality's staff see only rows of their municipality ($10, $11).
-- A leading id filter names the id's hash and the id: the indexes key on hashtextextended(id, 0)
-- and chain_pos (migration 010), the id itself drops another id with the same hash.

-- name: aud_log_page
-- Any filters, walked newest first by chain_pos (index access_log_chain_pos).
-- $1 from: timestamptz, rows at or after (NULL: any)
-- $2 to: timestamptz, rows before (NULL: any)
-- $3 actor: text, the actor's id or login id (NULL: any)
-- $4 org: text, the actor's or the subject's organisation id (NULL: any)
-- $5 res_type: text, the resource type (NULL: any)
-- $6 res_id: text, the resource id (NULL: any)
-- $7 person: text, the person id (NULL: any)
-- $8 status: integer, the HTTP status (NULL: any)
-- $9 outcome: integer, 0 any, 1 success (< 400), 2 failure (>= 400)
-- $10 muni: text, the caller's municipality code when restricted to it (NULL: national)
-- $11 muni_org: text, that municipality's organisation id (its own users' resources)
-- $12 before: bigint, the cursor (rows below this chain position)
-- $13 limit: integer, rows wanted
SELECT a.seq, a.chain_pos,
       to_char(a.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), a.request_id,
       a.service, a.actor_kind, a.actor_id, a.actor_login, a.org_id, a.org_type, a.muni_code,
       a.role, a.method, a.route, a.path, a.res_type, a.res_id, a.person_id, a.subject_org_id,
       a.subject_muni, a.status, a.client_ip, a.duration_us, encode(a.hash, 'hex')
FROM audit.access_log a
WHERE ($1::timestamptz IS NULL OR a.ts >= $1::timestamptz)
  AND ($2::timestamptz IS NULL OR a.ts < $2::timestamptz)
  AND ($3::text IS NULL OR a.actor_id = $3::text OR a.actor_login = $3::text)
  AND ($4::text IS NULL OR a.org_id = $4::text OR a.subject_org_id = $4::text)
  AND ($5::text IS NULL OR a.res_type = $5::text)
  AND ($6::text IS NULL OR a.res_id = $6::text)
  AND ($7::text IS NULL OR a.person_id = $7::text)
  AND ($8::integer IS NULL OR a.status = $8::integer)
  AND ($9::integer = 0 OR ($9::integer = 1 AND a.status < 400)
       OR ($9::integer = 2 AND a.status >= 400))
  AND ($10::text IS NULL OR a.muni_code = $10::text OR a.subject_muni = $10::text
       OR a.subject_org_id = $11::text)
  AND a.chain_pos < $12::bigint
ORDER BY a.chain_pos DESC
LIMIT $13::integer;

-- name: aud_log_page_person
-- A person's rows (index access_log_person).
-- $1 from: timestamptz, rows at or after (NULL: any)
-- $2 to: timestamptz, rows before (NULL: any)
-- $3 actor: text, the actor's id or login id (NULL: any)
-- $4 org: text, the actor's or the subject's organisation id (NULL: any)
-- $5 res_type: text, the resource type (NULL: any)
-- $6 res_id: text, the resource id (NULL: any)
-- $7 person: text, the person id (NULL: any)
-- $8 status: integer, the HTTP status (NULL: any)
-- $9 outcome: integer, 0 any, 1 success (< 400), 2 failure (>= 400)
-- $10 muni: text, the caller's municipality code when restricted to it (NULL: national)
-- $11 muni_org: text, that municipality's organisation id (its own users' resources)
-- $12 before: bigint, the cursor (rows below this chain position)
-- $13 limit: integer, rows wanted
SELECT a.seq, a.chain_pos,
       to_char(a.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), a.request_id,
       a.service, a.actor_kind, a.actor_id, a.actor_login, a.org_id, a.org_type, a.muni_code,
       a.role, a.method, a.route, a.path, a.res_type, a.res_id, a.person_id, a.subject_org_id,
       a.subject_muni, a.status, a.client_ip, a.duration_us, encode(a.hash, 'hex')
FROM audit.access_log a
WHERE hashtextextended(a.person_id, 0) = hashtextextended($7::text, 0) AND a.person_id = $7::text
  AND ($1::timestamptz IS NULL OR a.ts >= $1::timestamptz)
  AND ($2::timestamptz IS NULL OR a.ts < $2::timestamptz)
  AND ($3::text IS NULL OR a.actor_id = $3::text OR a.actor_login = $3::text)
  AND ($4::text IS NULL OR a.org_id = $4::text OR a.subject_org_id = $4::text)
  AND ($5::text IS NULL OR a.res_type = $5::text)
  AND ($6::text IS NULL OR a.res_id = $6::text)
  AND ($7::text IS NULL OR a.person_id = $7::text)
  AND ($8::integer IS NULL OR a.status = $8::integer)
  AND ($9::integer = 0 OR ($9::integer = 1 AND a.status < 400)
       OR ($9::integer = 2 AND a.status >= 400))
  AND ($10::text IS NULL OR a.muni_code = $10::text OR a.subject_muni = $10::text
       OR a.subject_org_id = $11::text)
  AND a.chain_pos < $12::bigint
ORDER BY a.chain_pos DESC
LIMIT $13::integer;

-- name: aud_log_page_resource
-- A resource's rows (index access_log_resource).
-- $1 from: timestamptz, rows at or after (NULL: any)
-- $2 to: timestamptz, rows before (NULL: any)
-- $3 actor: text, the actor's id or login id (NULL: any)
-- $4 org: text, the actor's or the subject's organisation id (NULL: any)
-- $5 res_type: text, the resource type (NULL: any)
-- $6 res_id: text, the resource id (NULL: any)
-- $7 person: text, the person id (NULL: any)
-- $8 status: integer, the HTTP status (NULL: any)
-- $9 outcome: integer, 0 any, 1 success (< 400), 2 failure (>= 400)
-- $10 muni: text, the caller's municipality code when restricted to it (NULL: national)
-- $11 muni_org: text, that municipality's organisation id (its own users' resources)
-- $12 before: bigint, the cursor (rows below this chain position)
-- $13 limit: integer, rows wanted
SELECT a.seq, a.chain_pos,
       to_char(a.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), a.request_id,
       a.service, a.actor_kind, a.actor_id, a.actor_login, a.org_id, a.org_type, a.muni_code,
       a.role, a.method, a.route, a.path, a.res_type, a.res_id, a.person_id, a.subject_org_id,
       a.subject_muni, a.status, a.client_ip, a.duration_us, encode(a.hash, 'hex')
FROM audit.access_log a
WHERE hashtextextended(a.res_id, 0) = hashtextextended($6::text, 0)
  AND a.res_type = $5::text AND a.res_id = $6::text
  AND ($1::timestamptz IS NULL OR a.ts >= $1::timestamptz)
  AND ($2::timestamptz IS NULL OR a.ts < $2::timestamptz)
  AND ($3::text IS NULL OR a.actor_id = $3::text OR a.actor_login = $3::text)
  AND ($4::text IS NULL OR a.org_id = $4::text OR a.subject_org_id = $4::text)
  AND ($5::text IS NULL OR a.res_type = $5::text)
  AND ($6::text IS NULL OR a.res_id = $6::text)
  AND ($7::text IS NULL OR a.person_id = $7::text)
  AND ($8::integer IS NULL OR a.status = $8::integer)
  AND ($9::integer = 0 OR ($9::integer = 1 AND a.status < 400)
       OR ($9::integer = 2 AND a.status >= 400))
  AND ($10::text IS NULL OR a.muni_code = $10::text OR a.subject_muni = $10::text
       OR a.subject_org_id = $11::text)
  AND a.chain_pos < $12::bigint
ORDER BY a.chain_pos DESC
LIMIT $13::integer;

-- name: aud_log_page_actor
-- An actor's rows: those by its id and those by its login id (the other), each read newest
-- first from its index (access_log_actor_id, access_log_actor_login), a page of each merged.
-- $1 from: timestamptz, rows at or after (NULL: any)
-- $2 to: timestamptz, rows before (NULL: any)
-- $3 actor: text, the actor's id or login id (NULL: any)
-- $4 org: text, the actor's or the subject's organisation id (NULL: any)
-- $5 res_type: text, the resource type (NULL: any)
-- $6 res_id: text, the resource id (NULL: any)
-- $7 person: text, the person id (NULL: any)
-- $8 status: integer, the HTTP status (NULL: any)
-- $9 outcome: integer, 0 any, 1 success (< 400), 2 failure (>= 400)
-- $10 muni: text, the caller's municipality code when restricted to it (NULL: national)
-- $11 muni_org: text, that municipality's organisation id (its own users' resources)
-- $12 before: bigint, the cursor (rows below this chain position)
-- $13 limit: integer, rows wanted
SELECT a.seq, a.chain_pos,
       to_char(a.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), a.request_id,
       a.service, a.actor_kind, a.actor_id, a.actor_login, a.org_id, a.org_type, a.muni_code,
       a.role, a.method, a.route, a.path, a.res_type, a.res_id, a.person_id, a.subject_org_id,
       a.subject_muni, a.status, a.client_ip, a.duration_us, encode(a.hash, 'hex')
FROM (
    (SELECT a.*
     FROM audit.access_log a
     WHERE hashtextextended(a.actor_id, 0) = hashtextextended($3::text, 0) AND a.actor_id = $3::text
     AND ($1::timestamptz IS NULL OR a.ts >= $1::timestamptz)
     AND ($2::timestamptz IS NULL OR a.ts < $2::timestamptz)
     AND ($3::text IS NULL OR a.actor_id = $3::text OR a.actor_login = $3::text)
     AND ($4::text IS NULL OR a.org_id = $4::text OR a.subject_org_id = $4::text)
     AND ($5::text IS NULL OR a.res_type = $5::text)
     AND ($6::text IS NULL OR a.res_id = $6::text)
     AND ($7::text IS NULL OR a.person_id = $7::text)
     AND ($8::integer IS NULL OR a.status = $8::integer)
     AND ($9::integer = 0 OR ($9::integer = 1 AND a.status < 400)
          OR ($9::integer = 2 AND a.status >= 400))
     AND ($10::text IS NULL OR a.muni_code = $10::text OR a.subject_muni = $10::text
          OR a.subject_org_id = $11::text)
     AND a.chain_pos < $12::bigint
     ORDER BY a.chain_pos DESC
     LIMIT $13::integer)
    UNION ALL
    (SELECT a.*
     FROM audit.access_log a
     WHERE hashtextextended(a.actor_login, 0) = hashtextextended($3::text, 0) AND a.actor_login = $3::text
     AND a.actor_id IS DISTINCT FROM $3::text
     AND ($1::timestamptz IS NULL OR a.ts >= $1::timestamptz)
     AND ($2::timestamptz IS NULL OR a.ts < $2::timestamptz)
     AND ($3::text IS NULL OR a.actor_id = $3::text OR a.actor_login = $3::text)
     AND ($4::text IS NULL OR a.org_id = $4::text OR a.subject_org_id = $4::text)
     AND ($5::text IS NULL OR a.res_type = $5::text)
     AND ($6::text IS NULL OR a.res_id = $6::text)
     AND ($7::text IS NULL OR a.person_id = $7::text)
     AND ($8::integer IS NULL OR a.status = $8::integer)
     AND ($9::integer = 0 OR ($9::integer = 1 AND a.status < 400)
          OR ($9::integer = 2 AND a.status >= 400))
     AND ($10::text IS NULL OR a.muni_code = $10::text OR a.subject_muni = $10::text
          OR a.subject_org_id = $11::text)
     AND a.chain_pos < $12::bigint
     ORDER BY a.chain_pos DESC
     LIMIT $13::integer)
) a
ORDER BY a.chain_pos DESC
LIMIT $13::integer;

-- name: aud_log_page_org
-- An organisation's rows: the actor's organisation, or else the subject's, each read newest
-- first from its index (access_log_org, access_log_subject_org), a page of each merged.
-- $1 from: timestamptz, rows at or after (NULL: any)
-- $2 to: timestamptz, rows before (NULL: any)
-- $3 actor: text, the actor's id or login id (NULL: any)
-- $4 org: text, the actor's or the subject's organisation id (NULL: any)
-- $5 res_type: text, the resource type (NULL: any)
-- $6 res_id: text, the resource id (NULL: any)
-- $7 person: text, the person id (NULL: any)
-- $8 status: integer, the HTTP status (NULL: any)
-- $9 outcome: integer, 0 any, 1 success (< 400), 2 failure (>= 400)
-- $10 muni: text, the caller's municipality code when restricted to it (NULL: national)
-- $11 muni_org: text, that municipality's organisation id (its own users' resources)
-- $12 before: bigint, the cursor (rows below this chain position)
-- $13 limit: integer, rows wanted
SELECT a.seq, a.chain_pos,
       to_char(a.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), a.request_id,
       a.service, a.actor_kind, a.actor_id, a.actor_login, a.org_id, a.org_type, a.muni_code,
       a.role, a.method, a.route, a.path, a.res_type, a.res_id, a.person_id, a.subject_org_id,
       a.subject_muni, a.status, a.client_ip, a.duration_us, encode(a.hash, 'hex')
FROM (
    (SELECT a.*
     FROM audit.access_log a
     WHERE hashtextextended(a.org_id, 0) = hashtextextended($4::text, 0) AND a.org_id = $4::text
     AND ($1::timestamptz IS NULL OR a.ts >= $1::timestamptz)
     AND ($2::timestamptz IS NULL OR a.ts < $2::timestamptz)
     AND ($3::text IS NULL OR a.actor_id = $3::text OR a.actor_login = $3::text)
     AND ($4::text IS NULL OR a.org_id = $4::text OR a.subject_org_id = $4::text)
     AND ($5::text IS NULL OR a.res_type = $5::text)
     AND ($6::text IS NULL OR a.res_id = $6::text)
     AND ($7::text IS NULL OR a.person_id = $7::text)
     AND ($8::integer IS NULL OR a.status = $8::integer)
     AND ($9::integer = 0 OR ($9::integer = 1 AND a.status < 400)
          OR ($9::integer = 2 AND a.status >= 400))
     AND ($10::text IS NULL OR a.muni_code = $10::text OR a.subject_muni = $10::text
          OR a.subject_org_id = $11::text)
     AND a.chain_pos < $12::bigint
     ORDER BY a.chain_pos DESC
     LIMIT $13::integer)
    UNION ALL
    (SELECT a.*
     FROM audit.access_log a
     WHERE hashtextextended(a.subject_org_id, 0) = hashtextextended($4::text, 0) AND a.subject_org_id = $4::text
     AND a.org_id IS DISTINCT FROM $4::text
     AND ($1::timestamptz IS NULL OR a.ts >= $1::timestamptz)
     AND ($2::timestamptz IS NULL OR a.ts < $2::timestamptz)
     AND ($3::text IS NULL OR a.actor_id = $3::text OR a.actor_login = $3::text)
     AND ($4::text IS NULL OR a.org_id = $4::text OR a.subject_org_id = $4::text)
     AND ($5::text IS NULL OR a.res_type = $5::text)
     AND ($6::text IS NULL OR a.res_id = $6::text)
     AND ($7::text IS NULL OR a.person_id = $7::text)
     AND ($8::integer IS NULL OR a.status = $8::integer)
     AND ($9::integer = 0 OR ($9::integer = 1 AND a.status < 400)
          OR ($9::integer = 2 AND a.status >= 400))
     AND ($10::text IS NULL OR a.muni_code = $10::text OR a.subject_muni = $10::text
          OR a.subject_org_id = $11::text)
     AND a.chain_pos < $12::bigint
     ORDER BY a.chain_pos DESC
     LIMIT $13::integer)
) a
ORDER BY a.chain_pos DESC
LIMIT $13::integer;

-- name: aud_log_page_failures
-- Refused and failed requests (index access_log_failures).
-- $1 from: timestamptz, rows at or after (NULL: any)
-- $2 to: timestamptz, rows before (NULL: any)
-- $3 actor: text, the actor's id or login id (NULL: any)
-- $4 org: text, the actor's or the subject's organisation id (NULL: any)
-- $5 res_type: text, the resource type (NULL: any)
-- $6 res_id: text, the resource id (NULL: any)
-- $7 person: text, the person id (NULL: any)
-- $8 status: integer, the HTTP status (NULL: any)
-- $9 outcome: integer, 0 any, 1 success (< 400), 2 failure (>= 400)
-- $10 muni: text, the caller's municipality code when restricted to it (NULL: national)
-- $11 muni_org: text, that municipality's organisation id (its own users' resources)
-- $12 before: bigint, the cursor (rows below this chain position)
-- $13 limit: integer, rows wanted
SELECT a.seq, a.chain_pos,
       to_char(a.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), a.request_id,
       a.service, a.actor_kind, a.actor_id, a.actor_login, a.org_id, a.org_type, a.muni_code,
       a.role, a.method, a.route, a.path, a.res_type, a.res_id, a.person_id, a.subject_org_id,
       a.subject_muni, a.status, a.client_ip, a.duration_us, encode(a.hash, 'hex')
FROM audit.access_log a
WHERE a.status >= 400
  AND ($1::timestamptz IS NULL OR a.ts >= $1::timestamptz)
  AND ($2::timestamptz IS NULL OR a.ts < $2::timestamptz)
  AND ($3::text IS NULL OR a.actor_id = $3::text OR a.actor_login = $3::text)
  AND ($4::text IS NULL OR a.org_id = $4::text OR a.subject_org_id = $4::text)
  AND ($5::text IS NULL OR a.res_type = $5::text)
  AND ($6::text IS NULL OR a.res_id = $6::text)
  AND ($7::text IS NULL OR a.person_id = $7::text)
  AND ($8::integer IS NULL OR a.status = $8::integer)
  AND ($9::integer = 0 OR ($9::integer = 1 AND a.status < 400)
       OR ($9::integer = 2 AND a.status >= 400))
  AND ($10::text IS NULL OR a.muni_code = $10::text OR a.subject_muni = $10::text
       OR a.subject_org_id = $11::text)
  AND a.chain_pos < $12::bigint
ORDER BY a.chain_pos DESC
LIMIT $13::integer;
