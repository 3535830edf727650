/*
 * dbtx -- corp_db_tx (lib/db.c) on the command line, for tests/0003-db-tx.t,
 * which runs it against SQLite and, under make check-pg, PostgreSQL.  A
 * test driver, not a corp tool: no man page, not installed.
 *
 * It writes a scratch table of its own, tx_probe, with SQL: the object
 * under test is the transaction around the writes, not a corp table, and
 * no corp state is built this way.
 *
 *   dbtx init              create tx_probe
 *   dbtx put K             one row K in its own transaction
 *   dbtx refuse K          K written, then a refusal (65): nothing stays
 *   dbtx dup K             K twice in one transaction: the second is a
 *                          conflict (79) and the first goes with it
 *   dbtx join-rollback K   the caller begins, corp_db_tx(K) joins, the
 *                          caller rolls back: nothing stays
 *   dbtx join-commit K     the same, the caller commits: K stays
 *   dbtx join-refuse K     the caller begins, a joined call writes K and
 *                          refuses: the transaction stays open for its
 *                          owner, who rolls back
 *   dbtx nested K          corp_db_tx inside corp_db_tx writes K, the
 *                          outer fn refuses afterwards: nothing stays
 *   dbtx list              the keys, one a line, sorted
 *
 * Prints "in_tx=N" after each call for the states the test checks.
 * Errors: "dbtx: MESSAGE" on stderr, exit status the corp code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "db.h"

static struct corp_db *db;

static __attribute__((noreturn)) void
fail(const struct corp_err *e)
{
	fprintf(stderr, "dbtx: %s\n", e->msg);
	exit(e->code ? e->code : 1);
}

static int
put_tx(struct corp_db *d, void *arg, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(d, &st, "INSERT INTO tx_probe (k) VALUES (?1)",
	    err)) != 0)
		return rc;
	corp_bind_text(st, 1, arg);
	return corp_db_exec(d, st, "insert tx_probe", err);
}

static int
refuse_tx(struct corp_db *d, void *arg, struct corp_err *err)
{
	int rc;

	if ((rc = put_tx(d, arg, err)) != 0)
		return rc;
	return corp_errf(err, CORP_EINVAL, "refused after writing '%s'",
	    (const char *)arg);
}

static int
dup_tx(struct corp_db *d, void *arg, struct corp_err *err)
{
	int rc;

	if ((rc = put_tx(d, arg, err)) != 0)
		return rc;
	return put_tx(d, arg, err);
}

static int
nested_tx(struct corp_db *d, void *arg, struct corp_err *err)
{
	int rc;

	if ((rc = corp_db_tx(d, put_tx, arg, err)) != 0)
		return rc;
	printf("inner in_tx=%d\n", corp_db_in_tx(d));
	return corp_errf(err, CORP_EINVAL, "outer refused");
}

static void
report(int rc, struct corp_err *e)
{
	printf("rc=%d in_tx=%d\n", rc, corp_db_in_tx(db));
	if (rc != 0)
		printf("err=%s\n", e->msg);
}

static int
list(void)
{
	struct corp_stmt *st;
	struct corp_err e;
	int rc;

	if (corp_db_prep(db, &st, "SELECT k FROM tx_probe ORDER BY k", &e) != 0)
		fail(&e);
	while ((rc = corp_step(st)) == SQLITE_ROW)
		printf("%s\n", corp_col_text(st, 0));
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		corp_db_fail(db, rc, "list tx_probe", &e);
		fail(&e);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct corp_stmt *st;
	struct corp_err e;
	const char *cmd, *k;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: dbtx init | list | "
		    "put|refuse|dup|join-rollback|join-commit|join-refuse|"
		    "nested K\n");
		return 64;
	}
	cmd = argv[1];
	k = argc == 3 ? argv[2] : "";
	if (corp_config_load(&e) != 0 || corp_db_open(&db, 0, &e) != 0)
		fail(&e);
	if (strcmp(cmd, "init") == 0) {
		if (corp_db_prep_once(db, &st, "CREATE TABLE tx_probe "
		    "(k TEXT PRIMARY KEY)", &e) != 0)
			fail(&e);
		rc = corp_db_exec(db, st, "create tx_probe", &e);
		corp_stmt_free(st);
		if (rc != 0)
			fail(&e);
	} else if (strcmp(cmd, "list") == 0)
		list();
	else if (strcmp(cmd, "put") == 0)
		report(corp_db_tx(db, put_tx, (void *)k, &e), &e);
	else if (strcmp(cmd, "refuse") == 0)
		report(corp_db_tx(db, refuse_tx, (void *)k, &e), &e);
	else if (strcmp(cmd, "dup") == 0)
		report(corp_db_tx(db, dup_tx, (void *)k, &e), &e);
	else if (strcmp(cmd, "nested") == 0)
		report(corp_db_tx(db, nested_tx, (void *)k, &e), &e);
	else if (strncmp(cmd, "join-", 5) == 0) {
		if (corp_db_begin(db, &e) != 0)
			fail(&e);
		rc = corp_db_tx(db, strcmp(cmd, "join-refuse") == 0 ?
		    refuse_tx : put_tx, (void *)k, &e);
		report(rc, &e);
		if (strcmp(cmd, "join-commit") == 0) {
			if (corp_db_commit(db, &e) != 0)
				fail(&e);
		} else
			corp_db_rollback(db);
		printf("after in_tx=%d\n", corp_db_in_tx(db));
	} else {
		fprintf(stderr, "dbtx: unknown command '%s'\n", cmd);
		return 64;
	}
	corp_db_close(db);
	return 0;
}
