/*
 * linkcodevoid.c -- voiding a user's unused link codes (linkcode.h
 * corp_linkcode_void_tx).  Its own file: directory.c and binds.c call it,
 * and linkcode.c's code making (SHA-256) would link libcrypto into every
 * tool that touches a user (tests/0001-db.t).
 */
#include "corp.h"
#include "db.h"
#include "linkcode.h"

int
corp_linkcode_void_tx(struct corp_db *db, long long uid, time_t now,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "UPDATE tg_codes SET superseded_at "
	    "= ?2 WHERE user_id = ?1 AND used_at IS NULL AND superseded_at "
	    "IS NULL", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_int64(st, 2, (long long)now);
	return corp_db_exec(db, st, "void binding codes", err);
}
