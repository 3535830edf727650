/*
 * dbint.h -- the database handle's insides, shared by db.c (the handle,
 * SQLite) and pg.c (PostgreSQL through libpq).  Nothing else includes it.
 */
#ifndef CORP_DBINT_H
#define CORP_DBINT_H

#include <sqlite3.h>

struct pg_conn;		/* libpq's PGconn, kept opaque here */
struct pg_result;	/* libpq's PGresult */

struct corp_stmt {
	struct corp_db	*db;
	const char	*sql;		/* the literal: the cache key */
	int		 cached;
	sqlite3_stmt	*s;		/* SQLite */
	/* PostgreSQL: a named server-side prepared statement. */
	char		 name[16];
	int		 nparams;
	char		**vals;		/* text values; NULL is SQL NULL */
	struct pg_result *res;		/* the result being stepped */
	int		 row, nrows;
	int		 ran;
	int		 err;		/* the SQLite-style code of a failure */
};

struct corp_db {
	sqlite3		*h;
	struct pg_conn	*pg;
	char		*path;		/* as shown: no password */
	struct corp_stmt **stmts;
	size_t		 nstmts, cap;
	int		 in_tx;
	int		 schema_cookie;	/* SQLite: PRAGMA schema_version */
	/* PostgreSQL */
	long long	 changes;	/* rows of the last command */
	long long	 notified;	/* notifications received */
	int		 listening;
	int		 nnamed;	/* prepared statement names used */
	char		*errmsg;	/* the last server error */
	char		 sqlstate[6];
};

/* pg.c */
int	corp_pg_load(struct corp_err *);
int	corp_pg_open(struct corp_db *, const char *spec, int flags,
	    struct corp_err *);
void	corp_pg_close(struct corp_db *);
int	corp_pg_prepare(struct corp_db *, struct corp_stmt *,
	    struct corp_err *);
int	corp_pg_step(struct corp_stmt *);
void	corp_pg_reset(struct corp_stmt *);
void	corp_pg_free(struct corp_stmt *);
int	corp_pg_bind(struct corp_stmt *, int, const char *);
int	corp_pg_col_type(struct corp_stmt *, int);
const char *corp_pg_col_text(struct corp_stmt *, int);
int	corp_pg_simple(struct corp_db *, const char *sql, const char *what,
	    struct corp_err *);
int	corp_pg_wait(struct corp_db *, int ms, struct corp_err *);
int	corp_pg_notified(struct corp_db *, long long *, struct corp_err *);
int	corp_pg_in_tx(struct corp_db *);
int	corp_pg_tx_failed(struct corp_db *);
/* Translate corp's SQL for PostgreSQL: a fresh string or NULL. */
char	*corp_pg_translate(const char *sql, int *nparams);

#endif
