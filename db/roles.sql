-- db/roles.sql - cluster-level roles and schemas, run by scripts/db-init.sh (scripts/lib.sh
-- ss_pg_roles; deploy/docker/db-init.sh in containers) as the superuser, once per service:
-- psql -v svc=account -v pw=... -v schemas=account,authz -f db/roles.sql
-- (the scripts send `\set pw ...` and this file on standard input, keeping the password off ps).
-- Idempotent. Each service gets a LOGIN role sesshu_<svc> owning only its own schemas; group roles
-- grant the cross-service rights of docs/architecture.md §8: every service may INSERT into the
-- access log (sesshu_audit_writer, granted by the audit migrations), read `master`
-- (sesshu_master_reader) and read revocations (sesshu_services).
SELECT format('CREATE ROLE %I NOLOGIN', r)
  FROM unnest(ARRAY['sesshu_services', 'sesshu_audit_writer', 'sesshu_master_reader']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec

SELECT format('CREATE ROLE %I LOGIN', 'sesshu_' || :'svc')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sesshu_' || :'svc') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', 'sesshu_' || :'svc', :'pw') \gexec
SELECT format('GRANT sesshu_services, sesshu_audit_writer, sesshu_master_reader TO %I', 'sesshu_' || :'svc') \gexec
-- Only the service roles (and the superuser) connect: PUBLIC's default CONNECT/TEMP go.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), 'sesshu_' || :'svc') \gexec

SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', s, 'sesshu_' || :'svc')
  FROM unnest(string_to_array(:'schemas', ',')) AS s \gexec

-- The stats service's analytics schema (H-6-1) is read by BI tools through a NOLOGIN group role,
-- sesshu_stats_bi: an operator creates each tool's LOGIN role IN ROLE sesshu_stats_bi
-- (services/stats/README.md). It may connect and read that schema's views (granted by the stats
-- migrations), nothing else.
SELECT 'CREATE ROLE sesshu_stats_bi NOLOGIN'
 WHERE :'svc' = 'stats' AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sesshu_stats_bi') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO sesshu_stats_bi', current_database())
 WHERE :'svc' = 'stats' \gexec
