/*
 * notify.h -- notification settings per event type x role x channel
 * (DESIGN 4), the table corp-event route reads: enabled, priority
 * (urgent | p2p | broadcast), message key ("template"), notify_self.
 *
 * Rows are JSON objects {event_type, role, channel, enabled, priority,
 * template, notify_self, fallback, digest} (corp-settings.1), enabled
 * and notify_self booleans, fallback a channel or null, digest a period
 * or null.
 */
#ifndef CORP_NOTIFY_H
#define CORP_NOTIFY_H

#include <jansson.h>

struct corp_db;
struct corp_err;

/* Names: event types [A-Za-z0-9_.:-]{1,64}, roles the same, message
 * keys [A-Za-z0-9_.-]{1,128}; channels [a-z0-9_-]{1,32}. */
int	corp_event_type_valid(const char *);
int	corp_role_valid(const char *);
int	corp_msgkey_valid(const char *);
int	corp_channel_valid(const char *);
int	corp_priority_valid(const char *);

/* Rows matching the filters (NULL = any), ordered by type, role,
 * channel, into *rows (a new JSON array).  A filter naming an unknown
 * channel, event type or role is CORP_EINVAL (names.h). */
int	corp_notify_list(struct corp_db *, const char *event_type,
	    const char *role, const char *channel, json_t **rows,
	    struct corp_err *);

/*
 * Insert or update one row.  The channel must be one corp knows, the
 * event type and role known or declared new (names.h), else CORP_EINVAL
 * with the closest known name.  Fields left unset (enabled/notify_self
 * < 0, priority/msgkey NULL) keep their value; a new row takes
 * enabled, p2p, the lower-case event type and notify_self off.
 * *row gets the row as stored.
 */
struct corp_notify {
	const char	*event_type, *role, *channel;
	int		 enabled;	/* -1 keep, 0, 1 */
	const char	*priority;	/* NULL keep */
	const char	*msgkey;	/* NULL keep: the message key (JSON
					   and column "template") */
	int		 notify_self;	/* -1 keep, 0, 1 */
	/* The fallback channel (NULL keep); no_fallback removes it.  A
	 * channel corp knows (else CORP_EUSAGE with the closest), never
	 * the row's own (CORP_EINVAL). */
	const char	*fallback;
	int		 no_fallback;
	/* The digest period (NULL keep; batchdigest.h, else CORP_EINVAL);
	 * no_digest removes it. */
	const char	*digest;
	int		 no_digest;
	/* A producer's event type or role not seen before is declared
	 * here (names.h: CORP_NAME_NEW); else it must be known. */
	int		 new_type, new_role;
};
int	corp_notify_set(struct corp_db *, const struct corp_notify *,
	    json_t **row, struct corp_err *);
/* Delete one row; CORP_ENOTFOUND when there is none.  *row gets it. */
int	corp_notify_unset(struct corp_db *, const char *event_type,
	    const char *role, const char *channel, json_t **row,
	    struct corp_err *);

/*
 * For route.c.  corp_notify_rule: the row of (type, role, channel);
 * found = 0 when there is none; msgkey (the message key, column
 * "template") is the caller's to free.  corp_notify_channels: the
 * channels with a row for type and the default channel, sorted,
 * appended to *list (*n items; the caller frees each and the array).
 */
struct corp_notify_rule {
	int	 found, enabled, notify_self;
	char	 priority[16];
	char	*msgkey;
	char	 fallback[33];	/* "" when none */
	char	 digest[24];	/* "" when none: the period */
};
int	corp_notify_rule(struct corp_db *, const char *type, const char *role,
	    const char *channel, struct corp_notify_rule *, struct corp_err *);
int	corp_notify_channels(struct corp_db *, const char *type,
	    const char *default_channel, char ***list, size_t *n,
	    struct corp_err *);

/*
 * For names.c.  corp_notify_has: does a row name type (role NULL), or
 * role (type NULL)?  corp_notify_each: fn(arg, name) for each distinct
 * event type (roles 0) or role (roles 1) of the rows, sorted.
 */
int	corp_notify_has(struct corp_db *, const char *type, const char *role,
	    int *yes, struct corp_err *);
int	corp_notify_each(struct corp_db *, int roles,
	    void (*fn)(void *, const char *), void *arg, struct corp_err *);

#endif
