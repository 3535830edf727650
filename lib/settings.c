/* settings.c -- see settings.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "directory.h"
#include "jsonl.h"
#include "names.h"
#include "settings.h"

/*
 * THE table of settings: key, default, and the one rule its value is
 * held to (corp.7 CONFIGURATION lists the same).  Keys ending in '.'
 * take a channel suffix: "attempts.telegram".  Every value is checked
 * against its rule (settings_check.c) at config set, and again by
 * corp-db check for values stored before a rule existed; no other code
 * judges a stored value.  The rules live apart so that the tools that
 * only read settings do not link libcurl (whose URL parser two rules
 * use).
 */
static const struct {
	const char		*key, *def;
	enum corp_setting_rule	 rule;
} known[] = {
	{ "default_channel", "telegram", CORP_RULE_CHANNEL },
	{ "attempts.", "10", CORP_RULE_ATTEMPTS },
	{ "backoff.", "30s,2,6h", CORP_RULE_BACKOFF },
	{ "hold_max_age", "7d", CORP_RULE_DURATION },
	{ "fallback_after", "0", CORP_RULE_DURATION0 },
	{ "fallback_lang", "en", CORP_RULE_LANG },
	{ "telegram.bot_username", "", CORP_RULE_BOT },
	{ "telegram.max_pause", "1h", CORP_RULE_MAX_PAUSE },
	{ "webhook.allow", "", CORP_RULE_RANGES },
	{ "broadcast_share", "0.5", CORP_RULE_SHARE },
	{ "base_url", "", CORP_RULE_LINK },
	{ "openai.url", "https://api.openai.com", CORP_RULE_API_URL },
	{ "openai.model", "gpt-4o-mini", CORP_RULE_MODEL },
	{ "messages.retention", "90d", CORP_RULE_DURATION },
	{ "messages.per_chat_max", "20000", CORP_RULE_CHAT_MAX },
	{ "push.subject", "", CORP_RULE_PUSH_SUBJECT },
};
#define NKNOWN (sizeof(known) / sizeof(known[0]))

static int
channel_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") == n;
}

/* The entry of key in known[], or NKNOWN. */
static size_t
lookup_at(const char *key)
{
	size_t i, n;

	for (i = 0; i < NKNOWN; i++) {
		n = strlen(known[i].key);
		if (known[i].key[n - 1] == '.') {
			if (strncmp(key, known[i].key, n) == 0 &&
			    channel_ok(key + n))
				return i;
		} else if (strcmp(key, known[i].key) == 0)
			return i;
	}
	return NKNOWN;
}

static int
lookup(const char *key, const char **def)
{
	size_t i;

	if ((i = lookup_at(key)) == NKNOWN)
		return -1;
	*def = known[i].def;
	return 0;
}

/*
 * The key known, its default in *def, and for a per-channel key a
 * channel corp knows; else CORP_EUSAGE (an unknown name, names.h) with
 * the closest known key, or CORP_EINVAL for a malformed channel.
 */
static int
key_check(const char *key, const char **def, struct corp_err *err)
{
	const char *cands[NKNOWN * 8 + 1], *s;
	char *made[NKNOWN * 8];
	size_t i, j, n = 0, nmade = 0, len;
	int rc;

	/* A per-channel key: the channel well formed (65) and known (64). */
	len = strcspn(key, ".") + 1;
	for (i = 0; key[len - 1] == '.' && i < NKNOWN; i++)
		if (strncmp(known[i].key, key, len) == 0 &&
		    known[i].key[len] == '\0' &&
		    (rc = corp_channel_check(key + len, err)) != 0)
			return corp_errprefix(err, "%s", key), rc;
	if (lookup(key, def) == 0)
		return 0;
	/* Every fixed key, and each per-channel key on every channel. */
	for (i = 0; i < NKNOWN; i++) {
		len = strlen(known[i].key);
		if (known[i].key[len - 1] != '.') {
			cands[n++] = known[i].key;
			continue;
		}
		for (j = 0; corp_channels[j] != NULL && nmade < NKNOWN * 8 - 1;
		    j++) {
			if (corp_asprintf(&made[nmade], "%s%s", known[i].key,
			    corp_channels[j]) < 0)
				break;
			cands[n++] = made[nmade++];
		}
	}
	cands[n] = NULL;
	if ((s = corp_suggest(key, cands, 2)) != NULL)
		rc = corp_errf(err, CORP_EUSAGE, "unknown setting '%s' (did "
		    "you mean '%s'?)", key, s);
	else
		rc = corp_errf(err, CORP_EUSAGE, "unknown setting '%s' (see "
		    "corp(7) CONFIGURATION)", key);
	for (i = 0; i < nmade; i++)
		free(made[i]);
	return rc;
}

int
corp_setting_key_check(const char *key, struct corp_err *err)
{
	const char *def;

	return key_check(key, &def, err);
}

int
corp_setting_rule_of(const char *key, enum corp_setting_rule *rule,
    struct corp_err *err)
{
	const char *def;
	int rc;

	if ((rc = key_check(key, &def, err)) != 0)
		return rc;
	*rule = known[lookup_at(key)].rule;
	return 0;
}

int
corp_backoff_parse(const char *s, struct corp_backoff *b,
    struct corp_err *err)
{
	char *copy, *p, *f1, *f2, *f3, *end;
	int rc = 0;

	if ((copy = strdup(s)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	p = copy;
	f1 = strsep(&p, ",");
	f2 = strsep(&p, ",");
	f3 = strsep(&p, ",");
	if (f1 == NULL || f2 == NULL || f3 == NULL || p != NULL) {
		rc = corp_errf(err, CORP_EINVAL,
		    "backoff '%s': expected BASE,FACTOR,CAP (e.g. 30s,2,1h)",
		    s);
		goto out;
	}
	if ((rc = corp_duration_parse(f1, &b->base, err)) != 0 ||
	    (rc = corp_duration_parse(f3, &b->cap, err)) != 0) {
		corp_errprefix(err, "backoff");
		goto out;
	}
	errno = 0;
	b->factor = strtod(f2, &end);
	if (errno != 0 || *end != '\0' || !(b->factor >= 1 &&
	    b->factor <= 100)) {
		rc = corp_errf(err, CORP_EINVAL,
		    "backoff factor '%s': expected a number from 1 to 100", f2);
		goto out;
	}
	if (b->cap < b->base)
		rc = corp_errf(err, CORP_EINVAL,
		    "backoff '%s': the cap is below the base", s);
out:
	free(copy);
	return rc;
}

int
corp_setting_get(struct corp_db *db, const char *key, char **out,
    struct corp_err *err)
{
	const char *def, *v;
	struct corp_stmt *st;
	int rc;

	*out = NULL;
	/*
	 * Lenient about the channel of a per-channel key: the queue asks
	 * for the rows it has, whatever channel an older corp stored.
	 */
	if (lookup(key, &def) != 0 && (rc = key_check(key, &def, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st,
	    "SELECT value FROM config WHERE key = ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, key);
	rc = corp_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		corp_reset(st);
		return corp_db_fail(db, rc, "read config", err);
	}
	v = rc == SQLITE_ROW ? corp_col_text(st, 0) : def;
	*out = strdup(v ? v : "");
	corp_reset(st);
	if (*out == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

int
corp_setting_unset(struct corp_db *db, const char *key, struct corp_err *err)
{
	const char *def;
	struct corp_stmt *st;
	struct corp_err bad;
	int rc, refused;

	/*
	 * A per-channel key on a channel corp does not know (stored before
	 * channels were checked) may still be removed; nothing else.
	 */
	if ((refused = key_check(key, &def, &bad)) != 0 &&
	    lookup(key, &def) != 0)
		return corp_errf(err, bad.code, "%s", bad.msg);
	if ((rc = corp_db_prep(db, &st, "DELETE FROM config WHERE key = ?1",
	    err)) != 0)
		return rc;
	corp_bind_text(st, 1, key);
	if ((rc = corp_db_exec(db, st, "write config", err)) != 0)
		return rc;
	if (refused && corp_db_changes(db) == 0)
		return corp_errf(err, bad.code, "%s", bad.msg);
	return 0;
}

int
corp_setting_each(struct corp_db *db, corp_setting_fn fn, void *arg,
    struct corp_err *err)
{
	struct corp_stmt *st;
	size_t i;
	int rc;

	/* Fixed keys first, each with its value or NULL. */
	for (i = 0; i < NKNOWN; i++) {
		const char *k = known[i].key;
		char *cur = NULL;

		if (k[strlen(k) - 1] == '.')
			continue;
		if ((rc = corp_db_prep(db, &st,
		    "SELECT value FROM config WHERE key = ?1", err)) != 0)
			return rc;
		corp_bind_text(st, 1, k);
		if (corp_step(st) == SQLITE_ROW)
			cur = strdup(corp_col_text(st, 0));
		corp_reset(st);
		rc = fn(k, known[i].def, cur, arg);
		free(cur);
		if (rc != 0)
			return rc;
	}
	/* Then per-channel keys that are set. */
	if ((rc = corp_db_prep(db, &st, "SELECT key, value FROM config "
	    "WHERE key LIKE 'attempts.%' OR key LIKE 'backoff.%' "
	    "ORDER BY key", err)) != 0)
		return rc;
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		const char *k = corp_col_text(st, 0), *def;

		if (lookup(k, &def) != 0)
			continue;
		if ((rc = fn(k, def, corp_col_text(st, 1),
		    arg)) != 0) {
			corp_reset(st);
			return rc;
		}
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read config", err);
	return 0;
}

static int
getkey(struct corp_db *db, const char *prefix, const char *channel,
    char **out, struct corp_err *err)
{
	char *key;
	int rc;

	if (corp_asprintf(&key, "%s%s", prefix, channel) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	rc = corp_setting_get(db, key, out, err);
	free(key);
	return rc;
}

int
corp_setting_attempts(struct corp_db *db, const char *channel, int *n,
    struct corp_err *err)
{
	char *v;
	int rc;

	if ((rc = getkey(db, "attempts.", channel, &v, err)) != 0)
		return rc;
	*n = (int)strtol(v, NULL, 10);
	if (*n < 1)
		*n = 1;
	free(v);
	return 0;
}

int
corp_setting_backoff(struct corp_db *db, const char *channel,
    struct corp_backoff *b, struct corp_err *err)
{
	char *v;
	int rc;

	if ((rc = getkey(db, "backoff.", channel, &v, err)) != 0)
		return rc;
	rc = corp_backoff_parse(v, b, err);
	free(v);
	return rc;
}

int
corp_setting_duration(struct corp_db *db, const char *key, long long *secs,
    struct corp_err *err)
{
	char *v;
	int rc;

	if ((rc = corp_setting_get(db, key, &v, err)) != 0)
		return rc;
	/* "0" is a value only where the key's rule allows it (never). */
	if (strcmp(v, "0") == 0) {
		*secs = 0;
		rc = 0;
	} else
		rc = corp_duration_parse(v, secs, err);
	free(v);
	return rc;
}

struct rows {
	const char	*only;
	json_t		*rows;
};

static int
row(const char *key, const char *def, const char *cur, void *arg)
{
	struct rows *r = arg;

	if (r->only != NULL && strcmp(key, r->only) != 0)
		return 0;
	if (json_array_append_new(r->rows, json_pack("{s:s, s:o, s:s}",
	    "key", key, "value", corp_json_strval(cur), "default", def)) != 0)
		return CORP_EINTERNAL;
	return 0;
}

int
corp_setting_rows(struct corp_db *db, const char *only, json_t **rows,
    struct corp_err *err)
{
	struct rows r = { only, json_array() };
	int rc;

	corp_errclear(err);
	if (r.rows == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_setting_each(db, row, &r, err)) != 0) {
		json_decref(r.rows);
		return rc;
	}
	*rows = r.rows;
	return 0;
}
