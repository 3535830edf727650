/*
 * corp-db -- the operator's handle on the database: init, migrate,
 * status, check, backup.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "check.h"
#include "db.h"
#include "dbadmin.h"
#include "dbcopy.h"
#include "jsonl.h"

static const char synopsis[] =
"usage: corp-db init [--admin LOGIN]\n"
"       corp-db migrate [--to VERSION]\n"
"       corp-db status\n"
"       corp-db check\n"
"       corp-db backup FILE\n"
"       corp-db migrate-to postgresql://[USER@]HOST[:PORT]/DBNAME\n"
"common options: --db PATH  --data-dir DIR  --now TIME  --version\n";

static const struct option helponly[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
noopts(int argc, char **argv)
{
	int ch;

	while ((ch = cli_getopt(argc, argv, "+h", helponly, NULL)) != -1)
		if (ch == 'h')
			cli_help();
		else
			cli_usage(NULL);
}

static int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "admin", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *admin = NULL;
	struct corp_db *db;
	struct corp_err e;
	json_t *o;
	int ch, from, to;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 'a': admin = optarg; break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("init takes no arguments");
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
cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_db *db;
	struct corp_err e;
	json_t *o;
	int ch, to = 0, from, now;

	while ((ch = cli_getopt(argc, argv, "+h", opts, NULL)) != -1)
		switch (ch) {
		case 't':
			to = (int)cli_num(optarg, 1, corp_db_latest(),
			    "--to");
			break;
		case 'h': cli_help();
		default: cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("migrate takes no arguments");
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
cmd_status(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	json_t *o;

	noopts(argc, argv);
	if (optind != argc)
		cli_usage("status takes no arguments");
	db = cli_db(CORP_DB_NOMIGRATE);
	if (corp_dbadmin_status(db, &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	struct corp_check_result *r;
	struct corp_db *db;
	struct corp_err e;
	size_t i, n, bad = 0, config = 0;
	json_t *o;

	noopts(argc, argv);
	if (optind != argc)
		cli_usage("check takes no arguments");
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
		cli_out(o);
		json_decref(o);
		if (r[i].problems == 0)
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

static int
cmd_backup(int argc, char **argv)
{
	struct corp_db *db;
	struct corp_err e;
	json_t *o;
	int fd;

	noopts(argc, argv);
	if (argc - optind != 1)
		cli_usage("backup needs one FILE");
	db = cli_db(CORP_DB_NOMIGRATE);
	/* Claim the name first: an existing file is never overwritten. */
	fd = open(argv[optind], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			cli_die(CORP_ECONFLICT, "%s: file exists; refusing to "
			    "overwrite it", argv[optind]);
		cli_die(CORP_EINTERNAL, "%s: %s", argv[optind],
		    strerror(errno));
	}
	close(fd);
	if (corp_dbadmin_backup(db, argv[optind], &e) != 0) {
		unlink(argv[optind]);
		cli_fail(&e);
	}
	o = json_pack("{s:s, s:s}", "path", corp_db_path(db), "backup",
	    argv[optind]);
	cli_out(o);
	json_decref(o);
	corp_db_close(db);
	return 0;
}

static int
cmd_migrate_to(int argc, char **argv)
{
	struct corp_err e;
	json_t *o;

	noopts(argc, argv);
	if (argc - optind != 1)
		cli_usage("migrate-to needs one PostgreSQL database");
	if (corp_dbcopy_to(argv[optind], &o, &e) != 0)
		cli_fail(&e);
	cli_out(o);
	json_decref(o);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "init", cmd_init },
		{ "migrate", cmd_migrate },
		{ "status", cmd_status },
		{ "check", cmd_check },
		{ "backup", cmd_backup },
		{ "migrate-to", cmd_migrate_to },
		{ NULL, NULL }
	};

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	cli_dispatch(argc, argv, verbs);
}
