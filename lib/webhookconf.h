/*
 * webhookconf.h -- the webhook channel's endpoints, as the operator names
 * them in DATA_DIR/webhooks.conf: one "NAME URL" per line (blanks between),
 * blank lines and lines starting with # ignored; NAME is 1-64 of
 * [A-Za-z0-9_.-], not starting with a dot, and defined once.  The file
 * must not be writable by group or others (CORP_EFORBIDDEN).  The secret
 * of NAME is DATA_DIR/secrets/webhook-NAME.
 *
 * Apart from webhook.c so that corp-bind, which checks that a bind names
 * a defined endpoint, does not link libcurl.
 */
#ifndef CORP_WEBHOOKCONF_H
#define CORP_WEBHOOKCONF_H

#include <stddef.h>

struct corp_err;

/* A valid endpoint name? */
int	corp_webhook_name_ok(const char *);
/*
 * The URL of NAME (fresh allocation).  CORP_ENOTFOUND when the file has
 * no such endpoint or there is no file; CORP_EINVAL for a line that is
 * not "NAME URL", a bad name or a name defined twice (PATH:LINE in the
 * message); CORP_EFORBIDDEN for an unsafe mode.
 */
int	corp_webhook_url(const char *name, char **url, struct corp_err *);
/*
 * Every endpoint name, in file order, as a NULL-terminated array (free
 * with corp_webhook_names_free).  The errors of corp_webhook_url;
 * CORP_ENOTFOUND only when there is no file.
 */
int	corp_webhook_names(char ***names, struct corp_err *);
void	corp_webhook_names_free(char **);

/*
 * The one rule for a webhook secret (secrets/webhook-NAME), applied by
 * corp-bind, corp-send and corp-db check: "whsec_" followed by standard
 * base64 (padded, no white space) of CORP_WEBHOOK_KEY_MIN to
 * CORP_WEBHOOK_KEY_MAX bytes, as Standard Webhooks specifies.  A raw
 * secret without the prefix is refused rather than guessed at.
 * corp_webhook_secret_key: the key's length, the key in key (when not
 * NULL and size is enough), or -1.  corp_webhook_secret_check: 0, or
 * CORP_ECONFIG naming path (never the value).
 */
#define CORP_WEBHOOK_KEY_MIN	24
#define CORP_WEBHOOK_KEY_MAX	64
int	corp_webhook_secret_key(const char *secret, unsigned char *key,
	    size_t size);
int	corp_webhook_secret_check(const char *secret, const char *path,
	    struct corp_err *);

#endif
