/*
 * settings.h -- operator configuration: the config table alone
 * (notification settings are notify.h, a user's preferences prefs.h).
 * Keys and defaults are listed in corp.7 CONFIGURATION; an unknown key,
 * or a per-channel key on a channel corp does not know, is refused
 * (CORP_EUSAGE, with the closest known key); a bad value is CORP_EINVAL.
 */
#ifndef CORP_SETTINGS_H
#define CORP_SETTINGS_H

#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;

/* The value of key (the default when unset) in a fresh allocation.
 * A per-channel key on any well-formed channel is answered (the queue
 * asks for the channels of its rows). */
int	corp_setting_get(struct corp_db *, const char *key, char **out,
	    struct corp_err *);
/* The key known, and for a per-channel key a channel corp knows (what
 * an operator typing it is held to). */
int	corp_setting_key_check(const char *key, struct corp_err *);
/*
 * The rule a key's value is held to (settings.c's table names one per
 * key; settings_check.c holds them): the key known, else as
 * corp_setting_key_check refuses it.
 */
enum corp_setting_rule {
	CORP_RULE_CHANNEL, CORP_RULE_ATTEMPTS, CORP_RULE_BACKOFF,
	CORP_RULE_DURATION, CORP_RULE_MAX_PAUSE, CORP_RULE_LANG,
	CORP_RULE_BOT, CORP_RULE_RANGES, CORP_RULE_SHARE, CORP_RULE_LINK,
	CORP_RULE_API_URL, CORP_RULE_MODEL, CORP_RULE_CHAT_MAX,
	CORP_RULE_PUSH_SUBJECT, CORP_RULE_DURATION0
};
int	corp_setting_rule_of(const char *key, enum corp_setting_rule *,
	    struct corp_err *);
/* Flags of corp_setting_set and corp_setting_check. */
enum {
	/* Take a value refused only as unwise (a webhook.allow range
	 * wider than /8): the operator said --force. */
	CORP_SETTING_FORCE = 1
};
int	corp_setting_set(struct corp_db *, const char *key, const char *val,
	    int flags, struct corp_err *);
int	corp_setting_unset(struct corp_db *, const char *key,
	    struct corp_err *);
/*
 * Validate key and value without writing: each key has one rule, in
 * one table (settings.c; corp.7 CONFIGURATION).  A bad value is
 * CORP_EINVAL with a message naming the key and the rule; an empty
 * value is refused (config unset restores the default).
 */
int	corp_setting_check(const char *key, const char *val, int flags,
	    struct corp_err *);
/* Iterate known keys: name, default, current (NULL when unset). */
typedef int (*corp_setting_fn)(const char *key, const char *def,
    const char *cur, void *);
int	corp_setting_each(struct corp_db *, corp_setting_fn, void *,
	    struct corp_err *);
/*
 * The settings as corp-settings config list, get --format and set print
 * them: rows {"key", "value" (null when unset), "default"} in
 * corp_setting_each's order; only (NULL: all) keeps the one key.
 */
int	corp_setting_rows(struct corp_db *, const char *only, json_t **rows,
	    struct corp_err *);

/* Typed readers used by the queue. */
struct corp_backoff {
	long long	base, cap;	/* seconds */
	double		factor;
};
int	corp_setting_attempts(struct corp_db *, const char *channel, int *,
	    struct corp_err *);
int	corp_setting_backoff(struct corp_db *, const char *channel,
	    struct corp_backoff *, struct corp_err *);
int	corp_setting_duration(struct corp_db *, const char *key,
	    long long *secs, struct corp_err *);
int	corp_backoff_parse(const char *, struct corp_backoff *,
	    struct corp_err *);

#endif
