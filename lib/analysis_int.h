/*
 * analysis_int.h -- what analysis.c (runs), analysisbatch.c (start) and
 * proposal.c share inside lib; not for cmd/.
 */
#ifndef CORP_ANALYSIS_INT_H
#define CORP_ANALYSIS_INT_H

#include <jansson.h>

struct corp_db;
struct corp_err;
struct corp_stmt;

#define OOM(err) corp_errf(err, CORP_EINTERNAL, "out of memory")

/* The id of the user named login (65 without one, 67 unknown) and
 * whether it is an active admin (the caller refuses with not_admin). */
int	corp_analysis_actor(struct corp_db *, const char *login, long long *id,
	    int *isadm, struct corp_err *);
/* 77: "'LOGIN' is not an active admin". */
int	corp_analysis_not_admin(const char *login, struct corp_err *);
/* An admin's verb on run id, in the caller's transaction: the actor's
 * id, then the run's status (67 when none; the caller frees it), then
 * 77 when as is not an active admin (lookups before rights). */
int	corp_analysis_admin_run(struct corp_db *, const char *as, long long id,
	    long long *actor, char **status, struct corp_err *);
/* A run's event payload (its id, chat and counters). */
int	corp_analysis_payload(struct corp_db *, long long id, json_t **,
	    struct corp_err *);
/* Append a topic event (steals payload). */
int	corp_analysis_topic_event(struct corp_db *, const char *topic,
	    const char *type, long long actor, json_t *payload,
	    const char *key, struct corp_err *);
/* Append the run event type of run id (extra merged; b: batch or 0). */
int	corp_analysis_event(struct corp_db *, long long id, const char *type,
	    long long actor, json_t *extra, long long b, struct corp_err *);
/* The status of run id (67 when none). */
int	corp_analysis_status(struct corp_db *, long long id, char **status,
	    struct corp_err *);
int	corp_analysis_changes(struct corp_db *);
/* A nullable time column as JSON. */
json_t	*corp_analysis_opt_time(struct corp_stmt *, int col);

#endif
