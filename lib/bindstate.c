/*
 * bindstate.c -- the binds module's one lookup for route (binds.h
 * corp_binds_state).  Its own file so that route, and every tool that
 * routes, does not link binds.c's address checks, which reach the
 * webhook configuration and libcrypto (tests/0001-db.t).  The queue's
 * two uses of binds live here too, for the same reason (corp-deliver
 * links no libcrypto): an ack's "unbound" and explain's list.
 */
#include "corp.h"
#include "binds.h"
#include "db.h"
#include "jsonl.h"

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

int
corp_binds_unbound_tx(struct corp_db *db, long long uid, const char *channel,
    time_t now, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	/* An operator's deactivation meanwhile stays the operator's. */
	if ((rc = corp_db_prep(db, &st, "UPDATE binds SET active = 0, "
	    "deactivated_by = 'delivery', updated_at = ?3 "
	    "WHERE user_id = ?1 AND channel = ?2 AND active = 1",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, channel);
	corp_bind_int64(st, 3, (long long)now);
	return corp_db_exec(db, st, "deactivate bind", err);
}

int
corp_binds_user_json(struct corp_db *db, long long uid, json_t **out,
    struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *binds;
	int rc;

	*out = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT channel, address, active, "
	    "updated_at, deactivated_by FROM binds WHERE user_id = ?1 "
	    "ORDER BY channel", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	binds = json_array();
	while ((rc = corp_step(st)) == SQLITE_ROW)
		json_array_append_new(binds, json_pack("{s:s, s:s, s:b, s:o, "
		    "s:o}", "channel", corp_col_text(st, 0),
		    "address", corp_col_text(st, 1),
		    "active", corp_col_int(st, 2),
		    "deactivated_by", corp_json_strval(corp_col_text(st, 4)),
		    "updated_at", corp_json_time((time_t)
		    corp_col_int64(st, 3))));
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(binds);
		return corp_db_fail(db, rc, "read binds", err);
	}
	*out = binds;
	return 0;
}
