/*
 * bindstate.c -- the binds module's one lookup for route (binds.h
 * corp_binds_state).  Its own file so that route, and every tool that
 * routes, does not link binds.c's address checks, which reach the
 * webhook configuration and libcrypto (tests/0001-db.t).
 */
#include "corp.h"
#include "binds.h"
#include "db.h"

int
corp_binds_state(struct corp_db *db, long long uid, const char *channel,
    int *state, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT active FROM binds "
	    "WHERE user_id = ?1 AND channel = ?2", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, channel);
	rc = corp_step(st);
	*state = rc == SQLITE_ROW ? corp_col_int(st, 0) : -1;
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read binds", err);
	return 0;
}
