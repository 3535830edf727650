/* db.c -- see db.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "db.h"
#include "faultvfs.h"

struct stmt {
	const char	*sql;
	sqlite3_stmt	*st;
};

struct corp_db {
	sqlite3		*h;
	char		*path;
	struct stmt	*stmts;
	size_t		 nstmts, cap;
	int		 in_tx;
	int		 schema_cookie;	/* PRAGMA schema_version at open */
};

sqlite3 *
corp_db_sqlite(struct corp_db *db)
{
	return db->h;
}

const char *
corp_db_path(struct corp_db *db)
{
	return db->path;
}

int
corp_db_in_tx(struct corp_db *db)
{
	return db->in_tx;
}

/*
 * The errno behind an I/O error.  SQLite records it for errors raised
 * inside a statement but not for a failed commit (a WAL write or fsync),
 * so fall back to asking the VFS, which for unix reports errno: nothing
 * that can fail runs between the failed call and this point.
 */
static int
io_errno(struct corp_db *db)
{
	sqlite3_vfs *v = NULL;
	int eno;

	if (db == NULL || db->h == NULL)
		return 0;
	if ((eno = sqlite3_system_errno(db->h)) != 0)
		return eno;
	if (sqlite3_file_control(db->h, "main", SQLITE_FCNTL_VFS_POINTER, &v)
	    != SQLITE_OK || v == NULL || v->xGetLastError == NULL)
		return 0;
	eno = v->xGetLastError(v, 0, NULL);
	return eno > 0 && eno != ENOENT ? eno : 0;
}

int
corp_db_fail(struct corp_db *db, int rc, const char *what,
    struct corp_err *err)
{
	int prim = rc & 0xff, eno;
	const char *msg = db && db->h ? sqlite3_errmsg(db->h) :
	    sqlite3_errstr(rc);

	switch (prim) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return corp_errf(err, CORP_ETEMP,
		    "%s: database is busy (waited %lds); try again", what,
		    corp_cfg.busy_timeout_ms / 1000);
	case SQLITE_FULL:
		return corp_errf(err, CORP_EINTERNAL,
		    "%s: database or disk is full (%s)", what,
		    strerror(ENOSPC));
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		if ((eno = io_errno(db)) != 0)
			return corp_errf(err, CORP_EINTERNAL, "%s: %s (%s)",
			    what, msg, strerror(eno));
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return corp_errf(err, CORP_EINTERNAL,
		    "%s: %s: database file is corrupt or not a database; "
		    "run corp-db check", what, db ? db->path : "");
	case SQLITE_CONSTRAINT:
		return corp_errf(err, CORP_ECONFLICT, "%s: %s", what, msg);
	}
	return corp_errf(err, CORP_EINTERNAL, "%s: %s", what, msg);
}

void
corp_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

void
corp_bind_id(sqlite3_stmt *st, int i, long long id)
{
	if (id <= 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, id);
}

const char *
corp_col_text(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_column_text(st, i);
}

int
corp_db_prep(struct corp_db *db, sqlite3_stmt **stp, const char *sql,
    struct corp_err *err)
{
	struct stmt *s;
	size_t i;
	int rc;

	for (i = 0; i < db->nstmts; i++)
		if (db->stmts[i].sql == sql) {
			sqlite3_reset(db->stmts[i].st);
			sqlite3_clear_bindings(db->stmts[i].st);
			*stp = db->stmts[i].st;
			return 0;
		}
	if (db->nstmts == db->cap) {
		size_t ncap = db->cap ? db->cap * 2 : 32;

		s = reallocarray(db->stmts, ncap, sizeof(*s));
		if (s == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		db->stmts = s;
		db->cap = ncap;
	}
	s = &db->stmts[db->nstmts];
	rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &s->st, NULL);
	if (rc != SQLITE_OK)
		return corp_db_fail(db, rc, "prepare", err);
	s->sql = sql;
	db->nstmts++;
	*stp = s->st;
	return 0;
}

int
corp_db_exec(struct corp_db *db, sqlite3_stmt *st, const char *what,
    struct corp_err *err)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		rc = corp_db_fail(db, rc, what, err);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return 0;
}

int
corp_db_rows(struct corp_db *db, sqlite3_stmt *st,
    json_t *(*row)(sqlite3_stmt *), json_t **array, const char *what,
    struct corp_err *err)
{
	int rc;

	if ((*array = json_array()) == NULL) {
		sqlite3_reset(st);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (json_array_append_new(*array, row(st)) != 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto fail;
		}
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	rc = corp_db_fail(db, rc, what, err);
fail:
	sqlite3_reset(st);
	json_decref(*array);
	*array = NULL;
	return rc;
}

int
corp_db_text_by_id(struct corp_db *db, const char *sql, long long id,
    char **out, const char *what, struct corp_err *err)
{
	sqlite3_stmt *st;
	const char *v;
	int rc;

	*out = NULL;
	if (id <= 0)
		return 0;
	if ((rc = corp_db_prep(db, &st, sql, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    (v = corp_col_text(st, 0)) != NULL && (*out = strdup(v)) == NULL) {
		sqlite3_reset(st);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, what, err);
	return 0;
}

static int
simple(struct corp_db *db, const char *sql, const char *what,
    struct corp_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, sql, err)) != 0)
		return rc;
	return corp_db_exec(db, st, what, err);
}

int
corp_db_begin(struct corp_db *db, struct corp_err *err)
{
	int rc;

	if ((rc = simple(db, "BEGIN IMMEDIATE", "begin", err)) == 0)
		db->in_tx = 1;
	return rc;
}

int
corp_db_commit(struct corp_db *db, struct corp_err *err)
{
	int rc;

	if ((rc = simple(db, "COMMIT", "commit", err)) != 0) {
		corp_db_rollback(db);
		return rc;
	}
	db->in_tx = 0;
	return 0;
}

void
corp_db_rollback(struct corp_db *db)
{
	if (sqlite3_get_autocommit(db->h) == 0)
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	db->in_tx = 0;
}

int
corp_db_latest(void)
{
	return corp_migrations[corp_nmigrations - 1].version;
}

int
corp_db_version(struct corp_db *db, int *v, struct corp_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "PRAGMA user_version", err)) != 0)
		return rc;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "read schema version", err);
		sqlite3_reset(st);
		return rc;
	}
	*v = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int
schema_cookie(struct corp_db *db, int *out, struct corp_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "PRAGMA schema_version", err)) != 0)
		return rc;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "read schema cookie", err);
		sqlite3_reset(st);
		return rc;
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return 0;
}

int
corp_db_migrate(struct corp_db *db, int to, int *fromp, int *top,
    struct corp_err *err)
{
	size_t i;
	int v, rc, latest = corp_db_latest();
	char *emsg = NULL;

	if (to <= 0 || to > latest)
		to = latest;
	if ((rc = corp_db_version(db, &v, err)) != 0)
		return rc;
	if (fromp)
		*fromp = v;
	if (v > latest)
		return corp_errf(err, CORP_ECONFLICT,
		    "%s: schema version %d is newer than this corp (%d); "
		    "install a newer corp, never downgrade a database",
		    db->path, v, latest);
	for (i = 0; i < corp_nmigrations; i++) {
		const struct corp_migration *m = &corp_migrations[i];

		if (m->version <= v || m->version > to)
			continue;
		if ((rc = corp_db_begin(db, err)) != 0)
			return rc;
		/* Another process may have migrated while we waited. */
		if ((rc = corp_db_version(db, &v, err)) != 0) {
			corp_db_rollback(db);
			return rc;
		}
		if (m->version <= v) {
			corp_db_rollback(db);
			continue;
		}
		rc = sqlite3_exec(db->h, m->sql, NULL, NULL, &emsg);
		if (rc != SQLITE_OK) {
			corp_errf(err, CORP_EINTERNAL, "migration %s: %s",
			    m->name, emsg ? emsg : sqlite3_errstr(rc));
			if ((rc & 0xff) == SQLITE_BUSY)
				err->code = CORP_ETEMP;
			sqlite3_free(emsg);
			corp_db_rollback(db);
			return err->code;
		}
		if ((rc = corp_db_commit(db, err)) != 0)
			return corp_errprefix(err, "migration %s", m->name);
		v = m->version;
	}
	if (top)
		*top = v;
	return schema_cookie(db, &db->schema_cookie, err);
}

int
corp_db_data_version(struct corp_db *db, long long *v, struct corp_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "PRAGMA data_version", err)) != 0)
		return rc;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "read data_version", err);
		sqlite3_reset(st);
		return rc;
	}
	*v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int
corp_db_schema_check(struct corp_db *db, struct corp_err *err)
{
	int c, rc;

	if ((rc = schema_cookie(db, &c, err)) != 0)
		return rc;
	if (c != db->schema_cookie)
		return corp_errf(err, CORP_ETEMP,
		    "%s: the schema changed under this process; restart it",
		    db->path);
	return 0;
}

/* Create the file 0600 ourselves so that -wal and -shm inherit it. */
static int
create_file(const char *path, struct corp_err *err)
{
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
	close(fd);
	return 0;
}

static int
pragma(struct corp_db *db, const char *sql, struct corp_err *err)
{
	char *emsg = NULL;
	int rc;

	if ((rc = sqlite3_exec(db->h, sql, NULL, NULL, &emsg)) != SQLITE_OK) {
		sqlite3_free(emsg);
		return corp_db_fail(db, rc, sql, err);
	}
	return 0;
}

int
corp_db_open(struct corp_db **out, int flags, struct corp_err *err)
{
	struct corp_db *db;
	const char *vfs = NULL;
	struct stat st;
	int rc, v;

	*out = NULL;
	if (corp_cfg.test_vfs != NULL) {
		if ((rc = corp_faultvfs_install(corp_cfg.test_vfs, err)) != 0)
			return rc;
		vfs = CORP_FAULTVFS_NAME;
	}
	if (corp_cfg.db == NULL) {
		char *p;

		if ((rc = corp_data_path(&p, "corp.db", err)) != 0)
			return rc;
		corp_cfg.db = p;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(corp_cfg.db)) == NULL) {
		free(db);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	if (stat(db->path, &st) != 0) {
		if (errno != ENOENT || !(flags & CORP_DB_CREATE)) {
			rc = errno == ENOENT ?
			    corp_errf(err, CORP_ENOTFOUND,
			    "%s: no database here; run corp-db init", db->path) :
			    corp_errf(err, CORP_EINTERNAL, "%s: %s", db->path,
			    strerror(errno));
			goto fail;
		}
		if ((rc = create_file(db->path, err)) != 0)
			goto fail;
	} else if (!S_ISREG(st.st_mode)) {
		rc = corp_errf(err, CORP_EINTERNAL, "%s: not a regular file",
		    db->path);
		goto fail;
	}
	rc = sqlite3_open_v2(db->path, &db->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, vfs);
	if (rc != SQLITE_OK) {
		rc = corp_db_fail(db, rc, "open", err);
		corp_errprefix(err, "%s", db->path);
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, (int)corp_cfg.busy_timeout_ms);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if ((rc = pragma(db, "PRAGMA journal_mode=WAL", err)) != 0 ||
	    (rc = pragma(db, corp_cfg.sync_full ? "PRAGMA synchronous=FULL" :
	    "PRAGMA synchronous=NORMAL", err)) != 0 ||
	    (rc = pragma(db, "PRAGMA foreign_keys=ON", err)) != 0)
		goto fail;
	if ((rc = corp_db_version(db, &v, err)) != 0)
		goto fail;
	if (v > corp_db_latest()) {
		rc = corp_errf(err, CORP_ECONFLICT,
		    "%s: schema version %d is newer than this corp (%d); "
		    "install a newer corp, never downgrade a database",
		    db->path, v, corp_db_latest());
		goto fail;
	}
	if (!(flags & CORP_DB_NOMIGRATE) && v < corp_db_latest()) {
		if ((rc = corp_db_migrate(db, 0, NULL, NULL, err)) != 0)
			goto fail;
	} else if ((rc = schema_cookie(db, &db->schema_cookie, err)) != 0)
		goto fail;
	*out = db;
	return 0;
fail:
	corp_db_close(db);
	return rc;
}

void
corp_db_close(struct corp_db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < db->nstmts; i++)
		sqlite3_finalize(db->stmts[i].st);
	free(db->stmts);
	if (db->h != NULL)
		sqlite3_close(db->h);
	free(db->path);
	free(db);
}
