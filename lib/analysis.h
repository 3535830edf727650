/*
 * analysis.h -- seed 004's analysis runs and task proposals (DESIGN 8;
 * corp-analysis.1, corp-proposal.1, corp-json.5).
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
 * ("worker lost", keeping the batches that finished): corp_run_reap.
 */
#ifndef CORP_ANALYSIS_H
#define CORP_ANALYSIS_H

#include <time.h>
#include <jansson.h>

struct corp_db;
struct corp_err;
struct corp_proposer;

#define CORP_RUN_WINDOW		600	/* seconds per window */
#define CORP_RUN_BATCH		50	/* messages per batch at most */
#define CORP_RUN_MIN_LENGTH	10	/* default --min-length */

struct corp_run_new {
	const char	*as;
	long long	 chat_id;
	time_t		 from, until;		/* [from, until) */
	long long	 min_length;		/* code points */
	const char *const *keywords;		/* NULL-terminated or NULL */
	int		 require_mention;	/* @telegram.bot_username */
};
int	corp_run_create(struct corp_db *, const struct corp_run_new *,
	    long long *id, struct corp_err *);

/* Fail the running runs whose lease_until is not after now. */
int	corp_run_reap(struct corp_db *, struct corp_err *);

/*
 * Run a pending run in the foreground: mark it running with a lease of
 * lease_s seconds (renewed after each batch), hand each batch to p, store
 * what comes back batch by batch, complete it.  A proposer failure fails
 * the run (its finished batches stay) and is returned (err says why).
 * CORP_ECONFLICT when the run is not pending, or when it stopped being
 * ours (its lease expired and another command failed it).
 */
int	corp_run_start(struct corp_db *, long long id, const char *as,
	    struct corp_proposer *, long long lease_s, struct corp_err *);

/*
 * corp_run_start in two halves, for a caller that answers before the
 * batches run (corp-api: 202, then a child process works).  begin does
 * all of start's checks and marks the run running with a lease of
 * lease_s under a fresh lease token, in one short transaction; *job
 * holds the token and the batches as they were cut then.  work hands
 * the batches to p and completes or fails the run; it may run in a
 * forked child with its own connection.  A job is freed by its holder.
 */
struct corp_run_job;
int	corp_run_begin(struct corp_db *, long long id, const char *as,
	    const char *proposer, long long lease_s, struct corp_run_job **,
	    struct corp_err *);
int	corp_run_work(struct corp_db *, struct corp_run_job *,
	    struct corp_proposer *, struct corp_err *);
void	corp_run_job_free(struct corp_run_job *);

/*
 * Who may read runs, proposals and stored messages: an active admin,
 * as for the topic events (DESIGN 8).  CORP_EINVAL without a login,
 * CORP_ENOTFOUND unknown, CORP_EFORBIDDEN not an active admin.
 */
int	corp_analysis_reader(struct corp_db *, const char *login,
	    struct corp_err *);

/* verb: "review" (completed -> reviewed), "close" (reviewed -> closed,
 * refused while proposals are pending), "cancel" (pending -> cancelled). */
int	corp_run_step(struct corp_db *, long long id, const char *verb,
	    const char *as, struct corp_err *);

int	corp_run_json(struct corp_db *, long long id, json_t **,
	    struct corp_err *);
/* has_chat/chat_id and status (NULL: any) filter. */
int	corp_run_list(struct corp_db *, int has_chat, long long chat_id,
	    const char *status, json_t **array, struct corp_err *);

struct corp_decision {
	const char	*verb;		/* approve reject merge */
	long long	 id;
	const char	*as;
	const char	*reason;	/* reject */
	long long	 task_id;	/* merge */
	const char	*assignee, *unit;	/* approve overrides */
	int		 has_due;
	time_t		 due_at;
};
int	corp_proposal_decide(struct corp_db *, const struct corp_decision *,
	    struct corp_err *);

struct corp_proposal_edit {
	long long	 id;
	const char	*as;
	const char	*title, *description;	/* NULL: unchanged */
	const char	*assignee;	/* NULL: unchanged; "" clears */
	int		 has_due;	/* due_at 0 clears */
	time_t		 due_at;
};
int	corp_proposal_edit(struct corp_db *, const struct corp_proposal_edit *,
	    struct corp_err *);

int	corp_proposal_json(struct corp_db *, long long id, json_t **,
	    struct corp_err *);
/* run_id > 0 and status (NULL: any) filter. */
int	corp_proposal_list(struct corp_db *, long long run_id,
	    const char *status, json_t **array, struct corp_err *);
/* The errors recorded for a run, in order. */
int	corp_run_errors(struct corp_db *, long long run_id, json_t **array,
	    struct corp_err *);

#endif
