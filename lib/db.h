/*
 * db.h -- the database handle: open, pragmas, migrations, transactions
 * and the statement cache.  All SQL of corp lives in lib/ behind named
 * functions; cmd/ never sees a statement.
 *
 * Writes run inside corp_db_begin() (BEGIN IMMEDIATE: never a deferred
 * transaction that upgrades and fails with SQLITE_BUSY).  SQLITE_BUSY
 * after busy_timeout is CORP_ETEMP, never corruption.
 */
#ifndef CORP_DB_H
#define CORP_DB_H

#include <sqlite3.h>
#include <jansson.h>

struct corp_err;
struct corp_db;

enum {
	CORP_DB_CREATE = 1,	/* create the file when missing (init) */
	CORP_DB_NOMIGRATE = 2	/* do not bring an older schema up to date */
};

int	corp_db_open(struct corp_db **, int flags, struct corp_err *);
void	corp_db_close(struct corp_db *);
sqlite3	*corp_db_sqlite(struct corp_db *);
const char *corp_db_path(struct corp_db *);

/*
 * A prepared statement for sql, prepared once per handle and cached by
 * the address of the literal; returned reset with bindings cleared.
 */
int	corp_db_prep(struct corp_db *, sqlite3_stmt **, const char *sql,
	    struct corp_err *);
int	corp_db_begin(struct corp_db *, struct corp_err *);
int	corp_db_commit(struct corp_db *, struct corp_err *);
void	corp_db_rollback(struct corp_db *);
int	corp_db_in_tx(struct corp_db *);
/* Map a SQLite result code to a corp code and message ("what: why"). */
int	corp_db_fail(struct corp_db *, int rc, const char *what,
	    struct corp_err *);
/* Run a statement to completion (no rows expected). */
int	corp_db_exec(struct corp_db *, sqlite3_stmt *, const char *what,
	    struct corp_err *);

/*
 * The text in column 0 of the first row of sql (a literal with ?1 bound
 * to id): *out is a fresh copy, or NULL when there is no row or the
 * value is NULL.  id <= 0 gives NULL without a query.
 */
int	corp_db_text_by_id(struct corp_db *, const char *sql, long long id,
	    char **out, const char *what, struct corp_err *);

/*
 * Step st to the end, appending row(st) for each row to a new *array;
 * on failure *array is NULL and err says "what: why".  st is reset.
 */
int	corp_db_rows(struct corp_db *, sqlite3_stmt *st,
	    json_t *(*row)(sqlite3_stmt *), json_t **array, const char *what,
	    struct corp_err *);

/* Bind helpers: NULL for a NULL pointer / a negative id. */
void	corp_bind_text(sqlite3_stmt *, int, const char *);
void	corp_bind_id(sqlite3_stmt *, int, long long);	/* <= 0 -> NULL */
const char *corp_col_text(sqlite3_stmt *, int);	/* NULL for NULL */

/* Schema versions. */
int	corp_db_latest(void);
int	corp_db_version(struct corp_db *, int *, struct corp_err *);
/* Apply every migration above the current version, up to `to` (0 =
 * latest), one transaction each.  fromp and top report what happened. */
int	corp_db_migrate(struct corp_db *, int to, int *fromp, int *top,
	    struct corp_err *);
/* PRAGMA data_version: changes when another connection commits. */
int	corp_db_data_version(struct corp_db *, long long *, struct corp_err *);
/* For long-running tools: CORP_ETEMP when the schema changed under us. */
int	corp_db_schema_check(struct corp_db *, struct corp_err *);

/* Table names and "SELECT count(*)" statements, generated from lib/sql. */
struct corp_table {
	const char *name;
	const char *count_sql;
};
extern const struct corp_table corp_tables[];
extern const size_t corp_ntables;

struct corp_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};
extern const struct corp_migration corp_migrations[];
extern const size_t corp_nmigrations;

#endif
