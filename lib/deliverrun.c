/* deliverrun.c -- see deliverrun.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "catalog.h"
#include "db.h"
#include "deliverrun.h"
#include "fmtline.h"
#include "ratelimit.h"
#include "worker.h"

void
corp_deliver_run_init(struct corp_deliver_run *r)
{
	memset(r, 0, sizeof(*r));
	corp_sender_opts_init(&r->so);
	r->lockfd = -1;
}

int
corp_deliver_run_check(const struct corp_deliver_run *r, int conc,
    struct corp_err *e)
{
	const struct corp_deliver_opts *o = &r->o;
	char id[80];

	if (!corp_sender_known(o->channel))
		return corp_errf(e, CORP_EUSAGE, "--channel: no sender for "
		    "channel '%s'", o->channel);
	if (o->worker != NULL && !corp_worker_valid(o->worker))
		return corp_errf(e, CORP_EUSAGE, "--worker: 1-64 of A-Z a-z "
		    "0-9 . _ : -");
	if (o->worker != NULL && conc > 1 && (snprintf(id, sizeof(id),
	    "%s-%d", o->worker, conc), !corp_worker_valid(id)))
		return corp_errf(e, CORP_EUSAGE, "--worker: too long for "
		    "--concurrency %d (the children are ID-1..ID-%d, 64 "
		    "characters at most)", conc, conc);
	return 0;
}

int
corp_deliver_run_prepare(struct corp_deliver_run *r, struct corp_err *e)
{
	int rc;

	if ((rc = corp_deliver_settings(r->db, &r->o, &r->fallback, &r->so,
	    &r->allow, &r->push_subject, e)) != 0)
		return rc;
	return corp_fmt_catalog(&r->cat, NULL, 0, e);
}

int
corp_deliver_run_channel(struct corp_deliver_run *r, struct corp_err *e)
{
	return corp_sender_open(&r->snd, r->o.channel, &r->so, e);
}

int
corp_deliver_run_worker(struct corp_deliver_run *r, struct corp_err *e)
{
	long long n;

	if (r->o.worker != NULL)
		return corp_worker_take(r->db, r->o.worker, &r->lockfd, &n, e);
	if (corp_worker_default(&r->wid, e) != 0)
		return e->code;
	r->o.worker = r->wid;
	return 0;
}

int
corp_deliver_run_child(struct corp_deliver_run *r, int i, int k,
    struct corp_err *e)
{
	char *id;
	int rc;

	r->o.max = r->o.max > 0 ? r->o.max / k + (i - 1 < r->o.max % k) : 0;
	if (r->lockfd >= 0)
		close(r->lockfd);	/* the parent's */
	r->lockfd = -1;
	if ((rc = corp_deliver_run_channel(r, e)) != 0)
		return rc;
	if (r->o.worker == NULL)
		return corp_deliver_run_worker(r, e);
	if (corp_asprintf(&id, "%s-%d", r->o.worker, i) < 0)
		return corp_errf(e, CORP_EINTERNAL, "out of memory");
	r->o.worker = r->wid = id;
	return corp_deliver_run_worker(r, e);
}

int
corp_deliver_run_serve(struct corp_deliver_run *r,
    const struct corp_deliver_hooks *h, volatile sig_atomic_t *stop,
    int *code, struct corp_err *e)
{
	struct corp_deliver *d;
	int rc;

	if ((rc = corp_deliver_open(&d, r->db, r->snd, r->cat, &r->o, h,
	    &r->st, e)) != 0)
		return rc;
	rc = corp_deliver_loop(d, stop, code, e);
	corp_deliver_close(d);
	return rc;
}

void
corp_deliver_run_detach(struct corp_deliver_run *r)
{
	corp_sender_close(r->snd);
	r->snd = NULL;
	corp_db_close(r->db);
	r->db = NULL;
	/* The Telegram limiter's own connection (PostgreSQL) too: shared
	 * by the children, its transactions crossed and every send came
	 * back "a transaction is already open" (sec-review-22c HIGH-1). */
	corp_rl_store_detach(r->so.rl_store);
}

void
corp_deliver_run_free(struct corp_deliver_run *r)
{
	corp_deliver_stats_free(&r->st);
	corp_deliver_run_detach(r);
	corp_catalog_free(r->cat);
	r->cat = NULL;
	if (r->lockfd >= 0)
		close(r->lockfd);
	r->lockfd = -1;
	free(r->fallback);
	free(r->push_subject);
	free(r->wid);
	free(r->allow);
	r->fallback = r->push_subject = r->wid = NULL;
	r->allow = NULL;
}
