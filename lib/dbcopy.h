/*
 * dbcopy.h -- corp-db migrate-to: the configured SQLite database copied
 * into an empty PostgreSQL one, every row with its ids, the identity
 * sequences moved past them.
 */
#ifndef CORP_DBCOPY_H
#define CORP_DBCOPY_H

#include <jansson.h>

struct corp_err;

/*
 * Copy the database of CORP_DB (or --db; SQLite, brought to the latest
 * schema first) into target, a PostgreSQL spec without a password.  The
 * target gets corp's schema when it has none; it must hold no corp rows
 * but those its migrations seed (CORP_ECONFLICT).  One transaction on
 * each side: the target has all of it or nothing.  *out is
 * {from, to, tables: {name: rows}, schema_version}.  CORP_EUSAGE when
 * the source is PostgreSQL, the target is not, or carries a password.
 */
/* The progress of the copy (NULL: none): fn(arg, rows copied, rows in
 * all), after each INSERT statement and at the end. */
struct corp_dbcopy_progress {
	void	(*fn)(void *arg, long long done, long long total);
	void	*arg;
};
int	corp_dbcopy_to(const char *target, const struct corp_dbcopy_progress *,
	    json_t **out, struct corp_err *);

#endif
