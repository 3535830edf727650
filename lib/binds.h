/*
 * binds.h -- user x channel -> address (DESIGN 4).
 *
 * A bind is kept for history once made: it is deactivated, never
 * deleted.  An active bind makes the user's PENDING rows on its channel
 * ready; without one they wait (waiting_bind).  Every change recomputes
 * that readiness in the same transaction, whatever the cursor says: a
 * held row the cursor passed long ago becomes ready, and pending picks
 * it up among the rows at or before the cursor (DESIGN 5).
 *
 * Rows are JSON objects {user_id, login, channel, address, active,
 * created_at, updated_at} (corp-json.5).
 */
#ifndef CORP_BINDS_H
#define CORP_BINDS_H

#include <jansson.h>
#include <time.h>

#include "jsonl.h"

struct corp_db;
struct corp_err;

/*
 * Is address acceptable on channel?  telegram: a private chat id, a
 * positive 64-bit decimal integer without sign or leading zeros;
 * email: an ASCII LOCAL@DOMAIN (corp_email_addr_check); webhook and
 * exec: an endpoint or command name (corp_webhook_name_ok); others:
 * 1-2048 printable characters.  CORP_EINVAL with the reason otherwise.
 * The form only: no file is read.
 */
int	corp_address_check(const char *channel, const char *address,
	    struct corp_err *);
/*
 * Does the operator's configuration define address?  webhook: an
 * endpoint of webhooks.conf; exec: a command of exec.conf; other
 * channels: always.  CORP_EUSAGE (an unknown name, 64) naming the file,
 * the names it defines and the closest one ("did you mean"), also when
 * there is no file;
 * the file's own errors (CORP_EFORBIDDEN for an unsafe mode, CORP_EINVAL
 * for a bad line).  corp_binds_add checks it; the _tx form, used by
 * corp-tg for telegram only, does not.
 */
int	corp_bind_target_check(const char *channel, const char *address,
	    struct corp_err *);
/*
 * Channels whose address is an operator-configured receiver (webhook,
 * exec) rather than a person's: any number of users may bind one.
 */
int	corp_channel_shared(const char *channel);

/*
 * Bind user to address on channel, active; an existing bind of the user
 * on that channel takes the new address.  CORP_ECONFLICT when another
 * user's active bind holds the address (never on a shared channel).
 * The address must pass corp_bind_target_check.  *row gets the bind.
 */
int	corp_binds_add(struct corp_db *, long long user_id,
	    const char *channel, const char *address, json_t **row,
	    struct corp_err *);
/*
 * corp-bind import's step, inside the caller's write transaction: as
 * corp_binds_add_tx, but a bind already active at address is left as it
 * is.  *result: "created" (no bind before), "updated" (another address,
 * or inactive) or "unchanged".  The caller checked the target
 * (corp_bind_target_check).
 */
int	corp_binds_put_tx(struct corp_db *, long long user_id,
	    const char *channel, const char *address, const char **result,
	    struct corp_err *);
/*
 * The operator's deactivation (corp-bind deactivate): active = 0,
 * deactivated_by "operator" (also over a chat's own pause: the operator's
 * word stands); CORP_ENOTFOUND when the user has no bind there.
 */
int	corp_binds_deactivate(struct corp_db *, long long user_id,
	    const char *channel, json_t **row, struct corp_err *);
/*
 * The same two inside the caller's write transaction (corp-tg binds a
 * chat together with the rest of an update's effects); row may be NULL.
 */
int	corp_binds_add_tx(struct corp_db *, long long user_id,
	    const char *channel, const char *address, json_t **row,
	    struct corp_err *);
int	corp_binds_deactivate_tx(struct corp_db *, long long user_id,
	    const char *channel, const char *by, json_t **row,
	    struct corp_err *);
/*
 * Who may turn an inactive bind on again without a new code: its chat,
 * when the chat turned it off (by "user", "blocked" or "delivery"); never
 * when the operator did ("operator", or "unknown" from before 0011).
 */
int	corp_binds_resumable(const char *by);
/*
 * Who holds address on channel: the active bind, else the most recently
 * changed inactive one.  CORP_ENOTFOUND when nobody ever did.  resumable
 * (may be NULL): an inactive bind its chat may turn on again
 * (corp_binds_resumable).
 */
int	corp_binds_find(struct corp_db *, const char *channel,
	    const char *address, long long *user_id, int *active,
	    int *resumable,
	    struct corp_err *);
/*
 * corp-bind import (corp-bind.1): corp_binds_import_add checks each line
 * as it is read (only the fields login, channel, address; a channel corp
 * delivers on; the address's form; a webhook or exec target once per
 * address) and keeps it (it takes the item's obj); then
 * corp_binds_import_commit applies them all in one transaction, as
 * corp_binds_put_tx, with fn given each line's result {line, login,
 * user_id, channel, address, result}.  A refused line refuses the whole
 * import, its error "NAME:LINE: why; nothing imported" (CORP_EINTERNAL
 * and CORP_ETEMP as they are), nothing written.
 */
struct corp_binds_import;
struct corp_binds_import *corp_binds_import_new(void);
int	corp_binds_import_add(struct corp_binds_import *,
	    struct corp_jsonl_item *, struct corp_err *);
int	corp_binds_import_commit(struct corp_db *, struct corp_binds_import *,
	    corp_result_fn fn, void *arg, struct corp_err *);
void	corp_binds_import_free(struct corp_binds_import *);
/* The user's bind on channel: *state -1 none, 0 inactive, 1 active. */
int	corp_binds_state(struct corp_db *, long long user_id,
	    const char *channel, int *state, struct corp_err *);
/* A delivery's "unbound" ack (queue.c): the active bind of (user,
 * channel) deactivated by 'delivery', inside the caller's transaction;
 * no active bind, nothing done. */
int	corp_binds_unbound_tx(struct corp_db *, long long user_id,
	    const char *channel, time_t now, struct corp_err *);
/* corp-deliver explain's binds of a user: [{channel, address, active,
 * deactivated_by, updated_at}] by channel. */
int	corp_binds_user_json(struct corp_db *, long long user_id, json_t **,
	    struct corp_err *);
/* Filters: user_id <= 0 or channel NULL for any. */
int	corp_binds_list(struct corp_db *, long long user_id,
	    const char *channel, json_t **rows, struct corp_err *);

#endif
