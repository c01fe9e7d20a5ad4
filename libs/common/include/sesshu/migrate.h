/* migrate.h - ordered SQL migrations per service.
 *
 * dir holds files NNN_name.sql applied in name order, each in its own
 * transaction, under pg_advisory_lock(hashtext('sesshu.migrate.'||schema)),
 * and recorded in <schema>.schema_migrations(version, applied_at). The
 * schema itself must exist (created by scripts/db-init.sh with the service
 * role as owner). Safe to run concurrently from several instances. */
#ifndef SESSHU_MIGRATE_H
#define SESSHU_MIGRATE_H

#include "sesshu/db.h"

int ss_migrate(ss_db *db, const char *schema, const char *dir);

#endif
