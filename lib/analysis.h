/*
 * analysis.h -- seed 004's analysis runs (DESIGN 8; corp-analysis.1,
 * corp-json.5): analysis.c (create, reap, steps, JSON) and
 * analysisbatch.c (start).  Their proposals are proposal.h's.
 *
 * Run states: pending -> running -> completed -> reviewed -> closed,
 * running -> failed, pending -> cancelled.  One unfinished run (pending,
 * running, completed, reviewed) per chat: a unique index, so a second
 * create is CORP_ECONFLICT whatever the race.  Proposal states: pending
 * -> approved | rejected | merged, once; decided only while the run is
 * completed, reviewed or failed.  Every change of a proposal's state
 * updates its run's counters and appends its topic event in the same
 * transaction, so the counters always equal a count of the proposals
 * (corp-db check: analysis_counters).
 *
 * State changes need an admin (--as): CORP_ENOTFOUND for an unknown
 * login, CORP_EFORBIDDEN for one that is not an active admin.
 *
 * Every entry point first fails the running runs whose lease expired
 * ("worker lost", keeping the batches that finished): corp_analysis_reap.
 */
#ifndef CORP_ANALYSIS_H
#define CORP_ANALYSIS_H

#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;
struct corp_proposer;

#define CORP_ANALYSIS_WINDOW		600	/* seconds per window */
#define CORP_ANALYSIS_BATCH		50	/* messages per batch at most */
#define CORP_ANALYSIS_MIN_LENGTH	10	/* default --min-length */

struct corp_analysis_new {
	const char	*as;
	long long	 chat_id;
	time_t		 from, until;		/* [from, until) */
	long long	 min_length;		/* code points */
	const char *const *keywords;		/* NULL-terminated or NULL */
	int		 require_mention;	/* @telegram.bot_username */
};
int	corp_analysis_create(struct corp_db *, const struct corp_analysis_new *,
	    long long *id, struct corp_err *);

/* Fail the running runs whose lease_until is not after now. */
int	corp_analysis_reap(struct corp_db *, struct corp_err *);

/*
 * Run a pending run in the foreground: mark it running with a lease of
 * lease_s seconds (renewed after each batch), hand each batch to p, store
 * what comes back batch by batch, complete it.  A proposer failure fails
 * the run (its finished batches stay) and is returned (err says why).
 * CORP_ECONFLICT when the run is not pending, or when it stopped being
 * ours (its lease expired and another command failed it).
 */
int	corp_analysis_start(struct corp_db *, long long id, const char *as,
	    struct corp_proposer *, long long lease_s, struct corp_err *);

/*
 * corp_analysis_start in two halves, for a caller that answers before the
 * batches run (corp-api: 202, then a child process works).  begin does
 * all of start's checks and marks the run running with a lease of
 * lease_s under a fresh lease token, in one short transaction; *job
 * holds the token and the batches as they were cut then.  work hands
 * the batches to p and completes or fails the run; it may run in a
 * forked child with its own connection.  A job is freed by its holder.
 */
struct corp_analysis_job;
int	corp_analysis_begin(struct corp_db *, long long id, const char *as,
	    const char *proposer, long long lease_s,
	    struct corp_analysis_job **, struct corp_err *);
int	corp_analysis_work(struct corp_db *, struct corp_analysis_job *,
	    struct corp_proposer *, struct corp_err *);
/* Fail the job's run with err's message (a worker whose proposer could
 * not be set up); returns err's code, the message now "run N failed: ...". */
int	corp_analysis_abort(struct corp_db *, struct corp_analysis_job *,
	    struct corp_err *);
void	corp_analysis_job_free(struct corp_analysis_job *);

/*
 * Who may read runs, proposals and stored messages: an active admin,
 * as for the topic events (DESIGN 8).  CORP_EINVAL without a login,
 * CORP_ENOTFOUND unknown, CORP_EFORBIDDEN not an active admin.
 */
int	corp_analysis_reader(struct corp_db *, const char *login,
	    struct corp_err *);

/* verb: "review" (completed -> reviewed), "close" (reviewed -> closed,
 * refused while proposals are pending), "cancel" (pending -> cancelled). */
int	corp_analysis_step(struct corp_db *, long long id, const char *verb,
	    const char *as, struct corp_err *);

int	corp_analysis_json(struct corp_db *, long long id, json_t **,
	    struct corp_err *);
/* has_chat/chat_id and status (NULL: any) filter. */
int	corp_analysis_list(struct corp_db *, int has_chat, long long chat_id,
	    const char *status, json_t **array, struct corp_err *);

/* The errors recorded for a run, in order. */
int	corp_analysis_errors(struct corp_db *, long long run_id, json_t **array,
	    struct corp_err *);

#endif
