/*
 * idem.h -- stored answers of commands run with --idempotency-key
 * (DESIGN 3).  A key is unique per (actor, verb).  The request is
 * identified by the SHA-256 of its canonical JSON (the verb and the
 * normalized arguments, keys sorted, compact); the first successful
 * exit code and output are stored with it.
 *
 * Both calls run inside the caller's write transaction, the same one
 * that makes the change, so two processes racing with one key see one
 * winner and one stored answer.  A refused command stores nothing.
 */
#ifndef CORP_IDEM_H
#define CORP_IDEM_H

#include <jansson.h>

struct corp_db;
struct corp_err;

#define CORP_IDEM_KEY_MAX	200	/* bytes */
#define CORP_IDEM_DAYS		30	/* keys older than this are pruned */

/* hex (65 bytes) = SHA-256 of {"verb": verb, "args": args} canonical. */
int	corp_idem_hash(const char *verb, json_t *args, char hex[65],
	    struct corp_err *);
/*
 * *found = 0: no answer yet.  *found = 1: *code and *output (caller
 * frees) are the stored answer.  The same key with another request is
 * CORP_ECONFLICT.  Prunes keys past CORP_IDEM_DAYS first.
 */
int	corp_idem_lookup(struct corp_db *, long long actor, const char *verb,
	    const char *key, const char *hex, int *found, int *code,
	    char **output, struct corp_err *);
int	corp_idem_store(struct corp_db *, long long actor, const char *verb,
	    const char *key, const char *hex, int code, const char *output,
	    struct corp_err *);

#endif
