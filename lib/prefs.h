/*
 * prefs.h -- per-user preferences (DESIGN 4): quiet hours in the
 * user's zone, muted channels, muted event types.
 *
 * A change takes effect on the user's PENDING rows in the same
 * transaction: new quiet hours recompute their not_before, a new mute
 * fails the rows it covers with error "muted".  Unmuting never
 * recreates rows (route decided muted_* for them, and that stays).
 */
#ifndef CORP_PREFS_H
#define CORP_PREFS_H

#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;

/* "HH:MM-HH:MM" -> minutes of the local day; start == end is refused
 * (an empty window: use no quiet hours instead). */
int	corp_prefs_quiet_parse(const char *, int *start, int *end,
	    struct corp_err *);

/* {user, user_id, zone, quiet ("HH:MM-HH:MM" or null), muted_channels,
 * muted_event_types} */
int	corp_prefs_get(struct corp_db *, long long user_id, json_t **,
	    struct corp_err *);
/* Quiet hours [start, end) in minutes, or none when start < 0; then
 * the user's PENDING rows get their not_before recomputed. */
int	corp_prefs_set_quiet(struct corp_db *, long long user_id, int start,
	    int end, struct corp_err *);

/* kind is "channel" or "event_type".  mute is idempotent and reports
 * the PENDING rows it failed; unmute is CORP_ENOTFOUND when the mute
 * was not there. */
int	corp_prefs_mute(struct corp_db *, long long user_id, const char *kind,
	    const char *value, long long *failed, struct corp_err *);
int	corp_prefs_unmute(struct corp_db *, long long user_id,
	    const char *kind, const char *value, struct corp_err *);

/* Has the user muted kind ("channel", "event_type") value?  (route.c) */
int	corp_prefs_muted(struct corp_db *, long long user_id, const char *kind,
	    const char *value, int *yes, struct corp_err *);

/*
 * Quiet hours: the earliest instant >= now outside the user's quiet
 * window (now itself when outside or when the user has none).
 */
int	corp_prefs_quiet_not_before(struct corp_db *, long long user_id,
	    time_t now, time_t *out, struct corp_err *);
/* The same for given window and zone; for tests and recomputation. */
time_t	corp_prefs_quiet_end(const char *zone, int qstart, int qend,
	    time_t now);

#endif
