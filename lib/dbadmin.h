/* dbadmin.h -- corp-db's status, backup and first-admin operations. */
#ifndef CORP_DBADMIN_H
#define CORP_DBADMIN_H

#include <jansson.h>

struct corp_db;
struct corp_err;

/* {path, schema_version, latest_version, size, wal_size, tables:{..}};
 * on PostgreSQL size is pg_database_size() and wal_size null. */
int	corp_dbadmin_status(struct corp_db *, json_t **, struct corp_err *);
/*
 * A consistent copy while writers run, into file, which the caller has
 * created empty (mode 0600) to claim the name: SQLite VACUUM INTO it;
 * PostgreSQL pg_dump --format=custom of CORP_DB into a temporary file,
 * renamed over it.
 */
struct corp_dbadmin_progress {
	void	(*fn)(void *arg, long long done, long long total);
	void	*arg;
};
/* p (NULL: none), SQLite only: KiB written of the database's size as it
 * goes, and total of total at the end. */
int	corp_dbadmin_backup(struct corp_db *, const char *file,
	    const struct corp_dbadmin_progress *p, struct corp_err *);
/* Create login as an active admin, or make an existing one admin. */
int	corp_dbadmin_make_admin(struct corp_db *, const char *login,
	    long long *idp, struct corp_err *);

#endif
