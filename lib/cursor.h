/*
 * cursor.h -- seed 000's per-channel delivery cursor (DESIGN 5).
 *
 * DATA_DIR/bot_deliveries_cursor_CHANNEL.json holds compact JSON and a
 * newline, {"cursor_audit_id":E,"cursor_user_id":U}: the (event_id,
 * user_id) up to which pending's second group has been acked.  Every
 * write replaces the file atomically (a reader, or a crash, sees the old
 * file or the new one) under an flock on
 * DATA_DIR/bot_deliveries_cursor_CHANNEL.lock, mode 0600.  The cursor
 * is an ordering hint, not a delivery record: status prevents a resend,
 * and held rows that become ready are found at or before it.
 *
 * The legacy DATA_DIR/events_cursor.json, {"last_audit_id":N}, is the
 * largest N such that every event up to N is routed and has no PENDING
 * row on any channel.
 */
#ifndef CORP_CURSOR_H
#define CORP_CURSOR_H

#include <jansson.h>

struct corp_db;
struct corp_err;

struct corp_cursor {
	long long	audit;		/* event_id */
	long long	user;		/* user_id */
};

/* <0, 0, >0 as a is before, at, after b in (event_id, user_id) order. */
int	corp_cursor_cmp(const struct corp_cursor *, const struct corp_cursor *);
/* "AUDIT:USER", two integers 0..2^63-1; CORP_EINVAL otherwise. */
int	corp_cursor_parse(const char *, struct corp_cursor *,
	    struct corp_err *);

/* A cursor file's text (len bytes of buf; name for messages). */
int	corp_cursor_parse_file(const char *buf, size_t len, const char *name,
	    struct corp_cursor *, struct corp_err *);

/* The cursor of channel; {0, 0} when there is no file.  A file that is
 * not a cursor is CORP_EINVAL with its name and the reason. */
int	corp_cursor_get(const char *channel, struct corp_cursor *,
	    struct corp_err *);
/* Write c unconditionally. */
int	corp_cursor_set(const char *channel, const struct corp_cursor *,
	    struct corp_err *);
/*
 * Move the cursor to c when c is after it (or, with force, whenever it
 * differs), under the lock.  *moved says whether the file was written.
 */
int	corp_cursor_advance(const char *channel, const struct corp_cursor *,
	    int force, int *moved, struct corp_err *);

/*
 * From one line of corp-deliver ack's output: *use is 0 for a line
 * stored "unchanged", else 1 with (event.event_id, user_id) in *c.
 * CORP_EINVAL when the line is not an ack line (no "stored", no ids).
 */
int	corp_cursor_from_ack(json_t *line, struct corp_cursor *, int *use,
	    struct corp_err *);

/* The legacy value, read in one statement (one snapshot). */
int	corp_cursor_legacy(struct corp_db *, long long *n, struct corp_err *);
/* Write DATA_DIR/events_cursor.json under DATA_DIR/events_cursor.lock. */
int	corp_cursor_legacy_write(long long n, struct corp_err *);

#endif
