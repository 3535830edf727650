/* dbadmin.c -- see dbadmin.h. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "dbadmin.h"
#include "fsutil.h"
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

/*
 * The size of the database: the file, or on PostgreSQL what the server
 * reports for the database.  The write-ahead log: the -wal file, or null
 * on PostgreSQL, whose log is the whole cluster's, not the database's.
 */
static int
sizes(struct corp_db *db, json_t **size, json_t **wal, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if (!corp_db_is_pg(db)) {
		*size = json_integer(fsize(corp_db_path(db), ""));
		*wal = json_integer(fsize(corp_db_path(db), "-wal"));
		return 0;
	}
	if ((rc = corp_db_prep(db, &st, "SELECT pg_database_size("
	    "current_database())", err)) != 0)
		return rc;
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		rc = corp_db_fail(db, rc, "database size", err);
		corp_reset(st);
		return rc;
	}
	*size = json_integer(corp_col_int64(st, 0));
	*wal = json_null();
	corp_reset(st);
	return 0;
}

int
corp_dbadmin_status(struct corp_db *db, json_t **out, struct corp_err *err)
{
	json_t *o, *tables, *size = NULL, *wal = NULL;
	struct corp_stmt *st;
	struct corp_err e;
	size_t i;
	int v, rc;

	*out = NULL;
	if ((rc = corp_db_version(db, &v, err)) != 0 ||
	    (rc = sizes(db, &size, &wal, err)) != 0)
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
			json_decref(size);
			json_decref(wal);
			return corp_db_fail(db, rc, corp_tables[i].name, err);
		}
		json_object_set_new(tables, corp_tables[i].name,
		    json_integer(corp_col_int64(st, 0)));
		corp_stmt_free(st);
	}
	o = json_pack("{s:s, s:i, s:i, s:o, s:o, s:o}",
	    "path", corp_db_path(db),
	    "schema_version", v,
	    "latest_version", corp_db_latest(),
	    "size", size,
	    "wal_size", wal,
	    "tables", tables);
	if (o == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	*out = o;
	return 0;
}

/*
 * The child's side of pg_dump.  Its whole environment is env
 * (corp_db_client_env: the minimal child environment and the
 * connection's parameters as libpq names them, PGHOST, PGDATABASE, ...),
 * never corp's own, which may hold corp's secrets; the parameters never
 * go into argv, where ps shows them to every user.  An exec that fails
 * sends its errno through ef (close-on-exec) for the parent to report:
 * the library prints nothing.
 */
static void
pg_dump_child(char **env, const char *tmp, int ef)
{
	char *argv[5], filearg[4096];
	ssize_t w;
	int e;

	signal(SIGPIPE, SIG_DFL);
	snprintf(filearg, sizeof(filearg), "--file=%s", tmp);
	argv[0] = "pg_dump";
	argv[1] = "--format=custom";
	argv[2] = "--no-password";
	argv[3] = filearg;
	argv[4] = NULL;
	execvpe(argv[0], argv, env);
	e = errno;
	w = write(ef, &e, sizeof(e));
	(void)w;	/* nothing more a child can do */
	_exit(127);
}

/*
 * PostgreSQL: pg_dump --format=custom into a temporary file next to
 * file, mode 0600, then fsync and rename over file (which the caller
 * created empty to claim the name).  pg_dump reaches the database with
 * the parameters db's own connection used (corp_db_client_env) and
 * nothing else of corp's environment; its own messages go to our
 * standard error.
 */
static int
backup_pg(struct corp_db *db, const char *file, struct corp_err *err)
{
	char *tmp = NULL, **env = NULL;
	int fd, status, rc, ef[2] = { -1, -1 }, cerr = 0;
	ssize_t n;
	pid_t pid;

	if ((rc = corp_db_spec_env_check(corp_cfg.db, "pg_dump", err)) != 0)
		return rc;
	if ((rc = corp_db_client_env(db, &env, err)) != 0)
		return rc;
	if (corp_asprintf(&tmp, "%s.tmpXXXXXX", file) < 0) {
		corp_env_free(env);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	close(fd);
	if (pipe2(ef, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "fork: %s",
		    strerror(errno));
		goto fail;
	}
	if (pid == 0)
		pg_dump_child(env, tmp, ef[1]);
	close(ef[1]);
	ef[1] = -1;
	/* The exec's errno, or nothing once pg_dump runs (close-on-exec). */
	while ((n = read(ef[0], &cerr, sizeof(cerr))) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(cerr))
		cerr = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			rc = corp_errf(err, CORP_EINTERNAL, "waitpid: %s",
			    strerror(errno));
			goto fail;
		}
	if (cerr != 0) {
		if (cerr == ENOENT)
			rc = corp_errf(err, CORP_EINTERNAL, "pg_dump: not "
			    "found (install the PostgreSQL client)");
		else
			rc = corp_errf(err, CORP_EINTERNAL, "cannot run "
			    "pg_dump: %s", strerror(cerr));
		goto fail;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			rc = corp_errf(err, CORP_EINTERNAL, "pg_dump failed "
			    "(exit %d)", WEXITSTATUS(status));
		else
			rc = corp_errf(err, CORP_EINTERNAL, "pg_dump killed "
			    "by signal %d", WTERMSIG(status));
		goto fail;
	}
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", tmp,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	close(fd);
	if (rename(tmp, file) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "%s: %s", file,
		    strerror(errno));
		goto fail;
	}
	if (corp_sync_dir(file) != 0)
		rc = corp_errf(err, CORP_EINTERNAL, "%s: fsync directory: %s",
		    file, strerror(errno));
	else
		rc = 0;
	goto out;
fail:
	unlink(tmp);
out:
	if (ef[0] >= 0)
		close(ef[0]);
	if (ef[1] >= 0)
		close(ef[1]);
	free(tmp);
	corp_env_free(env);
	return rc;
}

/* The backup's progress: the file's size as VACUUM INTO writes it. */
struct backup_prog {
	const struct corp_dbadmin_progress *p;
	const char	*file;
	long long	 total;		/* KiB */
};

static void
backup_tick(void *arg)
{
	const struct backup_prog *b = arg;
	struct stat st;

	if (stat(b->file, &st) == 0)
		b->p->fn(b->p->arg, (long long)st.st_size / 1024, b->total);
}

/* The source's size, PRAGMA page_count times page_size, in KiB. */
static int
db_kib(struct corp_db *db, long long *kib, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT page_count * page_size / 1024 "
	    "FROM pragma_page_count(), pragma_page_size()", err)) != 0)
		return rc;
	if ((rc = corp_step(st)) == SQLITE_ROW)
		*kib = corp_col_int64(st, 0);
	else
		rc = corp_db_fail(db, rc, "backup", err);
	corp_reset(st);
	return rc == SQLITE_ROW ? 0 : rc;
}

int
corp_dbadmin_backup(struct corp_db *db, const char *file,
    const struct corp_dbadmin_progress *p, struct corp_err *err)
{
	struct backup_prog b = { p, file, 0 };
	struct corp_stmt *st;
	int rc;

	if (corp_db_is_pg(db)) {
		if ((rc = backup_pg(db, file, err)) != 0)
			return corp_errprefix(err, "backup");
		return 0;
	}
	if ((rc = corp_db_file_judge(file, err)) != 0)
		return rc;
	if (p != NULL && (rc = db_kib(db, &b.total, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "VACUUM INTO ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, file);
	if (p != NULL)
		corp_db_progress(db, 10000, backup_tick, &b);
	rc = corp_db_exec(db, st, "backup", err);
	if (p != NULL) {
		corp_db_progress(db, 0, NULL, NULL);
		if (rc == 0)
			p->fn(p->arg, b.total, b.total);
	}
	if (rc != 0)
		return corp_errprefix(err, "%s", file);
	return 0;
}

int
corp_dbadmin_make_admin(struct corp_db *db, const char *login,
    long long *idp, struct corp_err *err)
{
	return corp_dir_make_admin(db, login, idp, err);
}
