/* message.c -- see message.h. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "db.h"
#include "jsonl.h"
#include "message.h"

#define MSG_COLUMNS \
	"id, chat_id, message_id, chat_type, chat_title, from_id, " \
	"from_username, from_name, date, edit_date, text, " \
	"reply_to_message_id, entities, " \
	"(SELECT count(*) FROM tg_message_edits e WHERE e.message_row_id = m.id)"

static json_t *
opt_int(struct corp_stmt *st, int c)
{
	return corp_col_type(st, c) == SQLITE_NULL ? json_null() :
	    json_integer(corp_col_int64(st, c));
}

static json_t *
opt_json(struct corp_stmt *st, int c)
{
	const char *s = corp_col_text(st, c);
	json_t *v;

	if (s == NULL || (v = json_loads(s, JSON_DECODE_ANY, NULL)) == NULL)
		return json_null();
	return v;
}

static json_t *
msg_row(struct corp_stmt *st)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "id", json_integer(corp_col_int64(st, 0)));
	json_object_set_new(o, "chat_id",
	    json_integer(corp_col_int64(st, 1)));
	json_object_set_new(o, "message_id",
	    json_integer(corp_col_int64(st, 2)));
	json_object_set_new(o, "chat_type",
	    corp_json_strval(corp_col_text(st, 3)));
	json_object_set_new(o, "chat_title",
	    corp_json_strval(corp_col_text(st, 4)));
	json_object_set_new(o, "from_id", opt_int(st, 5));
	json_object_set_new(o, "from_username",
	    corp_json_strval(corp_col_text(st, 6)));
	json_object_set_new(o, "from_name",
	    corp_json_strval(corp_col_text(st, 7)));
	json_object_set_new(o, "date",
	    corp_json_time((time_t)corp_col_int64(st, 8)));
	json_object_set_new(o, "edit_date", corp_col_type(st, 9) ==
	    SQLITE_NULL ? json_null() :
	    corp_json_time((time_t)corp_col_int64(st, 9)));
	json_object_set_new(o, "text", corp_json_strval(corp_col_text(st, 10)));
	json_object_set_new(o, "reply_to_message_id", opt_int(st, 11));
	json_object_set_new(o, "entities", opt_json(st, 12));
	json_object_set_new(o, "edits",
	    json_integer(corp_col_int64(st, 13)));
	return o;
}

int
corp_msg_list(struct corp_db *db, const struct corp_msg_filter *f,
    json_t **out, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*out = NULL;
	/* CAST: "?4 = 0" alone would make ?4 an int4 on PostgreSQL. */
	if ((rc = corp_db_prep(db, &st, "SELECT " MSG_COLUMNS " FROM "
	    "tg_messages m WHERE (?1 = 0 OR chat_id = ?2) AND (?3 IS NULL OR "
	    "from_username = ?3 OR CAST(from_id AS TEXT) = ?3) AND "
	    "(CAST(?4 AS BIGINT) = 0 OR date >= ?4) AND "
	    "(CAST(?5 AS BIGINT) = 0 OR date < ?5) AND "
	    "(?6 IS NULL OR instr(text, ?6) > 0) "
	    "ORDER BY date, chat_id, message_id LIMIT ?7", err)) != 0)
		return rc;
	corp_bind_int(st, 1, f->has_chat);
	corp_bind_int64(st, 2, f->chat_id);
	corp_bind_text(st, 3, f->author);
	corp_bind_int64(st, 4, (long long)f->since);
	corp_bind_int64(st, 5, (long long)f->until);
	corp_bind_text(st, 6, f->text);
	corp_bind_int64(st, 7, f->limit > 0 ? f->limit : LLONG_MAX);
	return corp_db_rows(db, st, msg_row, out, "list messages", err);
}

/* One earlier version of a message (corp_msg_show's history). */
static json_t *
edit_row(struct corp_stmt *st)
{
	json_t *v = json_object();

	if (v == NULL)
		return NULL;
	json_object_set_new(v, "text", corp_json_strval(corp_col_text(st, 0)));
	json_object_set_new(v, "entities", opt_json(st, 1));
	json_object_set_new(v, "edit_date", corp_col_type(st, 2) ==
	    SQLITE_NULL ? json_null() :
	    corp_json_time((time_t)corp_col_int64(st, 2)));
	json_object_set_new(v, "replaced_at",
	    corp_json_time((time_t)corp_col_int64(st, 3)));
	return v;
}

int
corp_msg_show(struct corp_db *db, long long chat, long long msgid,
    json_t **out, struct corp_err *err)
{
	struct corp_stmt *st;
	json_t *h;
	long long row = 0;
	int rc;

	*out = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT " MSG_COLUMNS " FROM "
	    "tg_messages m WHERE chat_id = ?1 AND message_id = ?2", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, chat);
	corp_bind_int64(st, 2, msgid);
	if ((rc = corp_step(st)) == SQLITE_ROW) {
		row = corp_col_int64(st, 0);
		*out = msg_row(st);
	}
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return corp_errf(err, CORP_ENOTFOUND, "no message %lld in "
		    "chat %lld", msgid, chat);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read message", err);
	if (*out == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_db_prep(db, &st, "SELECT text, entities, edit_date, "
	    "replaced_at FROM tg_message_edits WHERE message_row_id = ?1 "
	    "ORDER BY id", err)) == 0) {
		corp_bind_int64(st, 1, row);
		rc = corp_db_rows(db, st, edit_row, &h, "read message history",
		    err);
	}
	if (rc != 0) {
		json_decref(*out);
		*out = NULL;
		return rc;
	}
	json_object_set_new(*out, "history", h);
	return 0;
}

/* ---- retention ------------------------------------------------------ */

static int
count_one(struct corp_db *db, struct corp_stmt *st, time_t before,
    long long *n, const char *what, struct corp_err *err)
{
	int rc;

	corp_bind_int64(st, 1, (long long)before);
	if ((rc = corp_step(st)) == SQLITE_ROW)
		*n = corp_col_int64(st, 0);
	corp_reset(st);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, what, err);
	return 0;
}

/*
 * The dedupe keys of a message's topic events (tgupdate.c,
 * message_event): "msg:CHAT:MSGID:uUPDATE", all in [LO, HI) -- a range
 * the unique index on dedupe_key serves, byte order on both backends.
 */
#define MSG_KEY_LO "('msg:' || m.chat_id || ':' || m.message_id || ':u')"
#define MSG_KEY_HI "('msg:' || m.chat_id || ':' || m.message_id || ':v')"

static int
prune_count(struct corp_db *db, time_t before, struct corp_msg_pruned *p,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT count(*) FROM tg_messages "
	    "WHERE date < ?1", err)) != 0 ||
	    (rc = count_one(db, st, before, &p->messages, "count messages",
	    err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "SELECT count(*) FROM "
	    "tg_message_edits WHERE message_row_id IN (SELECT id FROM "
	    "tg_messages WHERE date < ?1)", err)) != 0 ||
	    (rc = count_one(db, st, before, &p->edits, "count edits",
	    err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "SELECT count(*) FROM events e "
	    "JOIN tg_messages m ON e.dedupe_key >= " MSG_KEY_LO " AND "
	    "e.dedupe_key < " MSG_KEY_HI " WHERE m.date < ?1", err)) != 0 ||
	    (rc = count_one(db, st, before, &p->events, "count events",
	    err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "SELECT count(*) FROM tg_callbacks "
	    "WHERE received_at < ?1", err)) != 0)
		return rc;
	return count_one(db, st, before, &p->callbacks, "count callbacks",
	    err);
}

/* One batch: up to CORP_MSG_PRUNE_BATCH messages; *n gets how many. */
static int
prune_batch(struct corp_db *db, time_t before, struct corp_msg_pruned *p,
    long long *n, struct corp_err *err)
{
	struct corp_stmt *st, *del_e, *del_m, *del_t;
	long long ids[CORP_MSG_PRUNE_BATCH];
	size_t k, i;
	int rc;

	*n = 0;
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "SELECT id FROM tg_messages WHERE "
	    "date < ?1 ORDER BY date, id LIMIT ?2", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, (long long)before);
	corp_bind_int64(st, 2, CORP_MSG_PRUNE_BATCH);
	for (k = 0; k < CORP_MSG_PRUNE_BATCH &&
	    (rc = corp_step(st)) == SQLITE_ROW; k++)
		ids[k] = corp_col_int64(st, 0);
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = corp_db_fail(db, rc, "read old messages", err);
		goto fail;
	}
	if ((rc = corp_db_prep(db, &del_e, "DELETE FROM tg_message_edits "
	    "WHERE message_row_id = ?1", err)) != 0 ||
	    (rc = corp_db_prep(db, &del_m, "DELETE FROM tg_messages WHERE "
	    "id = ?1", err)) != 0 ||
	    (rc = corp_db_prep(db, &del_t, "DELETE FROM events WHERE "
	    "topic = 'messages' AND dedupe_key >= (SELECT " MSG_KEY_LO
	    " FROM tg_messages m WHERE m.id = ?1) AND dedupe_key < (SELECT "
	    MSG_KEY_HI " FROM tg_messages m WHERE m.id = ?1)", err)) != 0)
		goto fail;
	for (i = 0; i < k; i++) {
		/* Its topic events first: they name the message. */
		corp_bind_int64(del_t, 1, ids[i]);
		if ((rc = corp_db_exec(db, del_t, "delete message events",
		    err)) != 0)
			goto fail;
		p->events += corp_db_changes(db);
		corp_bind_int64(del_e, 1, ids[i]);
		if ((rc = corp_db_exec(db, del_e, "delete edits", err)) != 0)
			goto fail;
		p->edits += corp_db_changes(db);
		corp_bind_int64(del_m, 1, ids[i]);
		if ((rc = corp_db_exec(db, del_m, "delete message", err)) != 0)
			goto fail;
		p->messages += corp_db_changes(db);
	}
	if ((rc = corp_db_commit(db, err)) != 0)
		goto fail;
	*n = (long long)k;
	return 0;
fail:
	corp_db_rollback(db);
	return rc;
}

int
corp_msg_prune(struct corp_db *db, time_t before, int dry_run,
    struct corp_msg_pruned *p, struct corp_err *err)
{
	struct corp_stmt *st;
	long long n;
	int rc;

	memset(p, 0, sizeof(*p));
	if (dry_run)
		return prune_count(db, before, p, err);
	do {
		if ((rc = prune_batch(db, before, p, &n, err)) != 0)
			return rc;
	} while (n == CORP_MSG_PRUNE_BATCH);
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "DELETE FROM tg_callbacks WHERE "
	    "received_at < ?1", err)) != 0)
		goto fail;
	corp_bind_int64(st, 1, (long long)before);
	if ((rc = corp_db_exec(db, st, "delete callbacks", err)) != 0)
		goto fail;
	p->callbacks = corp_db_changes(db);
	if ((rc = corp_db_commit(db, err)) != 0)
		goto fail;
	return 0;
fail:
	corp_db_rollback(db);
	return rc;
}
