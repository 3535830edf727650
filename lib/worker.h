/*
 * worker.h -- worker ids of the queue's claimers (DESIGN 5 "Leases").
 *
 * Without --worker a claimer is HOST:PID:RANDOM and releases nothing at
 * start (another process may still hold its leases).  An explicit id is
 * one live process at a time: an flock on DATA_DIR/worker-ID.lock, held
 * for the life of the process; whoever takes it gives back that id's old
 * leases, since their holder is gone.
 */
#ifndef CORP_WORKER_H
#define CORP_WORKER_H

struct corp_db;
struct corp_err;

/* 1-64 of A-Z a-z 0-9 . _ : - */
int	corp_worker_valid(const char *id);
/*
 * Take the lock of id (*fd holds it; close it to let go) and release
 * the leases id held (*released counts them).  CORP_ETEMP when another
 * live process holds the lock.
 */
int	corp_worker_take(struct corp_db *, const char *id, int *fd,
	    long long *released, struct corp_err *);
/* "HOST:PID:RANDOM" in a fresh allocation. */
int	corp_worker_default(char **id, struct corp_err *);

#endif
