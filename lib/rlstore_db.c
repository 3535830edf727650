/*
 * rlstore_db.c -- the rate limiter's store in PostgreSQL (ratelimit.h):
 * rate_limits (key_hash "KIND-<16 hex>", pause_until_ms; a chat's own
 * pause is the row "KIND-<16 hex>:chat:CHAT") and rate_limit_sends
 * (key_hash, at_ms, chat), whose ms are the server's clock_timestamp()
 * in Unix milliseconds, read inside the transaction that holds the
 * key's row FOR UPDATE.  That lock serialises every reservation and
 * pause of the key, on every host.
 */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "db.h"
#include "ratelimit.h"

struct rl_db {
	struct corp_rl_store base;
	struct corp_db	*db;
	int		 own;		/* the store opened db */
	struct corp_rl_send *s;		/* the view's sends (chats owned) */
	size_t		 n;
	long long	 now, w;	/* of the lock */
};

static void
sends_free(struct rl_db *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free((char *)d->s[i].chat);
	free(d->s);
	d->s = NULL;
	d->n = 0;
}

static int
db_open(struct corp_rl_store *st, const char *key, char **name,
    struct corp_err *err)
{
	struct rl_db *d = (struct rl_db *)st;
	struct corp_err e;
	int rc;

	if (d->db == NULL) {
		if ((rc = corp_db_open(&d->db, 0, &e)) != 0)
			return corp_errf(err, rc, "rate limit: %s", e.msg);
		d->own = 1;
	}
	if (corp_asprintf(name, "%s: rate_limits %s", corp_db_path(d->db),
	    key) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

/*
 * In the transaction: the key's row, locked until the commit, then the
 * server's clock, read only once the lock is held.
 */
static int
lock_row(struct rl_db *d, const char *key, long long *pause_until,
    long long *now, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(d->db, &st, "INSERT INTO rate_limits "
	    "(key_hash, pause_until_ms) VALUES (?1, 0) ON CONFLICT DO NOTHING",
	    err)) != 0)
		return rc;
	corp_bind_text(st, 1, key);
	if ((rc = corp_db_exec(d->db, st, "rate limit", err)) != 0)
		return rc;
	if ((rc = corp_db_prep(d->db, &st, "SELECT pause_until_ms FROM "
	    "rate_limits WHERE key_hash = ?1 FOR UPDATE", err)) != 0)
		return rc;
	corp_bind_text(st, 1, key);
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)	/* inserted above, never deleted */
			rc = corp_errf(err, CORP_EINTERNAL, "rate limit: "
			    "%s: %s: no row", corp_db_path(d->db), key);
		else
			rc = corp_db_fail(d->db, rc, "rate limit", err);
		corp_reset(st);
		return rc;
	}
	*pause_until = corp_col_int64(st, 0);
	corp_reset(st);
	/* The one statement of corp whose result a decision uses that
	 * reads a clock (DESIGN 9); queue.c clock_check only compares. */
	if ((rc = corp_db_prep(d->db, &st, "SELECT CAST(extract(epoch FROM "
	    "clock_timestamp()) * 1000 AS BIGINT)", err)) != 0)
		return rc;
	if ((rc = corp_step(st)) != SQLITE_ROW) {
		rc = corp_db_fail(d->db, rc, "rate limit", err);
		corp_reset(st);
		return rc;
	}
	*now = corp_col_int64(st, 0);
	corp_reset(st);
	return 0;
}

/* The sends of the key that still count for a window from now on. */
static int
load_sends(struct rl_db *d, const char *key, long long from,
    struct corp_err *err)
{
	struct corp_rl_send *ns;
	struct corp_stmt *q;
	const char *c;
	size_t cap = 0;
	int rc;

	if ((rc = corp_db_prep(d->db, &q, "SELECT at_ms, chat FROM "
	    "rate_limit_sends WHERE key_hash = ?1 AND at_ms > ?2 "
	    "ORDER BY at_ms", err)) != 0)
		return rc;
	corp_bind_text(q, 1, key);
	corp_bind_int64(q, 2, from);
	while ((rc = corp_step(q)) == SQLITE_ROW) {
		if (d->n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((ns = reallocarray(d->s, cap, sizeof(*ns))) ==
			    NULL)
				goto oom;
			d->s = ns;
		}
		c = corp_col_text(q, 1);
		d->s[d->n].t = corp_col_int64(q, 0);
		if ((d->s[d->n].chat = strdup(c != NULL ? c : "")) == NULL)
			goto oom;
		d->n++;
	}
	if (rc != SQLITE_DONE)
		rc = corp_db_fail(d->db, rc, "rate limit", err);
	else
		rc = 0;
	corp_reset(q);
	return rc;
oom:
	corp_reset(q);
	return corp_errf(err, CORP_EINTERNAL, "out of memory");
}

static void
chat_key(const char *key, const char *chat, char *buf, size_t size)
{
	snprintf(buf, size, "%s:chat:%s", key, chat);
}

static int
chat_pause(struct rl_db *d, const char *key, const char *chat,
    long long *until, struct corp_err *err)
{
	struct corp_stmt *st;
	char ck[128];
	int rc;

	*until = 0;
	if (chat == NULL || *chat == '\0')
		return 0;
	chat_key(key, chat, ck, sizeof(ck));
	if ((rc = corp_db_prep(d->db, &st, "SELECT pause_until_ms FROM "
	    "rate_limits WHERE key_hash = ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, ck);
	rc = corp_step(st);
	if (rc == SQLITE_ROW)
		*until = corp_col_int64(st, 0);
	corp_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	    corp_db_fail(d->db, rc, "rate limit", err);
}

static void
db_unlock(struct corp_rl_store *st)
{
	struct rl_db *d = (struct rl_db *)st;

	sends_free(d);
	corp_db_rollback(d->db);
}

static int
db_lock(struct corp_rl_store *st, const char *key, const char *chat,
    long long w, struct corp_rl_view *v, struct corp_err *err)
{
	struct rl_db *d = (struct rl_db *)st;
	int rc;

	memset(v, 0, sizeof(*v));
	sends_free(d);
	if ((rc = corp_db_begin_concurrent(d->db, err)) != 0)
		return rc;
	if ((rc = lock_row(d, key, &v->pause_until, &v->now, err)) != 0 ||
	    (rc = load_sends(d, key, v->now - w, err)) != 0 ||
	    (rc = chat_pause(d, key, chat, &v->chat_until, err)) != 0) {
		db_unlock(st);
		return rc;
	}
	v->s = d->s;
	v->n = d->n;
	d->now = v->now;
	d->w = w;
	return 0;
}

static int
db_save(struct corp_rl_store *st, const char *key, const char *chat,
    long long t, long long pause_until, long long chat_until,
    struct corp_err *err)
{
	struct rl_db *d = (struct rl_db *)st;
	struct corp_stmt *q;
	char ck[128], like[80];
	int rc = 0;

	/* Record the send at t; forget those no window can hold again. */
	if (t >= 0 && (rc = corp_db_prep(d->db, &q, "DELETE FROM "
	    "rate_limit_sends WHERE key_hash = ?1 AND at_ms <= ?2",
	    err)) == 0) {
		corp_bind_text(q, 1, key);
		corp_bind_int64(q, 2, d->now - d->w);
		rc = corp_db_exec(d->db, q, "rate limit", err);
	}
	if (rc == 0 && t >= 0 && (rc = corp_db_prep(d->db, &q, "INSERT INTO "
	    "rate_limit_sends (key_hash, at_ms, chat) VALUES (?1, ?2, ?3)",
	    err)) == 0) {
		corp_bind_text(q, 1, key);
		corp_bind_int64(q, 2, t);
		corp_bind_text(q, 3, chat != NULL ? chat : "");
		rc = corp_db_exec(d->db, q, "rate limit", err);
	}
	if (rc == 0 && pause_until >= 0 && (rc = corp_db_prep(d->db, &q,
	    "UPDATE rate_limits SET pause_until_ms = ?2 WHERE key_hash = ?1",
	    err)) == 0) {
		corp_bind_text(q, 1, key);
		corp_bind_int64(q, 2, pause_until);
		rc = corp_db_exec(d->db, q, "rate limit", err);
	}
	/* A chat's row; chats whose pause ran out go. */
	if (rc == 0 && chat_until > 0 && chat != NULL && *chat != '\0') {
		chat_key(key, chat, ck, sizeof(ck));
		snprintf(like, sizeof(like), "%s:chat:%%", key);
		if ((rc = corp_db_prep(d->db, &q, "DELETE FROM rate_limits "
		    "WHERE key_hash LIKE ?1 AND pause_until_ms <= ?2 AND "
		    "NOT EXISTS (SELECT 1 FROM rate_limit_sends s "
		    "WHERE s.key_hash = rate_limits.key_hash)", err)) == 0) {
			corp_bind_text(q, 1, like);
			corp_bind_int64(q, 2, d->now);
			rc = corp_db_exec(d->db, q, "rate limit", err);
		}
		if (rc == 0 && (rc = corp_db_prep(d->db, &q, "INSERT INTO "
		    "rate_limits (key_hash, pause_until_ms) VALUES (?1, ?2) "
		    "ON CONFLICT (key_hash) DO UPDATE SET pause_until_ms = "
		    "greatest(rate_limits.pause_until_ms, "
		    "excluded.pause_until_ms)", err)) == 0) {
			corp_bind_text(q, 1, ck);
			corp_bind_int64(q, 2, chat_until);
			rc = corp_db_exec(d->db, q, "rate limit", err);
		}
	}
	sends_free(d);
	if (rc == 0)
		rc = corp_db_commit(d->db, err);
	if (rc != 0)
		corp_db_rollback(d->db);
	return rc;
}

static void
db_free(struct corp_rl_store *st)
{
	struct rl_db *d = (struct rl_db *)st;

	sends_free(d);
	if (d->own)
		corp_db_close(d->db);
	free(d);
}

static const struct corp_rl_store_ops db_ops = {
	db_open, db_lock, db_save, db_unlock, db_free
};

int
corp_rl_store_db(struct corp_rl_store **out, struct corp_db *db,
    struct corp_err *err)
{
	struct rl_db *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	d->base.ops = &db_ops;
	d->db = db;
	*out = &d->base;
	return 0;
}

void
corp_rl_store_detach(struct corp_rl_store *st)
{
	struct rl_db *d = (struct rl_db *)st;

	if (st == NULL || st->ops != &db_ops || !d->own)
		return;
	sends_free(d);
	corp_db_close(d->db);
	d->db = NULL;
	d->own = 0;
}

void
corp_rl_store_free(struct corp_rl_store *st)
{
	if (st != NULL)
		st->ops->free(st);
}
