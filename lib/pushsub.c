/* pushsub.c -- see pushsub.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "jsonl.h"
#include "pushsub.h"
#include "queue.h"

int
corp_pushsub_count(struct corp_db *db, long long uid, long long *n,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT count(*) FROM "
	    "push_subscriptions WHERE user_id = ?1 AND active = 1",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	if ((rc = corp_step(st)) == SQLITE_ROW)
		*n = corp_col_int64(st, 0);
	corp_reset(st);
	return rc == SQLITE_ROW ? 0 : corp_db_fail(db, rc,
	    "count push subscriptions", err);
}

int
corp_pushsub_off_tx(struct corp_db *db, long long uid, const char *endpoint,
    const char *by, long long *left, struct corp_err *err)
{
	struct corp_stmt *st;
	long long n;
	int rc;

	if ((rc = corp_db_prep(db, &st, "UPDATE push_subscriptions SET "
	    "active = 0, deactivated_by = ?3, updated_at = ?4 "
	    "WHERE user_id = ?1 AND active = 1 "
	    "AND (?2 IS NULL OR endpoint = ?2)", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, endpoint);
	corp_bind_text(st, 3, by);
	corp_bind_int64(st, 4, (long long)corp_now());
	if ((rc = corp_db_exec(db, st, "deactivate push subscription",
	    err)) != 0 || (rc = corp_pushsub_count(db, uid, &n, err)) != 0)
		return rc;
	/* The bind's address stays an active endpoint of the user (the one
	 * bound last), never one that is gone: another user may bind it. */
	if (n > 0) {
		if ((rc = corp_db_prep(db, &st, "UPDATE binds SET address = "
		    "(SELECT endpoint FROM push_subscriptions WHERE user_id = "
		    "?1 AND active = 1 ORDER BY updated_at DESC, endpoint DESC "
		    "LIMIT 1) WHERE user_id = ?1 AND channel = 'push' "
		    "AND active = 1", err)) != 0)
			return rc;
		corp_bind_int64(st, 1, uid);
		if ((rc = corp_db_exec(db, st, "write bind", err)) != 0)
			return rc;
	}
	if (left != NULL)
		*left = n;
	return 0;
}

int
corp_pushsub_ack_tx(struct corp_db *db, long long delivery_id, json_t *line,
    struct corp_err *err)
{
	json_t *gone = json_object_get(line, "push_gone"), *v;
	struct corp_stmt *st;
	long long left = 1, uid;
	size_t i;
	int rc;

	if (!json_is_array(gone) || json_array_size(gone) == 0)
		return 0;
	if ((rc = corp_db_prep(db, &st, "SELECT user_id FROM deliveries "
	    "WHERE id = ?1 AND channel = 'push'", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, delivery_id);
	rc = corp_step(st);
	uid = rc == SQLITE_ROW ? corp_col_int64(st, 0) : 0;
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return 0;	/* not a push row: nothing to deactivate */
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read delivery", err);
	json_array_foreach(gone, i, v) {
		if (!json_is_string(v))
			continue;
		if ((rc = corp_pushsub_off_tx(db, uid, json_string_value(v),
		    "delivery", &left, err)) != 0)
			return rc;
	}
	if (left > 0)
		return 0;
	/* None left: the bind too, as queue.c does for "unbound" (not
	 * through binds.c, which would link libcrypto into every tool). */
	if ((rc = corp_db_prep(db, &st, "UPDATE binds SET active = 0, "
	    "deactivated_by = 'delivery', updated_at = ?2 "
	    "WHERE user_id = ?1 AND channel = 'push' AND active = 1",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_int64(st, 2, (long long)corp_now());
	if ((rc = corp_db_exec(db, st, "deactivate bind", err)) != 0)
		return rc;
	return corp_queue_refresh_user(db, uid, "push", corp_now(), err);
}

int
corp_pushsub_json(struct corp_db *db, long long uid, json_t **arr,
    struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *a, *o;
	int rc;

	*arr = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT endpoint, p256dh, auth "
	    "FROM push_subscriptions WHERE user_id = ?1 AND active = 1 "
	    "ORDER BY created_at, endpoint", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	if ((a = json_array()) == NULL) {
		corp_reset(st);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		o = json_pack("{s:s, s:{s:s, s:s}}",
		    "endpoint", corp_col_text(st, 0), "keys",
		    "p256dh", corp_col_text(st, 1),
		    "auth", corp_col_text(st, 2));
		if (o == NULL || json_array_append_new(a, o) != 0) {
			corp_reset(st);
			json_decref(a);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return corp_db_fail(db, rc, "read push subscriptions", err);
	}
	*arr = a;
	return 0;
}
