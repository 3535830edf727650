/* binds.c -- see binds.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "binds.h"
#include "linkcode.h"
#include "clock.h"
#include "db.h"
#include "email.h"
#include "execcmd.h"
#include "fsutil.h"
#include "jsonl.h"
#include "notify.h"
#include "names.h"
#include "pushsub.h"
#include "queue.h"
#include "userref.h"
#include "webhookconf.h"

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
		return corp_email_addr_check(a, err);
	} else if (strcmp(channel, "webhook") == 0) {
		if (!corp_webhook_name_ok(a))
			return corp_errf(err, CORP_EINVAL, "webhook address "
			    "'%s': expected the name of an endpoint of "
			    "webhooks.conf (1-64 of A-Z a-z 0-9 _ . -, not "
			    "starting with a dot)", a);
	} else if (strcmp(channel, "exec") == 0) {
		if (!corp_webhook_name_ok(a))
			return corp_errf(err, CORP_EINVAL, "exec address '%s': "
			    "expected the name of a command of exec.conf (1-64 "
			    "of A-Z a-z 0-9 _ . -, not starting with a dot)",
			    a);
	}
	return 0;
}

int
corp_channel_shared(const char *channel)
{
	return strcmp(channel, "webhook") == 0 || strcmp(channel, "exec") == 0;
}

/*
 * "NAME is not defined in FILE (defined: a, b); did you mean 'c'?" for
 * a name missing from names (NULL-terminated); err's code CORP_EUSAGE,
 * as for every unknown name (corp.7).
 */
static int
undefined(const char *what, const char *name, const char *file,
    char **names, struct corp_err *err)
{
	const char *best = corp_suggest(name, (const char *const *)names, 2);
	char list[600] = "";
	size_t i, n = 0;

	for (i = 0; names[i] != NULL; i++) {
		n = strlen(list);
		if (n + strlen(names[i]) + 8 >= sizeof(list)) {
			strlcat(list, ", ...", sizeof(list));
			break;
		}
		if (i > 0)
			strlcat(list, ", ", sizeof(list));
		strlcat(list, names[i], sizeof(list));
	}
	return corp_errf(err, CORP_EUSAGE, "%s '%s' is not defined in %s "
	    "(%s%s)%s%s%s", what, name, file, names[0] ? "defined: " :
	    "it defines none", list, best ? "; did you mean '" : "",
	    best ? best : "", best ? "'?" : "");
}

int
corp_bind_target_check(const char *channel, const char *address,
    struct corp_err *err)
{
	const char *what, *file;
	char **names = NULL, *path = NULL;
	int webhook = strcmp(channel, "webhook") == 0, rc;

	if (!corp_channel_shared(channel))
		return 0;
	what = webhook ? "webhook endpoint" : "exec command";
	file = webhook ? "webhooks.conf" : "exec.conf";
	rc = webhook ? corp_webhook_names(&names, err) :
	    corp_exec_names(&names, err);
	if (rc == 0 || rc == CORP_ENOTFOUND) {
		if ((rc = corp_data_path(&path, file, err)) == 0 &&
		    names == NULL)
			rc = corp_errf(err, CORP_EUSAGE, "%s '%s' is not "
			    "defined: there is no %s (%s)", what, address,
			    path, webhook ? "one \"NAME URL\" per line, the "
			    "secret in secrets/webhook-NAME" :
			    "one \"NAME=/absolute/path\" per line, mode 600");
	}
	if (rc == 0) {
		size_t i;

		for (i = 0; names[i] != NULL; i++)
			if (strcmp(names[i], address) == 0)
				break;
		if (names[i] == NULL)
			rc = undefined(what, address, path, names, err);
	}
	/* What corp-send would hold the rows for, refused now: a command
	 * that fails StrictModes, a secret that is not one. */
	if (rc == 0 && !webhook) {
		char *cmd;

		/* A command not installed yet is held, not refused. */
		if ((rc = corp_exec_lookup(address, &cmd, err)) == 0)
			free(cmd);
		else if (rc == CORP_ENOTFOUND)
			rc = 0;
	}
	if (rc == 0 && webhook) {
		char *sname = NULL, *secret = NULL;
		struct corp_err e;

		if (corp_asprintf(&sname, "webhook-%s", address) < 0)
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		else if ((rc = corp_secret(NULL, sname, &secret, &e)) ==
		    CORP_ENOTFOUND)
			rc = 0;	/* it may come later; corp-db check says */
		else if (rc != 0)
			rc = corp_errf(err, rc, "%s", e.msg);
		else if (corp_webhook_secret_check(secret, sname, &e) != 0)
			rc = corp_errf(err, CORP_EINVAL, "%s/secrets/%s",
			    corp_cfg.data_dir, e.msg);
		if (secret != NULL) {
			explicit_bzero(secret, strlen(secret));
			free(secret);
		}
		free(sname);
	}
	if (webhook)
		corp_webhook_names_free(names);
	else
		corp_exec_names_free(names);
	free(path);
	return rc;
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
	json_object_set_new(o, "deactivated_by",
	    corp_json_strval(corp_col_text(st, 7)));
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
	    "b.channel, b.address, b.active, b.created_at, b.updated_at, "
	    "b.deactivated_by FROM binds b JOIN users u ON u.id = b.user_id "
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
	    "b.channel, b.address, b.active, b.created_at, b.updated_at, "
	    "b.deactivated_by FROM binds b JOIN users u ON u.id = b.user_id "
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

/*
 * CORP_ECONFLICT naming the user whose active bind holds address, rather
 * than leave it to the unique index (which, since 0010, leaves shared
 * channels out).
 */
static int
holder_check(struct corp_db *db, long long uid, const char *channel,
    const char *address, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

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
	if (!corp_channel_shared(channel) &&
	    (rc = holder_check(db, uid, channel, address, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "INSERT INTO binds (user_id, channel, "
	    "address, active, created_at, updated_at) VALUES (?1, ?2, ?3, 1, "
	    "?4, ?4) ON CONFLICT (user_id, channel) DO UPDATE SET "
	    "address = ?3, active = 1, deactivated_by = NULL, "
	    "updated_at = ?4", err)) != 0)
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
corp_binds_put_tx(struct corp_db *db, long long uid, const char *channel,
    const char *address, const char **result, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc, found = 0, same = 0;

	*result = NULL;
	if ((rc = corp_db_prep(db, &st, "SELECT address, active FROM binds "
	    "WHERE user_id = ?1 AND channel = ?2", err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, channel);
	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		found = 1;
		same = corp_col_int(st, 1) == 1 &&
		    strcmp(corp_col_text(st, 0), address) == 0;
	}
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read bind", err);
	if (same) {
		*result = "unchanged";
		return 0;
	}
	if ((rc = corp_binds_add_tx(db, uid, channel, address, NULL, err))
	    != 0)
		return rc;
	*result = found ? "updated" : "created";
	return 0;
}

int
corp_binds_add(struct corp_db *db, long long uid, const char *channel,
    const char *address, json_t **row, struct corp_err *err)
{
	int rc;

	*row = NULL;
	if ((rc = corp_address_check(channel, address, err)) != 0 ||
	    (rc = corp_bind_target_check(channel, address, err)) != 0)
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
corp_binds_resumable(const char *by)
{
	return by != NULL && (strcmp(by, "user") == 0 ||
	    strcmp(by, "blocked") == 0 || strcmp(by, "delivery") == 0);
}

int
corp_binds_deactivate_tx(struct corp_db *db, long long uid,
    const char *channel, const char *by, json_t **row, struct corp_err *err)
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
	/*
	 * Already inactive: nothing changes, updated_at included -- but
	 * the operator's deactivation overrides a chat's own pause (the
	 * chat can no longer resume it), and nothing overrides the
	 * operator's.
	 */
	/* push: every subscription goes with the bind (pushsub.h). */
	if (strcmp(channel, "push") == 0 && (rc = corp_pushsub_off_tx(db,
	    uid, NULL, strcmp(by, "operator") == 0 ? "operator" : "delivery",
	    NULL, err)) != 0)
		return rc;
	/* The operator's deactivation also voids the user's unused link
	 * codes: a code handed out before must not turn the bind back on
	 * from the chat (fresh-eyes round 6). */
	if (strcmp(by, "operator") == 0 && strcmp(channel, "telegram") == 0 &&
	    (rc = corp_linkcode_void_tx(db, uid, now, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "UPDATE binds SET active = 0, "
	    "deactivated_by = ?4, updated_at = ?3 WHERE user_id = ?1 "
	    "AND channel = ?2 AND (active = 1 OR (?4 = 'operator' AND "
	    "coalesce(deactivated_by, '') NOT IN ('operator', 'unknown')))",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, channel);
	corp_bind_int64(st, 3, (long long)now);
	corp_bind_text(st, 4, by);
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
	if ((rc = corp_binds_deactivate_tx(db, uid, channel, "operator", row,
	    err)) != 0 ||
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
    long long *uid, int *active, int *resumable, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	*uid = 0;
	*active = 0;
	if (resumable != NULL)
		*resumable = 0;
	if ((rc = corp_db_prep(db, &st, "SELECT user_id, active, "
	    "deactivated_by FROM binds WHERE channel = ?1 AND address = ?2 "
	    "ORDER BY active DESC, updated_at DESC, user_id LIMIT 1", err))
	    != 0)
		return rc;
	corp_bind_text(st, 1, channel);
	corp_bind_text(st, 2, address);
	rc = corp_step(st);
	if (rc == SQLITE_ROW) {
		*uid = corp_col_int64(st, 0);
		*active = corp_col_int(st, 1);
		if (resumable != NULL)
			*resumable = !*active &&
			    corp_binds_resumable(corp_col_text(st, 2));
	}
	corp_reset(st);
	if (rc == SQLITE_DONE)
		return corp_errf(err, CORP_ENOTFOUND, "no bind of %s address "
		    "%s", channel, address);
	if (rc != SQLITE_ROW)
		return corp_db_fail(db, rc, "read binds", err);
	return 0;
}

/* corp-bind import: the lines checked as they come, then one
 * transaction. */
struct bind_line {
	json_t		*obj;
	const char	*login, *channel, *address;	/* into obj */
	unsigned long	 lineno;
	const char	*name;
};

struct corp_binds_import {
	struct bind_line	*l;
	size_t			 n, cap;
};

struct corp_binds_import *
corp_binds_import_new(void)
{
	return calloc(1, sizeof(struct corp_binds_import));
}

void
corp_binds_import_free(struct corp_binds_import *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		json_decref(m->l[i].obj);
	free(m->l);
	free(m);
}

/*
 * One line's form: the three fields and nothing else, a channel corp
 * delivers on, an address of the channel's form.
 */
static int
import_line(json_t *obj, struct bind_line *l, struct corp_err *e)
{
	static const char *known[] = { "login", "channel", "address", NULL };
	const char *key;
	json_t *v;
	size_t i;
	int rc;

	json_object_foreach(obj, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL)
			return corp_errf(e, CORP_EINVAL, "unknown field \"%s\" "
			    "(a bind line has login, channel and address)",
			    key);
	}
	if (corp_json_str(obj, "login", &l->login, 1, e) != 0 ||
	    corp_json_str(obj, "channel", &l->channel, 1, e) != 0 ||
	    corp_json_str(obj, "address", &l->address, 1, e) != 0)
		return e->code;
	if (!corp_channel_valid(l->channel))
		return corp_errf(e, CORP_EINVAL, "channel '%s': expected 1-32 "
		    "of a-z 0-9 _ -", l->channel);
	/* A misspelt channel is 64 on a command line, 65 in a line. */
	if ((rc = corp_channel_check(l->channel, e)) != 0)
		return rc == CORP_EUSAGE ? (e->code = CORP_EINVAL) : rc;
	return corp_address_check(l->channel, l->address, e);
}

/* Has an earlier line already checked this target? */
static int
checked_before(const struct corp_binds_import *m, const struct bind_line *l)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->l[i].channel, l->channel) == 0 &&
		    strcmp(m->l[i].address, l->address) == 0)
			return 1;
	return 0;
}

static int
refuse_line(const struct bind_line *l, int rc, struct corp_err *err)
{
	char msg[sizeof(err->msg)];

	(void)strlcpy(msg, err->msg, sizeof(msg));
	return corp_errf(err, rc, "%s:%lu: %s; nothing imported", l->name,
	    l->lineno, msg);
}

int
corp_binds_import_add(struct corp_binds_import *m, struct corp_jsonl_item *it,
    struct corp_err *err)
{
	struct bind_line l = { .obj = it->obj, .lineno = it->lineno,
	    .name = it->name }, *nl;
	int rc;

	if ((rc = import_line(it->obj, &l, err)) != 0 ||
	    (corp_channel_shared(l.channel) && !checked_before(m, &l) &&
	    (rc = corp_bind_target_check(l.channel, l.address, err)) != 0))
		/* An unknown name on a line makes a bad line (65), as an
		 * unknown channel does; 64 is the command line's. */
		return rc == CORP_EINTERNAL ? rc : refuse_line(&l,
		    rc == CORP_EUSAGE ? CORP_EINVAL : rc, err);
	if (m->n == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 256;

		if ((nl = reallocarray(m->l, ncap, sizeof(*nl))) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		m->l = nl;
		m->cap = ncap;
	}
	m->l[m->n++] = l;
	it->obj = NULL;		/* kept */
	return 0;
}

struct import_commit {
	struct corp_binds_import *m;
	corp_result_fn		 fn;
	void			*arg;
};

static int
import_tx(struct corp_db *db, void *arg, struct corp_err *err)
{
	struct import_commit *a = arg;
	struct bind_line *l;
	struct corp_jsonl_item it;
	const char *res;
	long long uid;
	json_t *o;
	size_t i;
	int rc;

	for (i = 0; i < a->m->n; i++) {
		l = &a->m->l[i];
		if ((rc = corp_user_ref(db, l->login, &uid, err)) == 0)
			rc = corp_binds_put_tx(db, uid, l->channel, l->address,
			    &res, err);
		if (rc == CORP_EINTERNAL || rc == CORP_ETEMP)
			return rc;
		if (rc != 0)
			return refuse_line(l, rc, err);
		if ((o = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s}", "line",
		    (json_int_t)l->lineno, "login", l->login, "user_id",
		    (json_int_t)uid, "channel", l->channel, "address",
		    l->address, "result", res)) == NULL)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		it = (struct corp_jsonl_item){ .obj = l->obj,
		    .lineno = l->lineno, .name = l->name };
		a->fn(a->arg, &it, 0, err, o);
	}
	corp_errclear(err);
	return 0;
}

int
corp_binds_import_commit(struct corp_db *db, struct corp_binds_import *m,
    corp_result_fn fn, void *arg, struct corp_err *err)
{
	struct import_commit a = { m, fn, arg };

	return corp_db_tx(db, import_tx, &a, err);
}
