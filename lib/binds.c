/* binds.c -- see binds.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "binds.h"
#include "clock.h"
#include "db.h"
#include "jsonl.h"
#include "notify.h"
#include "queue.h"

#define ADDRESS_MAX 2048

static int
printable(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int
corp_address_check(const char *channel, const char *a, struct corp_err *err)
{
	size_t n = strlen(a);
	const char *at;

	if (!corp_channel_valid(channel))
		return corp_errf(err, CORP_EINVAL,
		    "channel '%s': expected 1-32 of a-z 0-9 _ -", channel);
	if (n == 0 || n > ADDRESS_MAX || !printable(a))
		return corp_errf(err, CORP_EINVAL, "address: expected 1-%d "
		    "printable characters", ADDRESS_MAX);
	if (strcmp(channel, "telegram") == 0) {
		long long v;
		char *end;

		/*
		 * A private chat's id is the user's Telegram id: positive.
		 * Groups and channels have negative ids (DESIGN 11: no
		 * binds to groups).
		 */
		errno = 0;
		v = strtoll(a, &end, 10);
		if (strspn(a, "0123456789") != n || a[0] == '0' ||
		    errno != 0 || *end != '\0' || v <= 0)
			return corp_errf(err, CORP_EINVAL, "telegram address "
			    "'%s': expected a private chat id, a positive "
			    "64-bit integer", a);
	} else if (strcmp(channel, "email") == 0) {
		at = strrchr(a, '@');
		if (at == NULL || at == a || at[1] == '\0' ||
		    strchr(a, ' ') != NULL || strchr(at + 1, '.') == NULL)
			return corp_errf(err, CORP_EINVAL, "email address "
			    "'%s': expected LOCAL@DOMAIN", a);
	} else if (strcmp(channel, "webhook") == 0) {
		if ((strncmp(a, "https://", 8) != 0 &&
		    strncmp(a, "http://", 7) != 0) || strchr(a, ' ') != NULL)
			return corp_errf(err, CORP_EINVAL, "webhook address "
			    "'%s': expected an http:// or https:// URL", a);
	} else if (strcmp(channel, "exec") == 0) {
		if (n > 64 || strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
			return corp_errf(err, CORP_EINVAL, "exec address '%s': "
			    "expected a command name of exec.conf", a);
	}
	return 0;
}

static json_t *
row_json(struct corp_stmt *st)
{
	json_t *o;

	o = json_pack("{s:I, s:s, s:s, s:s, s:b}",
	    "user_id", (json_int_t)corp_col_int64(st, 0),
	    "login", corp_col_text(st, 1),
	    "channel", corp_col_text(st, 2),
	    "address", corp_col_text(st, 3),
	    "active", corp_col_int(st, 4));
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "created_at",
	    corp_json_time((time_t)corp_col_int64(st, 5)));
	json_object_set_new(o, "updated_at",
	    corp_json_time((time_t)corp_col_int64(st, 6)));
	return o;
}

int
corp_binds_list(struct corp_db *db, long long uid, const char *channel,
    json_t **rows, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*rows = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT b.user_id, u.login, "
	    "b.channel, b.address, b.active, b.created_at, b.updated_at "
	    "FROM binds b JOIN users u ON u.id = b.user_id "
	    "WHERE (?1 IS NULL OR b.user_id = ?1) "
	    "AND (?2 IS NULL OR b.channel = ?2) "
	    "ORDER BY b.user_id, b.channel", err)) != 0)
		return rc;
	corp_bind_id(st, 1, uid);
	corp_bind_text(st, 2, channel);
	return corp_db_rows(db, st, row_json, rows, "read binds", err);
}

/* The one bind of (uid, channel) as JSON, inside the caller's
 * transaction; CORP_ENOTFOUND when there is none. */
static int
get_one(struct corp_db *db, long long uid, const char *channel,
    json_t **row, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*row = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT b.user_id, u.login, "
	    "b.channel, b.address, b.active, b.created_at, b.updated_at "
	    "FROM binds b JOIN users u ON u.id = b.user_id "
	    "WHERE b.user_id = ?1 AND b.channel = ?2", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, channel);
	rc = corp_step(st);
	if (rc == SQLITE_ROW)
		*row = row_json(st);
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return corp_errf(err, CORP_ENOTFOUND, "no bind on %s",
		    channel);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read bind", err);
	if (*row == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

/* The caller holds the write transaction. */
int
corp_binds_add_tx(struct corp_db *db, long long uid, const char *channel,
    const char *address, json_t **row, struct corp_err *err)
{
	struct corp_stmt *st;
	time_t now = corp_now();
	int rc;

	if (row != NULL)
		*row = NULL;
	if ((rc = corp_address_check(channel, address, err)) != 0)
		return rc;
	/* Say who holds it, rather than leave it to the unique index. */
	if ((rc = corp_db_prep(db, &st, "SELECT u.login FROM binds b "
	    "JOIN users u ON u.id = b.user_id WHERE b.channel = ?1 "
	    "AND b.address = ?2 AND b.active = 1 AND b.user_id <> ?3", err))
	    != 0)
		return rc;
	corp_bind_text(st, 1, channel);
	corp_bind_text(st, 2, address);
	corp_bind_int64(st, 3, uid);
	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		corp_errf(err, CORP_ECONFLICT, "%s address %s is bound to "
		    "user '%s'; deactivate that bind first", channel, address,
		    corp_col_text(st, 0));
		corp_reset(st);
		return CORP_ECONFLICT;
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read binds", err);
	if ((rc = corp_db_prep(db, &st, "INSERT INTO binds (user_id, channel, "
	    "address, active, created_at, updated_at) VALUES (?1, ?2, ?3, 1, "
	    "?4, ?4) ON CONFLICT (user_id, channel) DO UPDATE SET "
	    "address = ?3, active = 1, updated_at = ?4", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, channel);
	corp_bind_text(st, 3, address);
	corp_bind_int64(st, 4, (long long)now);
	if ((rc = corp_db_exec(db, st, "write bind", err)) != 0 ||
	    (rc = corp_queue_refresh_user(db, uid, channel, now, err)) != 0)
		return rc;
	if (row != NULL)
		return get_one(db, uid, channel, row, err);
	return 0;
}

int
corp_binds_add(struct corp_db *db, long long uid, const char *channel,
    const char *address, json_t **row, struct corp_err *err)
{
	int rc;

	*row = NULL;
	if ((rc = corp_address_check(channel, address, err)) != 0)
		return rc;
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_binds_add_tx(db, uid, channel, address, row, err))
	    != 0 || (rc = corp_db_commit(db, err)) != 0)
		goto fail;
	return 0;
fail:
	corp_db_rollback(db);
	json_decref(*row);
	*row = NULL;
	return rc;
}

/* The caller holds the write transaction. */
int
corp_binds_deactivate_tx(struct corp_db *db, long long uid,
    const char *channel, json_t **row, struct corp_err *err)
{
	struct corp_stmt *st;
	time_t now = corp_now();
	json_t *tmp = NULL;
	int rc;

	if (row != NULL)
		*row = NULL;
	if (!corp_channel_valid(channel))
		return corp_errf(err, CORP_EINVAL,
		    "channel '%s': expected 1-32 of a-z 0-9 _ -", channel);
	/* Already inactive: nothing changes, updated_at included. */
	if ((rc = corp_db_prep(db, &st, "UPDATE binds SET active = 0, "
	    "updated_at = ?3 WHERE user_id = ?1 AND channel = ?2 "
	    "AND active = 1", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, channel);
	corp_bind_int64(st, 3, (long long)now);
	if ((rc = corp_db_exec(db, st, "write bind", err)) != 0 ||
	    (rc = get_one(db, uid, channel, row != NULL ? row : &tmp, err))
	    != 0 ||
	    (rc = corp_queue_refresh_user(db, uid, channel, now, err)) != 0) {
		json_decref(tmp);
		if (row != NULL) {
			json_decref(*row);
			*row = NULL;
		}
		return rc;
	}
	json_decref(tmp);
	return 0;
}

int
corp_binds_deactivate(struct corp_db *db, long long uid, const char *channel,
    json_t **row, struct corp_err *err)
{
	int rc;

	*row = NULL;
	if (!corp_channel_valid(channel))
		return corp_errf(err, CORP_EINVAL,
		    "channel '%s': expected 1-32 of a-z 0-9 _ -", channel);
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_binds_deactivate_tx(db, uid, channel, row, err)) != 0 ||
	    (rc = corp_db_commit(db, err)) != 0)
		goto fail;
	return 0;
fail:
	corp_db_rollback(db);
	json_decref(*row);
	*row = NULL;
	return rc;
}

int
corp_binds_find(struct corp_db *db, const char *channel, const char *address,
    long long *uid, int *active, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*uid = 0;
	*active = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT user_id, active FROM binds "
	    "WHERE channel = ?1 AND address = ?2 "
	    "ORDER BY active DESC, updated_at DESC, user_id LIMIT 1", err))
	    != 0)
		return rc;
	corp_bind_text(st, 1, channel);
	corp_bind_text(st, 2, address);
	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		*uid = corp_col_int64(st, 0);
		*active = corp_col_int(st, 1);
	}
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return corp_errf(err, CORP_ENOTFOUND, "no bind of %s address "
		    "%s", channel, address);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read binds", err);
	return 0;
}
