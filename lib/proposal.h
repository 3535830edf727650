/*
 * proposal.h -- the task proposals of analysis runs (DESIGN 8;
 * corp-proposal.1, corp-json.5).  The states and the counter rule are
 * analysis.h's: a proposal moves from pending exactly once, while its
 * run is completed, reviewed or failed, and its run's counters and
 * topic event move in the same transaction.  Deciding needs an active
 * admin (--as).
 */
#ifndef CORP_PROPOSAL_H
#define CORP_PROPOSAL_H

#include <time.h>

#include <jansson.h>

struct corp_db;
struct corp_err;

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
#endif
