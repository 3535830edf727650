/*
 * deliverrun.h -- what one "corp-deliver run" loop holds (corp-deliver.1
 * run): its settings, catalog, channel, worker id and lock, counts.
 * lib/deliver.c is the loop itself; cmd/corp-deliver-run.c reads the
 * options, opens the database, prints, and forks the --concurrency
 * children (each one calls corp_deliver_run_child).
 */
#ifndef CORP_DELIVERRUN_H
#define CORP_DELIVERRUN_H

#include <signal.h>

#include "deliver.h"
#include "sender.h"

struct corp_cidr;

struct corp_deliver_run {
	struct corp_deliver_opts	 o;
	struct corp_deliver_stats	 st;
	struct corp_sender_opts		 so;
	struct corp_cidr		*allow;		/* so.allow */
	struct corp_db			*db;
	struct corp_catalog		*cat;
	struct corp_sender		*snd;
	char				*fallback, *push_subject, *wid;
	int				 lockfd;	/* --worker's lock */
};

/* Empty, with the sender defaults (corp_sender_opts_init). */
void	corp_deliver_run_init(struct corp_deliver_run *);
/* The options a loop takes, judged before anything opens: a channel with
 * a sender, a worker id valid for conc children (CORP_EUSAGE). */
int	corp_deliver_run_check(const struct corp_deliver_run *, int conc,
	    struct corp_err *);
/* Once, before any child: the settings (corp_deliver_settings) and the
 * message catalogs. */
int	corp_deliver_run_prepare(struct corp_deliver_run *, struct corp_err *);
/* Open the channel (corp_sender_open: CORP_EUSAGE for the operator). */
int	corp_deliver_run_channel(struct corp_deliver_run *, struct corp_err *);
/*
 * The worker id: o.worker's lock taken (its old leases given back;
 * CORP_ETEMP while another process holds it), or without o.worker
 * HOST:PID:RANDOM.
 */
int	corp_deliver_run_worker(struct corp_deliver_run *, struct corp_err *);
/*
 * In child i of k (1..k), after fork: the parent's lock let go; --max N
 * shared out (N/k, the first N%k one more); worker ID-i when the parent
 * has --worker ID (its lock taken), else a default id; the channel
 * opened.  The caller sets db first.
 */
int	corp_deliver_run_child(struct corp_deliver_run *, int i, int k,
	    struct corp_err *);
/* The loop (corp_deliver_loop) over the open database and channel;
 * *code its exit code. */
int	corp_deliver_run_serve(struct corp_deliver_run *,
	    const struct corp_deliver_hooks *, volatile sig_atomic_t *stop,
	    int *code, struct corp_err *);
/* Before fork: connections must not cross it. */
void	corp_deliver_run_detach(struct corp_deliver_run *);
void	corp_deliver_run_free(struct corp_deliver_run *);

#endif
