/*
 * check.c -- the invariants corp-db check verifies.  Each entry runs a
 * query that returns one row per problem (first column: a description);
 * the count and the first few descriptions are reported.
 */
#include <glob.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corp.h"
#include "check.h"
#include "cursor.h"
#include "db.h"
#include "email.h"
#include "event.h"
#include "catalog.h"
#include "execcmd.h"
#include "fmtline.h"
#include "fsutil.h"
#include "jsonl.h"
#include "names.h"
#include "notify.h"
#include "render.h"
#include "settings.h"
#include "webhookconf.h"

struct check {
	const char	*name;
	const char	*sql;	/* rows = problems; column 0 describes one */
};

static const struct check checks[] = {
	{ "integrity", "SELECT integrity_check FROM pragma_integrity_check "
	    "WHERE integrity_check <> 'ok'" },
	{ "foreign_keys", "SELECT \"table\" || ' rowid ' || "
	    "coalesce(rowid, '?') || ' -> ' || parent "
	    "FROM pragma_foreign_key_check" },
#include "check_list.h"
};

/*
 * PostgreSQL checks its own pages and enforces every foreign key at
 * once, so the first two become what can still be wrong there: an
 * index left invalid (a failed CREATE INDEX CONCURRENTLY, a crash) and a
 * foreign key or check not validated.
 */
static const struct check pg_checks[] = {
	/* The identity sequence, as sqlite_sequence on SQLite. */
	{ "event_sequence", "SELECT 'events sequence ' || "
	    "coalesce(s.last_value::text, 'unused') || ' is below "
	    "max(event_id) ' || m.mx FROM (SELECT max(event_id) mx "
	    "FROM events) m LEFT JOIN pg_sequences s ON s.schemaname = "
	    "current_schema() AND s.sequencename = 'events_event_id_seq' "
	    "WHERE m.mx IS NOT NULL AND (s.last_value IS NULL OR "
	    "s.last_value < m.mx)" },
	{ "watermark_within_events", "SELECT 'route watermark ' || "
	    "r.watermark || ' is beyond the last event ' || e.last "
	    "FROM route_state r, (SELECT GREATEST(coalesce((SELECT "
	    "last_value FROM pg_sequences WHERE schemaname = "
	    "current_schema() AND sequencename = 'events_event_id_seq'), 0), "
	    "coalesce((SELECT max(event_id) FROM events), 0)) AS last) e "
	    "WHERE r.watermark > e.last" },
	{ "integrity", "SELECT 'invalid index ' || c.relname "
	    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
	    "JOIN pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE n.nspname = current_schema() "
	    "AND (NOT i.indisvalid OR NOT i.indisready)" },
	{ "foreign_keys", "SELECT 'constraint ' || conname || ' not valid' "
	    "FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace "
	    "WHERE n.nspname = current_schema() AND NOT k.convalidated" },
};

#define nelem(a) (sizeof(a) / sizeof((a)[0]))

static int
append(char **detail, const char *s)
{
	char *n;
	size_t old = *detail ? strlen(*detail) : 0;

	if (old > 400)
		return 0;
	if (corp_asprintf(&n, "%s%s%s", *detail ? *detail : "",
	    *detail ? "; " : "", s ? s : "(null)") < 0)
		return -1;
	free(*detail);
	*detail = n;
	return 0;
}

/* Is db the file DATA_DIR/corp.db (the same file, by device and inode)? */
static int
own_db(struct corp_db *db)
{
	struct stat a, b;
	char *own;
	int yes;

	if (corp_asprintf(&own, "%s/corp.db", corp_cfg.data_dir) < 0)
		return 1;
	yes = stat(corp_db_path(db), &a) == 0 && stat(own, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	free(own);
	return yes;
}

/*
 * Files beside the database: every channel cursor (seed 000) names an
 * event that exists; a cursor beyond the last event would skip events
 * still to come.  A cursor file that cannot be read is a problem too.
 */
static int
check_cursors(struct corp_db *db, struct corp_check_result *r,
    struct corp_err *err)
{
	struct corp_cursor c;
	struct corp_err e;
	char *pat, buf[256];
	long long last;
	glob_t g;
	size_t i;
	int rc;

	r->name = "cursor_within_events";
	/*
	 * The cursor files are the data dir's: they say nothing about
	 * another SQLite file (a backup, a restored copy), which may well
	 * be older than they are.
	 */
	if (!corp_db_is_pg(db) && !own_db(db)) {
		r->skipped = 1;
		if (corp_asprintf(&r->detail, "skipped: %s is not the data "
		    "directory's database, whose cursor files these are",
		    corp_db_path(db)) < 0)
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		return 0;
	}
	if ((rc = corp_event_last_id(db, &last, err)) != 0)
		return rc;
	if (corp_asprintf(&pat, "%s/bot_deliveries_cursor_*.json",
	    corp_cfg.data_dir) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	memset(&g, 0, sizeof(g));
	rc = glob(pat, 0, NULL, &g);
	free(pat);
	if (rc != 0 && rc != GLOB_NOMATCH)
		return corp_errf(err, CORP_EINTERNAL, "%s: cannot list cursors",
		    corp_cfg.data_dir);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/');
		char ch[64];
		size_t n;

		base = base ? base + 1 : g.gl_pathv[i];
		n = strlen(base) - strlen("bot_deliveries_cursor_") -
		    strlen(".json");
		if (n == 0 || n >= sizeof(ch))
			continue;
		memcpy(ch, base + strlen("bot_deliveries_cursor_"), n);
		ch[n] = '\0';
		if (corp_cursor_get(ch, &c, &e) != 0) {
			r->problems++;
			append(&r->detail, e.msg);
			continue;
		}
		if (c.audit > last) {
			r->problems++;
			snprintf(buf, sizeof(buf), "cursor of channel %s at "
			    "event %lld, beyond the last event %lld", ch,
			    c.audit, last);
			append(&r->detail, buf);
		}
	}
	globfree(&g);
	return 0;
}

/* ---- configuration ------------------------------------------------ */

/* Count one problem of r and describe it. */
static void
problem(struct corp_check_result *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	r->problems++;
	append(&r->detail, buf);
}

/*
 * Every row of st as a JSON array of its first n columns (text or
 * integer), read to the end before the caller runs other queries: on
 * PostgreSQL they share the one connection.
 */
static int
rows(struct corp_db *db, struct corp_stmt *st, int n, json_t **out,
    struct corp_err *err)
{
	json_t *a, *row;
	int rc, i;

	if ((a = json_array()) == NULL) {
		corp_reset(st);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		row = json_array();
		for (i = 0; row != NULL && i < n; i++)
			json_array_append_new(row, corp_col_type(st, i) ==
			    SQLITE_INTEGER ? json_integer(corp_col_int64(st, i)) :
			    corp_json_strval(corp_col_text(st, i)));
		if (row == NULL || json_array_append_new(a, row) != 0) {
			corp_reset(st);
			json_decref(a);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
	}
	corp_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return corp_db_fail(db, rc, "read configuration", err);
	}
	*out = a;
	return 0;
}

#define COL(row, i) json_string_value(json_array_get((row), (i)))
#define NUM(row, i) ((long long)json_integer_value(json_array_get((row), (i))))
#define USERS(n) ((n) == 1 ? "user" : "users")

/* Does the prepared one-parameter query st return a row for v? */
static int
any(struct corp_db *db, struct corp_stmt *st, const char *v, int *yes,
    struct corp_err *err)
{
	corp_bind_text(st, 1, v);
	return corp_db_exists(db, st, yes, "read configuration", err);
}

/*
 * Enabled notification settings that can never fire: on a channel corp
 * does not deliver on; on a channel nobody is bound to that is not the
 * default channel (route makes rows only there; one problem per such
 * channel, however many settings); for an event type that is neither
 * built in nor seed 003's and was never emitted; for a role that is
 * neither a task role nor seed 003's and no emitted event names.
 */
static int
check_settings_fire(struct corp_db *db, struct corp_check_result *r,
    struct corp_err *err)
{
	struct corp_stmt *bound, *emitted, *st;
	json_t *a = NULL, *row, *unbound;
	char *def = NULL;
	const char *type, *role, *ch;
	size_t i;
	int rc, yes;

	r->name = "settings_fire";
	r->severity = "warning";
	if ((unbound = json_object()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_setting_get(db, "default_channel", &def, err)) != 0) {
		json_decref(unbound);
		return rc;
	}
	if ((rc = corp_db_prep(db, &st, "SELECT event_type, role, channel "
	    "FROM notification_settings WHERE enabled = 1 "
	    "ORDER BY event_type, role, channel", err)) != 0 ||
	    (rc = rows(db, st, 3, &a, err)) != 0 ||
	    (rc = corp_db_prep(db, &bound, "SELECT 1 FROM binds "
	    "WHERE channel = ?1", err)) != 0 ||
	    (rc = corp_db_prep(db, &emitted, "SELECT 1 FROM events "
	    "WHERE event_type = ?1 AND topic IS NULL", err)) != 0)
		goto out;
	json_array_foreach(a, i, row) {
		type = COL(row, 0);
		role = COL(row, 1);
		ch = COL(row, 2);
		if (!corp_channel_known(ch)) {
			problem(r, "%s/%s on %s: corp does not deliver on '%s'",
			    type, role, ch, ch);
			continue;
		}
		if (strcmp(ch, def) != 0) {
			if ((rc = any(db, bound, ch, &yes, err)) != 0)
				goto out;
			if (!yes) {
				/* One problem per channel, not per setting. */
				json_object_set_new(unbound, ch, json_integer(
				    json_integer_value(json_object_get(unbound,
				    ch)) + 1));
				continue;
			}
		}
		if (!corp_event_type_builtin(type) &&
		    !corp_event_type_shipped(type)) {
			if ((rc = any(db, emitted, type, &yes, err)) != 0)
				goto out;
			if (!yes) {
				problem(r, "%s/%s on %s: no event of type %s "
				    "was ever emitted", type, role, ch, type);
				continue;
			}
		}
		if (!corp_role_builtin(role)) {
			if ((rc = corp_event_role_emitted(db, role, &yes, err)) != 0)
				goto out;
			if (!yes)
				problem(r, "%s/%s on %s: no emitted event names "
				    "role %s", type, role, ch, role);
		}
	}
	json_object_foreach(unbound, ch, row)
		problem(r, "%lld enabled setting%s on %s: nobody is bound to %s "
		    "and it is not the default channel (%s)",
		    (long long)json_integer_value(row),
		    json_integer_value(row) == 1 ? "" : "s", ch, ch, def);
out:
	json_decref(a);
	json_decref(unbound);
	free(def);
	return rc;
}

/*
 * Names stored before they were checked (or by hand) that match
 * nothing: config keys and values corp-settings would refuse now, mutes
 * of unknown channels or event types, users' languages without a
 * catalog, zones outside the tz database.
 */
static int
check_stored_names(struct corp_db *db, struct corp_check_result *r,
    struct corp_err *err)
{
	struct corp_stmt *st;
	struct corp_err e;
	json_t *a = NULL, *row;
	const char *v;
	size_t i;
	int rc;

	r->name = "stored_names";
	r->severity = "warning";
	if ((rc = corp_db_prep(db, &st, "SELECT key, value FROM config "
	    "ORDER BY key", err)) != 0 || (rc = rows(db, st, 2, &a, err)) != 0)
		return rc;
	json_array_foreach(a, i, row)
		if ((rc = corp_setting_check(COL(row, 0), COL(row, 1),
		    CORP_SETTING_FORCE, &e)) != 0)
			problem(r, "config: %s", e.msg);
	json_decref(a);
	if ((rc = corp_db_prep(db, &st, "SELECT kind, value, count(*) FROM "
	    "user_mutes GROUP BY kind, value ORDER BY kind, value", err)) != 0 ||
	    (rc = rows(db, st, 3, &a, err)) != 0)
		return rc;
	json_array_foreach(a, i, row) {
		v = COL(row, 1);
		if (strcmp(COL(row, 0), "channel") == 0) {
			if (!corp_channel_known(v))
				problem(r, "mute of channel '%s' (%lld %s): "
				    "corp does not deliver on it", v,
				    NUM(row, 2), USERS(NUM(row, 2)));
		} else if ((rc = corp_event_type_check(db, v, 0, &e)) != 0) {
			if (rc != CORP_EUSAGE && rc != CORP_EINVAL) {
				*err = e;
				json_decref(a);
				return rc;
			}
			problem(r, "mute of event type '%s' (%lld %s): %s",
			    v, NUM(row, 2), USERS(NUM(row, 2)), e.msg);
		}
	}
	json_decref(a);
	if ((rc = corp_db_prep(db, &st, "SELECT lang, count(*) FROM users "
	    "WHERE lang IS NOT NULL GROUP BY lang ORDER BY lang", err)) != 0 ||
	    (rc = rows(db, st, 2, &a, err)) != 0)
		return rc;
	json_array_foreach(a, i, row)
		if ((rc = corp_lang_check(COL(row, 0), &e)) != 0)
			problem(r, "language of %lld %s: %s", NUM(row, 1),
			    USERS(NUM(row, 1)), e.msg);
	json_decref(a);
	if ((rc = corp_db_prep(db, &st, "SELECT 'users', tz, count(*) "
	    "FROM users WHERE tz IS NOT NULL GROUP BY tz UNION ALL "
	    "SELECT 'units', tz, count(*) FROM org_units WHERE tz IS NOT NULL "
	    "GROUP BY tz ORDER BY 1 DESC, 2", err)) != 0 ||
	    (rc = rows(db, st, 3, &a, err)) != 0)
		return rc;
	json_array_foreach(a, i, row)
		if (!corp_zone_known(COL(row, 1)))
			problem(r, "time zone '%s' of %lld %s is not in the tz "
			    "database", COL(row, 1), NUM(row, 2),
			    strcmp(COL(row, 0), "users") != 0 ? (NUM(row, 2) ==
			    1 ? "unit" : "units") : USERS(NUM(row, 2)));
	json_decref(a);
	return 0;
}

/* Links in events and messages are bare paths without base_url. */
static int
check_base_url(struct corp_db *db, struct corp_check_result *r,
    struct corp_err *err)
{
	char *v;
	int rc;

	r->name = "base_url";
	r->severity = "warning";
	if ((rc = corp_setting_get(db, "base_url", &v, err)) != 0)
		return rc;
	if (*v == '\0')
		problem(r, "base_url is not set: links in events and messages "
		    "are bare paths such as /tasks/7 (corp-settings config set "
		    "base_url https://...)");
	free(v);
	return 0;
}

/* Is name one of the NULL-terminated names? */
static int
listed(char **names, const char *name)
{
	for (; names != NULL && *names != NULL; names++)
		if (strcmp(*names, name) == 0)
			return 1;
	return 0;
}

/*
 * The secret of webhook endpoint name, as corp-send reads it: 0, and
 * when it is not usable the problem in *why (a fresh string, starting
 * with its separator; never the secret).
 */
static int
webhook_secret(const char *name, char **why, struct corp_err *err)
{
	struct corp_err e;
	char *sname, *secret;
	int rc;

	*why = NULL;
	if (corp_asprintf(&sname, "webhook-%s", name) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	rc = corp_secret(NULL, sname, &secret, &e);
	if (rc == 0) {
		/* corp-send's rule: a malformed secret holds the rows. */
		if (corp_webhook_secret_check(secret, sname, &e) != 0)
			rc = corp_asprintf(why, ": %s/secrets/%s",
			    corp_cfg.data_dir, e.msg);
		explicit_bzero(secret, strlen(secret));
		free(secret);
	} else if (rc == CORP_ENOTFOUND)
		rc = corp_asprintf(why, " has no secret %s/secrets/%s",
		    corp_cfg.data_dir, sname);
	else
		rc = corp_asprintf(why, ": %s", e.msg);
	free(sname);
	if (rc < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

/*
 * What the channels users are bound to need to send at all: every
 * webhook endpoint an active bind names is defined in webhooks.conf and
 * has its secret, every exec name is in exec.conf.  Without it corp-send
 * holds the rows.
 */
static int
check_channel_config(struct corp_db *db, struct corp_check_result *r,
    struct corp_err *err)
{
	struct corp_stmt *st;
	struct corp_err e;
	json_t *a = NULL, *row;
	const char *ch, *name;
	char *why, *path, **defined = NULL;
	long long n;
	size_t i;
	int rc, conf = -1;

	r->name = "channel_config";
	r->severity = "config";
	if ((rc = corp_db_prep(db, &st, "SELECT channel, address, count(*) "
	    "FROM binds WHERE active = 1 AND channel IN ('webhook', 'exec') "
	    "GROUP BY channel, address ORDER BY channel, address", err)) != 0 ||
	    (rc = rows(db, st, 3, &a, err)) != 0)
		return rc;
	json_array_foreach(a, i, row) {
		ch = COL(row, 0);
		name = COL(row, 1);
		n = NUM(row, 2);
		/* A name, never a path: secrets/ and exec.conf key by it. */
		if (*name == '\0' || *name == '.' || strlen(name) > 64 ||
		    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789_.-") != strlen(name)) {
			problem(r, "%s binds of %lld %s name '%s', not an "
			    "%s of %s", ch, n, USERS(n), name,
			    strcmp(ch, "webhook") == 0 ? "endpoint" : "command",
			    strcmp(ch, "webhook") == 0 ? "webhooks.conf" :
			    "exec.conf");
			continue;
		}
		if (strcmp(ch, "exec") == 0) {
			if ((rc = corp_exec_lookup(name, &path, &e)) == 0)
				free(path);
			else
				problem(r, "exec command '%s' (bound by %lld "
				    "%s): %s", name, n, USERS(n), e.msg);
			continue;
		}
		/* webhooks.conf, read once: a broken one holds every row. */
		if (conf < 0) {
			conf = corp_webhook_names(&defined, &e);
			if (conf == CORP_ENOTFOUND)
				defined = NULL;
			else if (conf != 0)
				problem(r, "webhook endpoints (bound by some "
				    "users): %s", e.msg);
		}
		if (conf == 0 || conf == CORP_ENOTFOUND) {
			if (!listed(defined, name)) {
				problem(r, "webhook endpoint '%s' (bound by "
				    "%lld %s) is not defined in %s/"
				    "webhooks.conf", name, n, USERS(n),
				    corp_cfg.data_dir);
				continue;
			}
		}
		if ((rc = webhook_secret(name, &why, err)) != 0)
			goto out;
		if (why != NULL)
			problem(r, "webhook endpoint '%s' (bound by %lld %s)%s",
			    name, n, USERS(n), why);
		free(why);
	}
	rc = 0;
out:
	corp_webhook_names_free(defined);
	json_decref(a);
	return rc;
}

/*
 * What the telegram and email channels need to send, as this process
 * sees it: the bot token; smtp.conf with a server and, when it names a
 * user, the SMTP password.  A warning, not a configuration error: the
 * delivery job may get a secret from its own environment
 * (CORP_TELEGRAM_TOKEN, CORP_SMTP_PASSWORD), which check cannot see;
 * without it corp-send holds every row (78).
 */
static int
check_channel_secrets(struct corp_db *db, struct corp_check_result *r,
    struct corp_err *err)
{
	struct corp_smtp_conf c = { NULL, NULL, NULL };
	struct corp_stmt *st;
	struct corp_err e;
	json_t *a = NULL, *row;
	const char *ch;
	char *secret;
	long long n;
	size_t i;
	int rc;

	r->name = "channel_secrets";
	r->severity = "warning";
	if ((rc = corp_db_prep(db, &st, "SELECT channel, count(DISTINCT "
	    "user_id) FROM binds WHERE active = 1 AND channel IN ('email', "
	    "'telegram') GROUP BY channel ORDER BY channel", err)) != 0 ||
	    (rc = rows(db, st, 2, &a, err)) != 0)
		return rc;
	json_array_foreach(a, i, row) {
		ch = COL(row, 0);
		n = NUM(row, 1);
		secret = NULL;
		if (strcmp(ch, "telegram") == 0) {
			if (corp_secret(corp_cfg.telegram_token,
			    "telegram_token", &secret, &e) != 0)
				problem(r, "telegram (bound by %lld %s): no bot "
				    "token here: %s; rows are held unless the "
				    "delivery job's environment gives it", n,
				    USERS(n), e.msg);
		} else if (corp_smtp_conf_load(&c, &e) != 0)
			problem(r, "email (bound by %lld %s): %s", n, USERS(n),
			    e.msg);
		else if (c.url == NULL || c.from == NULL)
			problem(r, "email (bound by %lld %s): %s/smtp.conf "
			    "%s; rows are held unless the delivery job gives "
			    "--smtp-url and --from", n, USERS(n),
			    corp_cfg.data_dir, c.url == NULL && c.from == NULL ?
			    "names no url and no from (or is missing)" :
			    c.url == NULL ? "names no url" : "names no from");
		else if (c.user != NULL && corp_secret(corp_cfg.smtp_password,
		    "smtp_password", &secret, &e) != 0)
			problem(r, "email (bound by %lld %s): no SMTP password "
			    "here: %s; rows are held unless the delivery "
			    "job's environment gives it", n, USERS(n), e.msg);
		if (secret != NULL) {
			explicit_bzero(secret, strlen(secret));
			free(secret);
		}
	}
	free(c.url);
	free(c.from);
	free(c.user);
	json_decref(a);
	return 0;
}

/*
 * Endpoints webhooks.conf defines that no active bind names: without
 * their secret nothing is held yet (no row goes there), but the first
 * user bound would have every row held.  A warning.
 */
static int
check_webhook_endpoints(struct corp_db *db, struct corp_check_result *r,
    struct corp_err *err)
{
	struct corp_stmt *bound;
	struct corp_err e;
	char **names = NULL, *why;
	size_t i;
	int rc, yes;

	r->name = "webhook_endpoints";
	r->severity = "warning";
	if ((rc = corp_webhook_names(&names, &e)) == CORP_ENOTFOUND)
		return 0;
	if (rc != 0) {
		problem(r, "%s", e.msg);
		return 0;
	}
	if ((rc = corp_db_prep(db, &bound, "SELECT 1 FROM binds WHERE "
	    "active = 1 AND channel = 'webhook' AND address = ?1", err)) != 0)
		goto out;
	for (i = 0; names[i] != NULL; i++) {
		if ((rc = any(db, bound, names[i], &yes, err)) != 0)
			goto out;
		if (yes)	/* channel_config's */
			continue;
		if ((rc = webhook_secret(names[i], &why, err)) != 0)
			goto out;
		if (why != NULL)
			problem(r, "webhook endpoint '%s' (no active bind)%s",
			    names[i], why);
		free(why);
	}
out:
	corp_webhook_names_free(names);
	return rc;
}

/*
 * Catalog keys whose placeholders an event type that uses them cannot
 * always fill (corp_render_unfillable; the shipped catalogs and the
 * operator's DATA_DIR/i18n, as corp-fmt loads them, against the enabled
 * notification settings): corp-fmt holds such rows.  Catalogs that do
 * not load at all are one problem.
 */
static int
check_catalog_placeholders(struct corp_db *db, struct corp_check_result *r,
    struct corp_err *err)
{
	struct corp_catalog *cat;
	struct corp_err e;
	json_t *uses = NULL, *out = NULL, *o;
	size_t i;
	int rc;

	r->name = "catalog_placeholders";
	r->severity = "config";
	if ((rc = corp_notify_list(db, NULL, NULL, NULL, &uses, err)) != 0)
		return rc;
	if (corp_fmt_catalog(&cat, NULL, 0, &e) != 0) {
		problem(r, "catalogs: %s", e.msg);
		json_decref(uses);
		return 0;
	}
	rc = corp_render_unfillable(cat, uses, &out, err);
	corp_catalog_free(cat);
	json_decref(uses);
	if (rc != 0)
		return rc;
	json_array_foreach(out, i, o)
		problem(r, "%s", json_string_value(json_object_get(o,
		    "problem")));
	json_decref(out);
	return 0;
}

int
corp_check_run(struct corp_db *db, struct corp_check_result **out,
    size_t *np, struct corp_err *err)
{
	static int (*const extra[])(struct corp_db *,
	    struct corp_check_result *, struct corp_err *) = {
		check_cursors, check_channel_config,
		check_catalog_placeholders, check_settings_fire,
		check_webhook_endpoints, check_channel_secrets,
		check_stored_names, check_base_url,
	};
	size_t n = sizeof(checks) / sizeof(checks[0]), i, j;
	struct corp_check_result *r;
	struct corp_stmt *st;
	struct corp_err e;
	int rc;

	if ((r = calloc(n + nelem(extra), sizeof(*r))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		const char *sql = checks[i].sql;

		r[i].name = checks[i].name;
		r[i].severity = "error";
		for (j = 0; corp_db_is_pg(db) && j < nelem(pg_checks); j++)
			if (strcmp(pg_checks[j].name, checks[i].name) == 0)
				sql = pg_checks[j].sql;
		rc = corp_db_prep_once(db, &st, sql, &e);
		if (rc != 0) {
			/* Corruption can surface here: that is a finding. */
			r[i].problems = 1;
			append(&r[i].detail, e.msg);
			continue;
		}
		while ((rc = corp_step(st)) == SQLITE_ROW) {
			r[i].problems++;
			if (append(&r[i].detail, corp_col_text(st, 0)) != 0) {
				corp_stmt_free(st);
				corp_check_free(r, n);
				return corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
			}
		}
		if (rc != SQLITE_DONE) {
			int prim = rc & 0xff;

			if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
				corp_stmt_free(st);
				corp_check_free(r, n);
				return corp_db_fail(db, rc, checks[i].name, err);
			}
			r[i].problems++;
			append(&r[i].detail, corp_db_errmsg(db));
		}
		corp_stmt_free(st);
	}
	for (i = 0; i < nelem(extra); i++) {
		r[n + i].severity = "error";
		if ((rc = extra[i](db, &r[n + i], err)) != 0) {
			corp_check_free(r, n + nelem(extra));
			return rc;
		}
	}
	*out = r;
	*np = n + nelem(extra);
	return 0;
}

void
corp_check_free(struct corp_check_result *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(r[i].detail);
	free(r);
}
