/*
 * db.h -- the database handle: open, pragmas, migrations, transactions
 * and the statement cache.  All SQL of corp lives in lib/ behind named
 * functions; cmd/ never sees a statement.
 *
 * Two backends behind one interface: SQLite (a path) and PostgreSQL (a
 * postgresql:// URI or a libpq "key=value" string, through libpq).  The
 * choice is made once, in corp_db_open(); every statement, bind, step and
 * column goes through the corp_stmt functions below, whose result codes
 * are SQLite's (SQLITE_ROW, SQLITE_DONE, SQLITE_BUSY, SQLITE_CONSTRAINT,
 * ...) on both.  SQL is written once in the dialect both accept; on
 * PostgreSQL it is rewritten at prepare time (?N -> $N and the few
 * spellings that differ, see pg.c).
 *
 * Writes run inside corp_db_begin() (SQLite: BEGIN IMMEDIATE, never a
 * deferred transaction that upgrades and fails with SQLITE_BUSY;
 * PostgreSQL: BEGIN plus the transaction-scoped advisory lock that
 * serialises writers the same way, see corp_db_begin_concurrent()).
 * BUSY after busy_timeout is CORP_ETEMP, never corruption.
 */
#ifndef CORP_DB_H
#define CORP_DB_H

#include <sqlite3.h>
#include <jansson.h>

struct corp_err;
struct corp_db;
struct corp_stmt;

enum {
	CORP_DB_CREATE = 1,	/* create the file when missing (init) */
	CORP_DB_NOMIGRATE = 2	/* do not bring an older schema up to date */
};

int	corp_db_open(struct corp_db **, int flags, struct corp_err *);
/* A path SQLite opens by name, judged as the database's (db.c). */
int	corp_db_file_judge(const char *path, struct corp_err *);
/* The same for the database spec names (a path or a PostgreSQL URI)
 * rather than CORP_DB: corp-db migrate-to's target. */
int	corp_db_open_spec(struct corp_db **, const char *spec, int flags,
	    struct corp_err *);
void	corp_db_close(struct corp_db *);
/* The database as it may be shown: a path, or a URI without a password. */
const char *corp_db_path(struct corp_db *);
/* 1 when the database is PostgreSQL. */
int	corp_db_is_pg(struct corp_db *);
/* 1 when s names a PostgreSQL database (postgresql://, postgres://, k=v). */
int	corp_db_spec_is_pg(const char *s);
/* CORP_EUSAGE when a PostgreSQL spec carries a password (use CORP_DB's
 * environment or a passfile instead); what names the option. */
int	corp_db_spec_check(const char *s, const char *what, struct corp_err *);
/*
 * PostgreSQL: the whole environment of a libpq client that must reach
 * this handle's database as its role (pg_dump for corp-db backup): the
 * minimal child environment (corp_cfg.child_env: PATH, HOME, LANG,
 * LC_*, TZ) plus PGxxx=VALUE for every connection option libpq settled
 * on for this connection (PQconninfo: what CORP_DB says, libpq's own
 * PG* defaults, its built-in ones), the password included only when
 * CORP_DB or PGPASSWORD gave one (a passfile's is read again by the
 * child, PGPASSFILE or ~/.pgpass).  Nothing else of corp's environment:
 * no secret of corp's own.  NULL-terminated; corp_env_free.
 */
int	corp_db_client_env(struct corp_db *, char ***env, struct corp_err *);
/* CORP_EUSAGE unless every option PostgreSQL spec s sets has a PGxxx
 * variable to hand it to child (a libpq client such as pg_dump). */
int	corp_db_spec_env_check(const char *s, const char *child,
	    struct corp_err *);
void	corp_env_free(char **);
/* CORP_EUSAGE when s is a PostgreSQL spec libpq cannot parse (CORP_DB:
 * a password is allowed there), or looks like a URI and is none corp
 * knows (never echoed past its scheme); 0 for a file name. */
int	corp_db_spec_parse(const char *s, struct corp_err *);

/*
 * A prepared statement for sql, prepared once per handle and cached by
 * the address of the literal; returned reset with bindings cleared.
 */
int	corp_db_prep(struct corp_db *, struct corp_stmt **, const char *sql,
	    struct corp_err *);
/* An uncached statement (for SQL not known at compile time, such as the
 * generated count statements); free it with corp_stmt_free(). */
int	corp_db_prep_once(struct corp_db *, struct corp_stmt **,
	    const char *sql, struct corp_err *);
void	corp_stmt_free(struct corp_stmt *);

/* Statements: SQLite's result codes on both backends. */
int	corp_step(struct corp_stmt *);
void	corp_reset(struct corp_stmt *);
void	corp_bind_int64(struct corp_stmt *, int, long long);
void	corp_bind_int(struct corp_stmt *, int, int);
void	corp_bind_null(struct corp_stmt *, int);
void	corp_bind_double(struct corp_stmt *, int, double);
int	corp_col_type(struct corp_stmt *, int);	/* SQLITE_NULL, ... */
long long corp_col_int64(struct corp_stmt *, int);	/* true -> 1 */
int	corp_col_int(struct corp_stmt *, int);
double	corp_col_double(struct corp_stmt *, int);
/* Rows changed by the last INSERT, UPDATE or DELETE on this handle. */
long long corp_db_changes(struct corp_db *);
/*
 * SQLite: fn(arg) about every n virtual machine steps of the
 * connection's statements (a long VACUUM INTO's progress); fn NULL
 * turns it off.  PostgreSQL: nothing.
 */
void	corp_db_progress(struct corp_db *, int n, void (*fn)(void *),
	    void *arg);
/* The last error message of the handle. */
const char *corp_db_errmsg(struct corp_db *);
int	corp_db_begin(struct corp_db *, struct corp_err *);
/*
 * A write transaction that does not take PostgreSQL's writers' lock: for
 * the queue's claim and ack, whose statements lock the rows they change
 * (FOR UPDATE SKIP LOCKED, compare-and-set) and never insert events.  On
 * SQLite the same as corp_db_begin().
 */
int	corp_db_begin_concurrent(struct corp_db *, struct corp_err *);
int	corp_db_commit(struct corp_db *, struct corp_err *);
void	corp_db_rollback(struct corp_db *);
int	corp_db_in_tx(struct corp_db *);

/*
 * The one transaction rule: a lib entry point that writes owns its
 * transaction, written as
 *
 *	return corp_db_tx(db, put_tx, &args, err);
 *
 * corp_db_tx runs fn inside corp_db_begin() .. corp_db_commit(): when fn
 * or the commit fails, everything fn wrote is rolled back and fn's code
 * and message are returned, so a refusal writes nothing.  Inside a
 * transaction the caller already holds (a batch, another entry point)
 * fn just runs in it: no BEGIN, no COMMIT, and on failure no rollback
 * either -- fn may have written part, and the owner of the transaction
 * rolls back on the error it gets.  fn must not commit, roll back or
 * begin itself; it may call corp_db_tx again (that call joins).  cmd/
 * never begins a transaction: it calls an entry point.
 */
typedef int (*corp_tx_fn)(struct corp_db *, void *arg, struct corp_err *);
int	corp_db_tx(struct corp_db *, corp_tx_fn fn, void *arg,
	    struct corp_err *);
/* Map a SQLite result code to a corp code and message ("what: why"). */
int	corp_db_fail(struct corp_db *, int rc, const char *what,
	    struct corp_err *);
/* Run a statement to completion (no rows expected). */
/*
 * One prepared and bound write in a transaction of its own (joined when
 * one is open), *n (may be NULL) its changed rows: requeue, cancel,
 * unpause, release.
 */
int	corp_db_exec_tx(struct corp_db *, struct corp_stmt *, const char *what,
	    long long *n, struct corp_err *);
int	corp_db_exec(struct corp_db *, struct corp_stmt *, const char *what,
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
int	corp_db_rows(struct corp_db *, struct corp_stmt *st,
	    json_t *(*row)(struct corp_stmt *), json_t **array, const char *what,
	    struct corp_err *);

/*
 * Run an INSERT ... RETURNING id to completion: *id is column 0 of its
 * row, or 0 when it inserted none (ON CONFLICT DO NOTHING).
 */
int	corp_db_insert(struct corp_db *, struct corp_stmt *, long long *id,
	    const char *what, struct corp_err *);

/* Bind helpers: NULL for a NULL pointer / a negative id. */
void	corp_bind_text(struct corp_stmt *, int, const char *);
void	corp_bind_id(struct corp_stmt *, int, long long);	/* <= 0 -> NULL */
const char *corp_col_text(struct corp_stmt *, int);	/* NULL for NULL */

/* Schema versions. */
int	corp_db_latest(void);
int	corp_db_version(struct corp_db *, int *, struct corp_err *);
/* Apply every migration above the current version, up to `to` (0 =
 * latest), one transaction each.  fromp and top report what happened. */
int	corp_db_migrate(struct corp_db *, int to, int *fromp, int *top,
	    struct corp_err *);
/* PRAGMA data_version: changes when another connection commits.  On
 * PostgreSQL, the count of notifications received on the events channel
 * (see corp_db_wait). */
int	corp_db_data_version(struct corp_db *, long long *, struct corp_err *);
/*
 * Wait up to ms milliseconds for another connection to commit events:
 * on PostgreSQL a LISTEN/NOTIFY wake-up (the events table notifies
 * corp_events on insert), on SQLite a plain sleep between polls of
 * data_version.  Returns 0 or a corp code.
 */
int	corp_db_wait(struct corp_db *, int ms, struct corp_err *);
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
	int		 schema_edit;	/* SQLite: edits sqlite_schema's text
					 * (lib/sql/embed.sh; run_script) */
};
extern const struct corp_migration corp_migrations[];
extern const size_t corp_nmigrations;
/* The same steps for PostgreSQL, translated by lib/sql/embed.sh. */
extern const struct corp_migration corp_migrations_pg[];

/* Step st once: *yes is whether it gave a row; st is reset; a database
 * error is corp_db_fail's, naming what. */
int	corp_db_exists(struct corp_db *, struct corp_stmt *, int *yes,
	    const char *what, struct corp_err *);

#endif
