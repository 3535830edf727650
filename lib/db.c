/* db.c -- see db.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corp.h"
#include "db.h"
#include "dbint.h"
#include "fsutil.h"
#include "testvfs.h"

const char *
corp_db_path(struct corp_db *db)
{
	return db->path;
}

int
corp_db_is_pg(struct corp_db *db)
{
	return db->pg != NULL;
}

int
corp_db_in_tx(struct corp_db *db)
{
	return db->in_tx;
}

const char *
corp_db_errmsg(struct corp_db *db)
{
	if (db == NULL)
		return "no database";
	if (db->pg != NULL)
		return db->errmsg ? db->errmsg : "unknown error";
	return db->h ? sqlite3_errmsg(db->h) : "no database";
}

long long
corp_db_changes(struct corp_db *db)
{
	return db->pg ? db->changes : sqlite3_changes64(db->h);
}

/* The hook of corp_db_progress: never interrupts the statement. */
struct progress_hook {
	void	(*fn)(void *);
	void	*arg;
};

static int
progress_call(void *arg)
{
	const struct progress_hook *h = arg;

	h->fn(h->arg);
	return 0;
}

void
corp_db_progress(struct corp_db *db, int n, void (*fn)(void *), void *arg)
{
	static struct progress_hook h;

	if (db->pg != NULL)
		return;
	h.fn = fn;
	h.arg = arg;
	sqlite3_progress_handler(db->h, fn != NULL ? n : 0,
	    fn != NULL ? progress_call : NULL, &h);
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
	const char *msg = db && (db->h || db->pg) ? corp_db_errmsg(db) :
	    sqlite3_errstr(rc);

	if (db != NULL && db->pg != NULL && strncmp(db->sqlstate, "08", 2) == 0)
		return corp_errf(err, CORP_ETEMP,
		    "%s: %s: connection to the database failed (%s); "
		    "try again", what, db->path, msg);
	switch (prim) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		if (db != NULL && db->pg != NULL)
			return corp_errf(err, CORP_ETEMP,
			    "%s: database is busy (%s); try again", what, msg);
		return corp_errf(err, CORP_ETEMP,
		    "%s: database is busy (waited %lds); try again", what,
		    corp_cfg.busy_timeout_ms / 1000);
	case SQLITE_FULL:
		return corp_errf(err, CORP_EINTERNAL,
		    "%s: database or disk is full (%s)", what,
		    strerror(ENOSPC));
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		if (db != NULL && db->h != NULL && (eno = io_errno(db)) != 0)
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

/* Statements: SQLite directly, or pg.c. */

int
corp_step(struct corp_stmt *st)
{
	return st->db->pg ? corp_pg_step(st) : sqlite3_step(st->s);
}

void
corp_reset(struct corp_stmt *st)
{
	if (st->db->pg)
		corp_pg_reset(st);
	else
		sqlite3_reset(st->s);
}

static void
clear_bindings(struct corp_stmt *st)
{
	int i;

	if (st->db->pg == NULL) {
		sqlite3_clear_bindings(st->s);
		return;
	}
	for (i = 0; i < st->nparams; i++) {
		free(st->vals[i]);
		st->vals[i] = NULL;
	}
}

void
corp_bind_int64(struct corp_stmt *st, int i, long long v)
{
	char buf[32];

	if (st->db->pg == NULL) {
		sqlite3_bind_int64(st->s, i, (sqlite3_int64)v);
		return;
	}
	snprintf(buf, sizeof(buf), "%lld", v);
	corp_pg_bind(st, i, buf);
}

void
corp_bind_int(struct corp_stmt *st, int i, int v)
{
	corp_bind_int64(st, i, v);
}

void
corp_bind_double(struct corp_stmt *st, int i, double v)
{
	char buf[64];

	if (st->db->pg == NULL) {
		sqlite3_bind_double(st->s, i, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%.17g", v);
	corp_pg_bind(st, i, buf);
}

void
corp_bind_null(struct corp_stmt *st, int i)
{
	if (st->db->pg == NULL)
		sqlite3_bind_null(st->s, i);
	else
		corp_pg_bind(st, i, NULL);
}

void
corp_bind_text(struct corp_stmt *st, int i, const char *s)
{
	if (st->db->pg != NULL)
		corp_pg_bind(st, i, s);
	else if (s == NULL)
		sqlite3_bind_null(st->s, i);
	else
		sqlite3_bind_text(st->s, i, s, -1, SQLITE_TRANSIENT);
}

void
corp_bind_id(struct corp_stmt *st, int i, long long id)
{
	if (id <= 0)
		corp_bind_null(st, i);
	else
		corp_bind_int64(st, i, id);
}

int
corp_col_type(struct corp_stmt *st, int i)
{
	return st->db->pg ? corp_pg_col_type(st, i) :
	    sqlite3_column_type(st->s, i);
}

const char *
corp_col_text(struct corp_stmt *st, int i)
{
	if (st->db->pg)
		return corp_pg_col_text(st, i);
	if (sqlite3_column_type(st->s, i) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_column_text(st->s, i);
}

long long
corp_col_int64(struct corp_stmt *st, int i)
{
	const char *v;

	if (st->db->pg == NULL)
		return sqlite3_column_int64(st->s, i);
	if ((v = corp_pg_col_text(st, i)) == NULL)
		return 0;
	if (v[0] == 't' && v[1] == '\0')
		return 1;
	if (v[0] == 'f' && v[1] == '\0')
		return 0;
	return strtoll(v, NULL, 10);
}

int
corp_col_int(struct corp_stmt *st, int i)
{
	return (int)corp_col_int64(st, i);
}

double
corp_col_double(struct corp_stmt *st, int i)
{
	const char *v;

	if (st->db->pg == NULL)
		return sqlite3_column_double(st->s, i);
	if ((v = corp_pg_col_text(st, i)) == NULL)
		return 0;
	return strtod(v, NULL);
}

static int
stmt_new(struct corp_db *db, const char *sql, struct corp_stmt **out,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	st->db = db;
	st->sql = sql;
	if (db->pg != NULL)
		rc = corp_pg_prepare(db, st, err);
	else if ((rc = sqlite3_prepare_v3(db->h, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &st->s, NULL)) != SQLITE_OK)
		rc = corp_db_fail(db, rc, "prepare", err);
	if (rc != 0) {
		corp_stmt_free(st);
		return rc;
	}
	*out = st;
	return 0;
}

void
corp_stmt_free(struct corp_stmt *st)
{
	if (st == NULL)
		return;
	if (st->db->pg != NULL)
		corp_pg_free(st);
	else
		sqlite3_finalize(st->s);
	free(st);
}

int
corp_db_prep_once(struct corp_db *db, struct corp_stmt **stp,
    const char *sql, struct corp_err *err)
{
	return stmt_new(db, sql, stp, err);
}

int
corp_db_prep(struct corp_db *db, struct corp_stmt **stp, const char *sql,
    struct corp_err *err)
{
	struct corp_stmt **s;
	size_t i;
	int rc;

	for (i = 0; i < db->nstmts; i++)
		if (db->stmts[i]->sql == sql) {
			corp_reset(db->stmts[i]);
			clear_bindings(db->stmts[i]);
			*stp = db->stmts[i];
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
	if ((rc = stmt_new(db, sql, &db->stmts[db->nstmts], err)) != 0)
		return rc;
	db->stmts[db->nstmts]->cached = 1;
	*stp = db->stmts[db->nstmts++];
	return 0;
}

int
corp_db_exec(struct corp_db *db, struct corp_stmt *st, const char *what,
    struct corp_err *err)
{
	int rc;

	while ((rc = corp_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		rc = corp_db_fail(db, rc, what, err);
		corp_reset(st);
		return rc;
	}
	corp_reset(st);
	return 0;
}

struct exec_tx {
	struct corp_stmt *st;
	const char	*what;
	long long	*n;
};

static int
exec_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct exec_tx *x = arg;
	int rc;

	if ((rc = corp_db_exec(db, x->st, x->what, err)) == 0 && x->n != NULL)
		*x->n = corp_db_changes(db);	/* before the commit */
	return rc;
}

int
corp_db_exec_tx(struct corp_db *db, struct corp_stmt *st, const char *what,
    long long *n, struct corp_err *err)
{
	struct exec_tx x = { st, what, n };
	int rc;

	if (n != NULL)
		*n = 0;
	if ((rc = corp_db_tx(db, exec_tx, &x, err)) != 0 && n != NULL)
		*n = 0;
	/* begin failed: the statement was never stepped, so unbind it */
	corp_reset(st);
	return rc;
}

int
corp_db_insert(struct corp_db *db, struct corp_stmt *st, long long *id,
    const char *what, struct corp_err *err)
{
	int rc;

	*id = 0;
	while ((rc = corp_step(st)) == SQLITE_ROW)
		*id = corp_col_int64(st, 0);
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, what, err);
	return 0;
}

int
corp_db_rows(struct corp_db *db, struct corp_stmt *st,
    json_t *(*row)(struct corp_stmt *), json_t **array, const char *what,
    struct corp_err *err)
{
	int rc;

	if ((*array = json_array()) == NULL) {
		corp_reset(st);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	while ((rc = corp_step(st)) == SQLITE_ROW)
		if (json_array_append_new(*array, row(st)) != 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto fail;
		}
	if (rc == SQLITE_DONE) {
		corp_reset(st);
		return 0;
	}
	rc = corp_db_fail(db, rc, what, err);
fail:
	corp_reset(st);
	json_decref(*array);
	*array = NULL;
	return rc;
}

int
corp_db_text_by_id(struct corp_db *db, const char *sql, long long id,
    char **out, const char *what, struct corp_err *err)
{
	struct corp_stmt *st;
	const char *v;
	int rc;

	*out = NULL;
	if (id <= 0)
		return 0;
	if ((rc = corp_db_prep(db, &st, sql, err)) != 0)
		return rc;
	corp_bind_int64(st, 1, id);
	if ((rc = corp_step(st)) == SQLITE_ROW &&
	    (v = corp_col_text(st, 0)) != NULL && (*out = strdup(v)) == NULL) {
		corp_reset(st);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, what, err);
	return 0;
}

static int
simple(struct corp_db *db, const char *sql, const char *what,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, sql, err)) != 0)
		return rc;
	return corp_db_exec(db, st, what, err);
}

/*
 * PostgreSQL's writers' lock: every corp_db_begin() transaction takes it
 * first and holds it to the end, so writers run one at a time as they do
 * on SQLite, and every statement after it sees every earlier writer's
 * commit.  It is also what keeps event ids in commit order (DESIGN 9,
 * corp-db(1)): an id is drawn from the sequence only under this lock,
 * so no transaction can commit an id below one a reader has seen.
 */
#define PG_WRITERS_LOCK "SELECT pg_advisory_xact_lock(1129271888)"
/* BEGIN and the lock in one round trip (one simple query): a writer's
 * transaction starts with one wait for the server, not two. */
#define PG_BEGIN_WRITER "BEGIN; " PG_WRITERS_LOCK

static int
begin(struct corp_db *db, int concurrent, struct corp_err *err)
{
	int rc;

	/* PostgreSQL only warns at a nested BEGIN; SQLite refuses it. */
	if (db->pg != NULL && corp_pg_in_tx(db))
		return corp_errf(err, CORP_EINTERNAL, "begin: %s: a "
		    "transaction is already open", db->path);
	if (db->pg == NULL)
		rc = simple(db, "BEGIN IMMEDIATE", "begin", err);
	else if (concurrent)
		rc = simple(db, "BEGIN", "begin", err);
	else if ((rc = corp_pg_simple(db, PG_BEGIN_WRITER, "begin",
	    err)) != 0 && corp_pg_in_tx(db))
		corp_pg_simple(db, "ROLLBACK", NULL, NULL);
	if (rc == 0)
		db->in_tx = 1;
	return rc;
}

int
corp_db_begin(struct corp_db *db, struct corp_err *err)
{
	return begin(db, 0, err);
}

int
corp_db_begin_concurrent(struct corp_db *db, struct corp_err *err)
{
	return begin(db, 1, err);
}

int
corp_db_commit(struct corp_db *db, struct corp_err *err)
{
	int rc;

	if (db->pg != NULL && corp_pg_tx_failed(db)) {
		rc = corp_errf(err, CORP_EINTERNAL, "commit: %s: a statement "
		    "of the transaction failed (%s); rolled back", db->path,
		    corp_db_errmsg(db));
		corp_db_rollback(db);
		return rc;
	}
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
	if (db->pg != NULL) {
		if (corp_pg_in_tx(db))
			corp_pg_simple(db, "ROLLBACK", NULL, NULL);
	} else if (sqlite3_get_autocommit(db->h) == 0)
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	db->in_tx = 0;
}

int
corp_db_tx(struct corp_db *db, corp_tx_fn fn, void *arg, struct corp_err *err)
{
	int rc;

	if (db->in_tx)
		return fn(db, arg, err);
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = fn(db, arg, err)) != 0) {
		corp_db_rollback(db);
		return rc;
	}
	/* corp_db_commit rolls back itself when the commit fails. */
	return corp_db_commit(db, err);
}

int
corp_db_latest(void)
{
	return corp_migrations[corp_nmigrations - 1].version;
}

/* SQLite: PRAGMA user_version; PostgreSQL: corp_schema.version. */
int
corp_db_version(struct corp_db *db, int *v, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, db->pg ? "SELECT coalesce("
	    "(SELECT max(version) FROM corp_schema), 0)" :
	    "PRAGMA user_version", err)) != 0)
		return rc;
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "read schema version", err);
		corp_reset(st);
		return rc;
	}
	*v = corp_col_int(st, 0);
	corp_reset(st);
	return 0;
}

/* What changes when the schema does: SQLite's schema cookie, or the
 * version on PostgreSQL (only migrations change corp's schema there). */
static int
schema_cookie(struct corp_db *db, int *out, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if (db->pg != NULL)
		return corp_db_version(db, out, err);
	if ((rc = corp_db_prep(db, &st, "PRAGMA schema_version", err)) != 0)
		return rc;
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "read schema cookie", err);
		corp_reset(st);
		return rc;
	}
	*out = corp_col_int(st, 0);
	corp_reset(st);
	return 0;
}

/*
 * The rest of SQLite's way to edit a table's text in sqlite_schema
 * (lang_altertable.html, "Making Other Kinds Of Table Schema Changes"),
 * around a step whose SQL is its writable_schema = ON ... OFF part, in
 * the step's transaction: the schema read back, so that a text SQLite
 * cannot parse fails here and the step rolls back instead of committing
 * a database no connection could open (PRAGMA writable_schema = RESET
 * drops this connection's copy; the SELECT parses every entry again);
 * then schema_version one above what it was, as any other schema change
 * leaves it, so every other connection reads the schema again.  The
 * value is an integer the database gave: no text from outside.
 */
static int
schema_edit_finish(struct corp_db *db, int cookie, char **emsg)
{
	char bump[64];
	int rc;

	if ((rc = sqlite3_exec(db->h, "PRAGMA writable_schema = RESET; "
	    "SELECT count(*) FROM sqlite_schema", NULL, NULL, emsg)) !=
	    SQLITE_OK)
		return rc;
	snprintf(bump, sizeof(bump), "PRAGMA schema_version = %d",
	    cookie + 1);
	return sqlite3_exec(db->h, bump, NULL, NULL, emsg);
}

static int
run_script(struct corp_db *db, const struct corp_migration *m,
    struct corp_err *err)
{
	char *emsg = NULL;
	int rc, cookie = 0;

	if (db->pg != NULL) {
		if ((rc = corp_pg_simple(db, m->sql, "script", err)) != 0)
			return corp_errprefix(err, "migration %s", m->name);
		return 0;
	}
	if (!m->schema_edit)
		rc = sqlite3_exec(db->h, m->sql, NULL, NULL, &emsg);
	else {
		if ((rc = schema_cookie(db, &cookie, err)) != 0)
			return corp_errprefix(err, "migration %s", m->name);
		/*
		 * Defensive mode forbids writable_schema and setting
		 * schema_version: lifted for this step alone, whatever
		 * happens in it.
		 */
		sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 0, NULL);
		rc = sqlite3_exec(db->h, m->sql, NULL, NULL, &emsg);
		if (rc == SQLITE_OK)
			rc = schema_edit_finish(db, cookie, &emsg);
		sqlite3_db_config(db->h, SQLITE_DBCONFIG_WRITABLE_SCHEMA, 0,
		    NULL);
		sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	}
	if (rc != SQLITE_OK) {
		corp_errf(err, CORP_EINTERNAL, "migration %s: %s",
		    m->name, emsg ? emsg : sqlite3_errstr(rc));
		if ((rc & 0xff) == SQLITE_BUSY)
			err->code = CORP_ETEMP;
		sqlite3_free(emsg);
		return err->code;
	}
	return 0;
}

int
corp_db_migrate(struct corp_db *db, int to, int *fromp, int *top,
    struct corp_err *err)
{
	const struct corp_migration *ms = db->pg ? corp_migrations_pg :
	    corp_migrations;
	size_t i;
	int v, rc, latest = corp_db_latest();

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
		const struct corp_migration *m = &ms[i];

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
		if ((rc = run_script(db, m, err)) != 0) {
			corp_db_rollback(db);
			return rc;
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
	struct corp_stmt *st;
	int rc;

	if (db->pg != NULL)
		return corp_pg_notified(db, v, err);
	if ((rc = corp_db_prep(db, &st, "PRAGMA data_version", err)) != 0)
		return rc;
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "read data_version", err);
		corp_reset(st);
		return rc;
	}
	*v = corp_col_int64(st, 0);
	corp_reset(st);
	return 0;
}

int
corp_db_wait(struct corp_db *db, int ms, struct corp_err *err)
{
	struct timespec ts;

	if (db->pg != NULL)
		return corp_pg_wait(db, ms, err);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
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

/*
 * What SQLite opens beside a database by name: whoever may make a name
 * in its directory could plant one first and be handed the database's
 * pages (corp.7 SECURITY, "The database").
 */
static const char *const side_files[] = { "-wal", "-shm", "-journal" };

/*
 * Judge the SQLite database path before SQLite opens it by that name
 * (corp.7 SECURITY): its directory walked as corp_out_open walks a
 * file's (corp_dir_walk: every directory met passes the ownership
 * rule, a link only as the walk allows it), the database's own
 * directory then judged again strictly -- not even a sticky one root
 * owns, where anyone may make the -wal, -shm or -journal name first;
 * the file, opened O_PATH|O_NOFOLLOW relative to that directory and
 * judged on the descriptor: a regular file, no link, the ownership
 * rule; each side file that exists the same.  create: a missing file is
 * made 0600 (O_EXCL) in the directory judged, so that SQLite's side
 * files inherit the mode.  Once this passes, only root and the running
 * user may change a name on the way, so the name SQLite opens next is
 * the file judged.  Cost: one openat+fstat per directory, three fstatat.
 */
static int
db_file_judge(const char *path, int create, struct corp_err *err)
{
	const char *base;
	struct stat st;
	char *dir, *side = NULL;
	size_t i;
	int dfd = -1, fd = -1, rc = 0, tries;

	if ((rc = corp_path_split(path, &dir, &base, err)) != 0)
		return rc;
	if ((rc = corp_dir_walk(dir, &dfd, err)) == CORP_ENOTFOUND) {
		rc = create ? corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(ENOENT)) : corp_errf(err, CORP_ENOTFOUND, "%s: "
		    "no database here; run corp-db init", path);
		goto out;
	}
	if (rc != 0) {
		corp_errprefix(err, "%s", path);
		goto out;
	}
	if (fstat(dfd, &st) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", dir,
		    strerror(errno));
		goto out;
	}
	if ((st.st_mode & S_ISVTX) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: %s: a sticky "
		    "directory others may make names in (mode %04o): SQLite "
		    "would use a -wal, -shm or -journal file another user "
		    "made there first; keep the database in a directory "
		    "only you (or root) may write (mkdir -m 700 DIR)", path,
		    dir, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((rc = corp_trust_stat(dir, &st, err)) != 0) {
		corp_errprefix(err, "%s", path);
		goto out;
	}
	for (tries = 0; ; tries++) {
		fd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		if (!create) {
			rc = corp_errf(err, CORP_ENOTFOUND, "%s: no database "
			    "here; run corp-db init", path);
			goto out;
		}
		fd = openat(dfd, base, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		/* EEXIST: made by another init meanwhile; judged as found. */
		if (fd >= 0 || errno != EEXIST || tries > 0)
			break;
	}
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: a symbolic link; "
		    "corp opens no database through a link: put the file "
		    "itself there", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: not a regular file",
		    path);
		goto out;
	}
	if ((rc = corp_trust_stat(path, &st, err)) != 0)
		goto out;
	for (i = 0; i < sizeof(side_files) / sizeof(side_files[0]); i++) {
		free(side);
		if (corp_asprintf(&side, "%s%s", path, side_files[i]) < 0) {
			side = NULL;
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto out;
		}
		if (fstatat(dfd, side + (base - path), &st,
		    AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", side,
			    strerror(errno));
			goto out;
		}
		if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode)) {
			rc = corp_errf(err, CORP_EFORBIDDEN, "%s: %s; SQLite "
			    "makes it itself: remove it", side,
			    S_ISLNK(st.st_mode) ? "a symbolic link" :
			    "not a regular file");
			goto out;
		}
		if ((rc = corp_trust_stat(side, &st, err)) != 0)
			goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(side);
	free(dir);
	return rc;
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

static int
open_sqlite(struct corp_db *db, const char *spec, int flags,
    struct corp_err *err)
{
	const char *vfs = NULL, *name;
	char *uri = NULL;
	int rc;

	/* Set only in a test build (config.c refuses it elsewhere). */
	if (corp_cfg.test_vfs != NULL && corp_test_vfs_install != NULL) {
		if ((rc = corp_test_vfs_install(corp_cfg.test_vfs, err)) != 0)
			return rc;
		vfs = CORP_TEST_VFS_NAME;
	}
	if ((db->path = strdup(spec)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	/* ":memory:" is no file: nothing beside it to plant or swap. */
	if (strcmp(spec, ":memory:") == 0)
		name = spec;
	else {
		if ((rc = db_file_judge(spec, flags & CORP_DB_CREATE, err))
		    != 0)
			return rc;
		/* The file judged, never a URI (SQLite reads "file:..." as
		 * one: another file, a VFS, a mode of the caller's). */
		if (strncmp(spec, "file:", 5) == 0) {
			if (corp_asprintf(&uri, "./%s", spec) < 0)
				return corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
			name = uri;
		} else
			name = spec;
	}
	/* Not SQLITE_OPEN_NOFOLLOW: it refuses a link anywhere on the
	 * path, even one the walk judged (a home that is a link). */
	rc = sqlite3_open_v2(name, &db->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, vfs);
	free(uri);
	if (rc != SQLITE_OK) {
		rc = corp_db_fail(db, rc, "open", err);
		return corp_errprefix(err, "%s", db->path);
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, (int)corp_cfg.busy_timeout_ms);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if ((rc = pragma(db, "PRAGMA journal_mode=WAL", err)) != 0 ||
	    (rc = pragma(db, corp_cfg.sync_full ? "PRAGMA synchronous=FULL" :
	    "PRAGMA synchronous=NORMAL", err)) != 0 ||
	    (rc = pragma(db, "PRAGMA foreign_keys=ON", err)) != 0)
		return rc;
	return 0;
}

int
corp_db_open(struct corp_db **out, int flags, struct corp_err *err)
{
	int rc;

	*out = NULL;
	if (corp_cfg.db == NULL) {
		char *p;

		/* Only init creates the data dir; a reader finds no file. */
		if ((rc = flags & CORP_DB_CREATE ? corp_data_mkpath(&p,
		    "corp.db", err) : corp_data_path(&p, "corp.db", err)) != 0)
			return rc;
		/* Judged as any database path is (open_sqlite): no link in
		 * the file's place, none beside it (corp.7 FILES). */
		corp_cfg.db = p;
	} else if (corp_db_spec_is_pg(corp_cfg.db) &&
	    (rc = flags & CORP_DB_CREATE ? corp_data_dir(NULL, err) :
	    corp_data_dir_check(err)) != 0)
		/*
		 * The cursors, locks and outbox that go with a PostgreSQL
		 * database live in the data directory: checked (and created
		 * 0700 by init) as when it holds the SQLite file.
		 */
		return rc;
	return corp_db_open_spec(out, corp_cfg.db, flags, err);
}

/*
 * A file SQLite will open by name that is not the database (the target
 * of corp-db backup, made 0600 by the caller): judged as the database's
 * path is, its directory not sticky for others, no side file another
 * user made first (fresh-eyes round 14: a backup into /tmp used a
 * -journal someone else held open).
 */
int
corp_db_file_judge(const char *path, struct corp_err *err)
{
	return db_file_judge(path, 0, err);
}

int
corp_db_open_spec(struct corp_db **out, const char *spec, int flags,
    struct corp_err *err)
{
	struct corp_db *db;
	int rc, v;

	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if (corp_db_spec_is_pg(spec))
		rc = corp_pg_open(db, spec, flags, err);
	else
		rc = open_sqlite(db, spec, flags, err);
	if (rc != 0)
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
	if (db->pg != NULL && v == 0 && !(flags & CORP_DB_CREATE)) {
		rc = corp_errf(err, CORP_ENOTFOUND,
		    "%s: no corp schema in this database; run corp-db init",
		    db->path);
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
		corp_stmt_free(db->stmts[i]);
	free(db->stmts);
	if (db->h != NULL)
		sqlite3_close(db->h);
	if (db->pg != NULL)
		corp_pg_close(db);
	free(db->errmsg);
	free(db->path);
	free(db);
}

int
corp_db_exists(struct corp_db *db, struct corp_stmt *st, int *yes,
    const char *what, struct corp_err *err)
{
	int rc = corp_step(st);

	*yes = rc == SQLITE_ROW;
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, what, err);
	return 0;
}
