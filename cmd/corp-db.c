/*
 * corp-db -- the operator's handle on the database: init, migrate,
 * status, check, backup.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "check.h"
#include "db.h"
#include "dbadmin.h"
#include "dbcopy.h"
#include "fsutil.h"
#include "jsonl.h"

enum { O_ADMIN = 1, O_TO };

static const struct cli_opt opts[] = {
	{ O_ADMIN, "admin", "LOGIN", "make LOGIN an admin (created if new)",
	    .comp = CLI_C_LOGIN },
	{ O_TO, "to", "VERSION", "migrate up to this schema version" },
	{ 0 }
};

static int
cmd_init(const struct cli_args *a)
{
	const char *admin = cli_str(a, O_ADMIN);
	struct corp_db *db;
	struct corp_err e;
	json_t *o;
	int from, to;

	db = cli_db(CORP_DB_CREATE | CORP_DB_NOMIGRATE);
	if (corp_db_migrate(db, 0, &from, &to, &e) != 0)
		cli_fail(&e);
	o = json_pack("{s:s, s:i, s:i}", "path", corp_db_path(db),
	    "from_version", from, "schema_version", to);
	if (admin != NULL) {
		long long id;

		if (corp_dbadmin_make_admin(db, admin, &id, &e) != 0)
			cli_fail(&e);
		json_object_set_new(o, "admin", json_string(admin));
		json_object_set_new(o, "admin_user_id", json_integer(id));
	}
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

static int
cmd_migrate(const struct cli_args *a)
{
	struct corp_db *db;
	struct corp_err e;
	json_t *o;
	int to = 0, from, now;

	if (cli_has(a, O_TO))
		to = (int)cli_num(cli_str(a, O_TO), 1, corp_db_latest(), "--to");
	db = cli_db(CORP_DB_NOMIGRATE);
	if (corp_db_migrate(db, to, &from, &now, &e) != 0)
		cli_fail(&e);
	o = json_pack("{s:s, s:i, s:i}", "path", corp_db_path(db),
	    "from_version", from, "schema_version", now);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

static int
cmd_status(const struct cli_args *a)
{
	struct corp_db *db;
	struct corp_err e;
	json_t *o;

	(void)a;
	db = cli_db(CORP_DB_NOMIGRATE);
	if (corp_dbadmin_status(db, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

static int
cmd_check(const struct cli_args *a)
{
	struct corp_check_result *r;
	struct corp_db *db;
	struct corp_err e;
	size_t i, n, bad = 0, config = 0;
	int quiet = cli_quiet();		/* the common --quiet */
	json_t *o;

	(void)a;
	db = cli_db(CORP_DB_NOMIGRATE);
	if (corp_check_run(db, &r, &n, &e) != 0)
		cli_fail(&e);
	for (i = 0; i < n; i++) {
		const char *sev = r[i].severity;

		o = json_pack("{s:s, s:s, s:b, s:I}", "check", r[i].name,
		    "severity", sev, "ok", r[i].problems == 0, "problems",
		    (json_int_t)r[i].problems);
		if (r[i].detail != NULL)
			json_object_set_new(o, "detail",
			    json_string(r[i].detail));
		if (r[i].skipped)
			json_object_set_new(o, "skipped", json_true());
		if (!quiet)
			cli_out(o);
		json_decref(o);
		if (r[i].problems == 0)
			continue;
		/* --quiet: a warning changes nothing, so it says nothing. */
		if (quiet && strcmp(sev, "warning") == 0)
			continue;
		/* Broken data 65, held rows 78; a warning changes nothing. */
		if (strcmp(sev, "error") == 0)
			bad++;
		else if (strcmp(sev, "config") == 0)
			config++;
		cli_warn("check %s: %s%s", r[i].name,
		    strcmp(sev, "config") == 0 ? "configuration error: " :
		    strcmp(sev, "warning") == 0 ? "warning: " : "",
		    r[i].detail ? r[i].detail : "failed");
	}
	corp_check_free(r, n);
	corp_db_close(db);
	return bad ? CORP_EINVAL : config ? CORP_ECONFIG : 0;
}

/* The progress line of migrate-to and backup, on a terminal. */
static struct cli_progress prog;

static void
copy_progress(void *arg, long long done, long long total)
{
	prog.total = total;
	cli_progress_tick(&prog, arg, done);
}

static int
cmd_backup(const struct cli_args *a)
{
	const char *file = cli_arg(a, 0);
	struct corp_dbadmin_progress bp = { copy_progress,
	    "corp-db backup (KiB)" };
	struct corp_db *db;
	struct corp_err e;
	json_t *o;
	int fd;

	db = cli_db(CORP_DB_NOMIGRATE);
	/*
	 * Claim the name first: an existing file is never overwritten.
	 * SQLite and pg_dump reopen it by name, so its directory passes
	 * corp-send --out's rule (corp_out_open): nobody else may swap it.
	 */
	if (corp_out_open(file, O_WRONLY | O_CREAT | O_EXCL, 0600, &fd,
	    &e) != 0) {
		if (e.code == CORP_EINTERNAL && errno == EEXIST)
			cli_die(CORP_ECONFLICT, "%s: file exists; refusing to "
			    "overwrite it", file);
		cli_fail(&e);
	}
	close(fd);
	cli_progress_start(&prog, 0);
	if (corp_dbadmin_backup(db, file, prog.tty ? &bp : NULL, &e) != 0) {
		unlink(file);
		cli_fail(&e);
	}
	cli_progress_clear(&prog);
	o = json_pack("{s:s, s:s}", "path", corp_db_path(db), "backup",
	    file);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

static int
cmd_migrate_to(const struct cli_args *a)
{
	struct corp_dbcopy_progress p = { copy_progress,
	    "corp-db migrate-to (rows)" };
	struct corp_err e;
	json_t *o;

	cli_progress_start(&prog, 0);
	if (corp_dbcopy_to(cli_arg(a, 0), prog.tty ? &p : NULL, &o, &e) != 0)
		cli_fail(&e);
	cli_progress_clear(&prog);
	cli_out(o);
	json_decref(o);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "init", cmd_init, "create the database, or bring it up to date",
	    NULL, 0, 0, U({ O_ADMIN }) },
	{ "migrate", cmd_migrate, "apply the schema migrations", NULL, 0, 0,
	    U({ O_TO }) },
	{ "status", cmd_status, "schema version, sizes, counts" },
	{ "check", cmd_check, "consistency and configuration checks (with "
	    "--quiet: no lines, no warnings)" },
	{ "backup", cmd_backup, "a consistent copy to FILE (never overwritten)",
	    "FILE", 1, 1 },
	{ "migrate-to", cmd_migrate_to, "copy everything into an empty "
	    "PostgreSQL database", "postgresql://[USER@]HOST[:PORT]/DBNAME", 1,
	    1 },
	{ NULL }
};

static const struct cli_tool tool = { "corp-db",
	"the operator's handle on the database", opts, verbs, CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
