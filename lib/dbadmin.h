/* dbadmin.h -- corp-db's status, backup and first-admin operations. */
#ifndef CORP_DBADMIN_H
#define CORP_DBADMIN_H

#include <jansson.h>

struct corp_db;
struct corp_err;

/* {path, schema_version, latest_version, size, wal_size, tables:{..}} */
int	corp_dbadmin_status(struct corp_db *, json_t **, struct corp_err *);
/* A consistent copy while writers run (VACUUM INTO an empty file). */
int	corp_dbadmin_backup(struct corp_db *, const char *file,
	    struct corp_err *);
/* Create login as an active admin, or make an existing one admin. */
int	corp_dbadmin_make_admin(struct corp_db *, const char *login,
	    long long *idp, struct corp_err *);

#endif
