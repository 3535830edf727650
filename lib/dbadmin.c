/* dbadmin.c -- see dbadmin.h. */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "dbadmin.h"
#include "directory.h"

static json_int_t
fsize(const char *path, const char *suffix)
{
	struct stat st;
	char *p;
	json_int_t n = 0;

	if (corp_asprintf(&p, "%s%s", path, suffix) < 0)
		return 0;
	if (stat(p, &st) == 0)
		n = (json_int_t)st.st_size;
	free(p);
	return n;
}

int
corp_dbadmin_status(struct corp_db *db, json_t **out, struct corp_err *err)
{
	json_t *o, *tables;
	struct corp_stmt *st;
	struct corp_err e;
	size_t i;
	int v, rc;

	*out = NULL;
	if ((rc = corp_db_version(db, &v, err)) != 0)
		return rc;
	tables = json_object();
	for (i = 0; i < corp_ntables; i++) {
		/* A table of a migration not applied yet is not listed. */
		if (corp_db_prep_once(db, &st, corp_tables[i].count_sql,
		    &e) != 0)
			continue;
		if ((rc = corp_step(st)) != SQLITE_ROW) {
			corp_stmt_free(st);
			json_decref(tables);
			return corp_db_fail(db, rc, corp_tables[i].name, err);
		}
		json_object_set_new(tables, corp_tables[i].name,
		    json_integer(corp_col_int64(st, 0)));
		corp_stmt_free(st);
	}
	o = json_pack("{s:s, s:i, s:i, s:I, s:I, s:o}",
	    "path", corp_db_path(db),
	    "schema_version", v,
	    "latest_version", corp_db_latest(),
	    "size", fsize(corp_db_path(db), ""),
	    "wal_size", fsize(corp_db_path(db), "-wal"),
	    "tables", tables);
	if (o == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	*out = o;
	return 0;
}

int
corp_dbadmin_backup(struct corp_db *db, const char *file,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "VACUUM INTO ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, file);
	if ((rc = corp_db_exec(db, st, "backup", err)) != 0)
		return corp_errprefix(err, "%s", file);
	return 0;
}

int
corp_dbadmin_make_admin(struct corp_db *db, const char *login,
    long long *idp, struct corp_err *err)
{
	return corp_dir_make_admin(db, login, idp, err);
}
