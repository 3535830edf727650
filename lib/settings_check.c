/*
 * settings_check.c -- the rule each setting's value is held to, named
 * by settings.c's one table of keys (settings.h).  Apart from
 * settings.c so that the tools that only read settings do not link
 * libcurl, whose URL parser (CURLU) the URL rules use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "http.h"
#include "names.h"
#include "netaddr.h"
#include "settings.h"
#include "tgbot.h"
#include "webpush.h"

static int
v_channel(const char *key, const char *v, int flags, struct corp_err *err)
{
	(void)flags;
	if (corp_channel_check(v, err) != 0)
		return corp_errprefix(err, "%s", key);
	return 0;
}

/* A whole number in [min, max]. */
static int
v_range(const char *key, const char *v, long long min, long long max,
    struct corp_err *err)
{
	long long n;
	char *end;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v || n < min || n > max)
		return corp_errf(err, CORP_EINVAL,
		    "%s: expected %lld..%lld, got '%s'", key, min, max, v);
	return 0;
}

static int
v_attempts(const char *key, const char *v, int flags, struct corp_err *err)
{
	(void)flags;
	return v_range(key, v, 1, 100, err);
}

/* messages.per_chat_max: messages kept per chat (corp-msg(1)). */
static int
v_chat_max(const char *key, const char *v, int flags, struct corp_err *err)
{
	(void)flags;
	return v_range(key, v, 1, 10000000, err);
}

static int
v_backoff(const char *key, const char *v, int flags, struct corp_err *err)
{
	struct corp_backoff b;

	(void)key;
	(void)flags;
	return corp_backoff_parse(v, &b, err);
}

static int
v_duration(const char *key, const char *v, int flags, struct corp_err *err)
{
	long long n;

	(void)flags;
	if (corp_duration_parse(v, &n, err) != 0)
		return corp_errprefix(err, "%s", key);
	return 0;
}

/* A duration, or "0" for never (fallback_after). */
static int
v_duration0(const char *key, const char *v, int flags, struct corp_err *err)
{
	long long n;

	(void)flags;
	if (strcmp(v, "0") == 0 || corp_duration_parse(v, &n, err) == 0)
		return 0;
	return corp_errf(err, CORP_EINVAL, "%s: '%s': expected a duration "
	    "(30m, 1h30m, 2d) or 0 for never", key, v);
}

static int
v_max_pause(const char *key, const char *v, int flags, struct corp_err *err)
{
	long long n;

	(void)flags;
	if (corp_duration_parse(v, &n, err) != 0)
		return corp_errprefix(err, "%s", key);
	if (n > 86400)
		return corp_errf(err, CORP_EINVAL,
		    "%s: at most 1d, got '%s'", key, v);
	return 0;
}

static int
v_share(const char *key, const char *v, int flags, struct corp_err *err)
{
	char *end;
	double d;

	(void)flags;
	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || *end != '\0' || end == v || !(d > 0 && d <= 1))
		return corp_errf(err, CORP_EINVAL,
		    "%s: expected a number in (0, 1], got '%s'", key, v);
	return 0;
}

static int
v_lang(const char *key, const char *v, int flags, struct corp_err *err)
{
	(void)flags;
	/* Catalogs name languages in lower case: "en", "pt_BR". */
	if (strlen(v) < 2 || strlen(v) > 8 ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz-_ABCDEFGHIJKLMNOPQRS"
	    "TUVWXYZ") != strlen(v))
		return corp_errf(err, CORP_EINVAL,
		    "%s: '%s' is not a language code", key, v);
	if (corp_lang_check(v, err) != 0)
		return corp_errprefix(err, "%s", key);
	return 0;
}

/* Telegram's rule for a bot's username (tgbot.h). */
static int
v_bot(const char *key, const char *v, int flags, struct corp_err *err)
{
	(void)flags;
	if (*v == '@' && corp_tg_username_ok(v + 1))
		return corp_errf(err, CORP_EINVAL, "%s: '%s': give the "
		    "username without the @ ('%s')", key, v, v + 1);
	if (!corp_tg_username_ok(v))
		return corp_errf(err, CORP_EINVAL, "%s: '%s' is not a bot "
		    "username (Telegram's rule: 5-32 of A-Z a-z 0-9 _, "
		    "starting with a letter, ending in 'bot')", key, v);
	return 0;
}

/*
 * An IPv6 range inside ::ffff:0:0/96 (IPv4-mapped), ::ffff:0:0:0/96
 * (IPv4-translated, SIIT) or 64:ff9b::/96 (NAT64) is IPv4 in other words: judged by the width of the IPv4 range
 * it embeds (::ffff:0:0/96 is all of IPv4).
 */
static int
embeds_wide_v4(const struct corp_cidr *c)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const unsigned char siit[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	    0xff, 0, 0 };

	if (c->family != AF_INET6 || c->bits < 96)
		return 0;
	if (memcmp(c->addr, mapped, 12) != 0 &&
	    memcmp(c->addr, siit, 12) != 0 && memcmp(c->addr, nat64, 12) != 0)
		return 0;
	return c->bits - 96 < 8;
}

/*
 * Address ranges, separated by commas or blanks; each with no host bits
 * set (corp_cidr_add), and none wider than 10.0.0.0/8 or fc00::/7
 * unless forced: such a range lets webhooks reach most special-purpose
 * ranges, the cloud metadata address 169.254.169.254 among them.
 */
static int
v_allow(const char *key, const char *v, int flags, struct corp_err *err)
{
	struct corp_cidr *list = NULL;
	char *copy, *p, *tok, *save = NULL;
	size_t n = 0, i;
	int rc = 0;

	if ((copy = strdup(v)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (p = copy; rc == 0 && (tok = strtok_r(p, ", \t", &save)) !=
	    NULL; p = NULL) {
		if ((rc = corp_cidr_add(&list, &n, tok, err)) != 0) {
			if (rc == CORP_EUSAGE)
				rc = err->code = CORP_EINVAL;
			corp_errprefix(err, "%s", key);
			break;
		}
		i = n - 1;
		if (!(flags & CORP_SETTING_FORCE) && (list[i].bits <
		    (list[i].family == AF_INET ? 8 : 7) ||
		    embeds_wide_v4(&list[i])))
			rc = corp_errf(err, CORP_EINVAL, "%s: '%s' is wider "
			    "than %s: it would let webhooks reach most "
			    "special-purpose addresses, 169.254.169.254 among "
			    "them (name the ranges you need, or set it with "
			    "--force)", key, tok, list[i].family == AF_INET ?
			    "/8" : embeds_wide_v4(&list[i]) ?
			    "/8 of IPv4 (it is IPv4 in IPv6 form)" : "/7");
	}
	if (rc == 0 && n == 0)
		rc = corp_errf(err, CORP_EINVAL, "%s: no address range (use "
		    "config unset to allow none)", key);
	free(list);
	free(copy);
	return rc;
}

/* A link people open: http:// or https://, on libcurl's parse. */
static int
v_link(const char *key, const char *v, int flags, struct corp_err *err)
{
	(void)flags;
	return corp_url_check(v, CORP_URL_LINK, 1, key, CORP_EINVAL, err);
}

/* The key goes in a header: https, or http to a loopback host. */
static int
v_api_url(const char *key, const char *v, int flags, struct corp_err *err)
{
	(void)flags;
	return corp_url_check(v, CORP_URL_HTTP, 1, key, CORP_EINVAL, err);
}

static int
v_model(const char *key, const char *v, int flags, struct corp_err *err)
{
	size_t n = strlen(v);

	(void)flags;
	if (n < 1 || n > 128 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._:/-") != n)
		return corp_errf(err, CORP_EINVAL, "%s: '%s': expected 1-128 "
		    "of A-Z a-z 0-9 . _ : / -", key, v);
	return 0;
}

/* The VAPID subject of push messages (RFC 8292 2.1, corp-send.1). */
static int
v_push_subject(const char *key, const char *v, int flags,
    struct corp_err *err)
{
	int rc;

	(void)flags;
	if ((rc = corp_webpush_subject_check(v, err)) != 0)
		corp_errprefix(err, "%s", key);
	return rc;
}

typedef int (*valid_fn)(const char *key, const char *v, int flags,
    struct corp_err *);

/* Each rule of settings.c's table, by name. */
static const valid_fn rules[] = {
	[CORP_RULE_CHANNEL] = v_channel,
	[CORP_RULE_ATTEMPTS] = v_attempts,
	[CORP_RULE_BACKOFF] = v_backoff,
	[CORP_RULE_DURATION] = v_duration,
	[CORP_RULE_MAX_PAUSE] = v_max_pause,
	[CORP_RULE_LANG] = v_lang,
	[CORP_RULE_BOT] = v_bot,
	[CORP_RULE_RANGES] = v_allow,
	[CORP_RULE_SHARE] = v_share,
	[CORP_RULE_LINK] = v_link,
	[CORP_RULE_API_URL] = v_api_url,
	[CORP_RULE_MODEL] = v_model,
	[CORP_RULE_CHAT_MAX] = v_chat_max,
	[CORP_RULE_PUSH_SUBJECT] = v_push_subject,
	[CORP_RULE_DURATION0] = v_duration0,
};

int
corp_setting_check(const char *key, const char *v, int flags,
    struct corp_err *err)
{
	enum corp_setting_rule rule;
	int rc;

	if ((rc = corp_setting_rule_of(key, &rule, err)) != 0)
		return rc;
	if (*v == '\0')
		return corp_errf(err, CORP_EINVAL, "%s: an empty value (to "
		    "go back to the default, use: corp-settings config unset "
		    "%s)", key, key);
	return rules[rule](key, v, flags, err);
}

int
corp_setting_set(struct corp_db *db, const char *key, const char *v,
    int flags, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_setting_check(key, v, flags, err)) != 0)
		return rc;
	if ((rc = corp_db_prep(db, &st, "INSERT INTO config (key, value) "
	    "VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
	    err)) != 0)
		return rc;
	corp_bind_text(st, 1, key);
	corp_bind_text(st, 2, v);
	return corp_db_exec(db, st, "write config", err);
}
