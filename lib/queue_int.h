/*
 * queue_int.h -- private to the queue modules: queue.c (the state
 * machine), queueline.c (the delivery line) and queueadmin.c (dlq,
 * prune, stats, explain, requeue, cancel).  Not for other modules.
 */
#ifndef CORP_QUEUE_INT_H
#define CORP_QUEUE_INT_H

#include <time.h>
#include <jansson.h>

struct corp_claim;
struct corp_db;
struct corp_err;
struct corp_stmt;

/*
 * Every lease also goes into the row's lease_tokens (0010-security):
 * the tokens once issued for it, newest first, the last LEASE_KEEP.
 * A token is LEASE_TOKEN_LEN characters (corp_nonce_b64url of 24).
 */
#define LEASE_TOKEN_LEN	32
#define LEASE_KEEP	8
#define LEASE_TOKENS_SET(tok) \
	"lease_tokens = substr(" tok " || coalesce(' ' || lease_tokens, ''), " \
	"1, 263)"

/*
 * A claim's columns: corp_queueline_claim reads them by number.
 * CLAIM_SELECT and CLAIM_JOINS are its two halves, around the "FROM
 * deliveries d" that a claim may name an index on (INDEXED BY).
 */
#define CLAIM_SELECT \
	"SELECT d.id, d.event_id, d.user_id, d.channel, d.role, d.roles, " \
	"d.priority, d.template, d.attempts, u.login, u.name, u.lang, " \
	"coalesce(u.tz, o.tz, ?6, 'UTC'), b.address, d.digest "
#define CLAIM_JOINS \
	"JOIN users u ON u.id = d.user_id " \
	"LEFT JOIN org_units o ON o.id = u.org_unit_id " \
	"LEFT JOIN binds b ON b.user_id = d.user_id AND b.channel = d.channel "
#define CLAIM_COLS CLAIM_SELECT "FROM deliveries d " CLAIM_JOINS

/* The event JSON and the names a line carries, cached per event. */
struct corp_queueline_names {
	long long	 event_id;
	json_t		*event;
	char		*actor, *assignee, *previous;
};
void	corp_queueline_names_clear(struct corp_queueline_names *);
/*
 * The delivery lines of the rows st selects (CLAIM_COLS), at most
 * limit, appended to lines; with lease set, each row is leased to token
 * as it is read.
 */
int	corp_queueline_claim(struct corp_db *, struct corp_stmt *,
	    const struct corp_claim *, time_t now, const char *token,
	    const char *base, json_t *lines, int limit, int lease,
	    struct corp_queueline_names *, struct corp_err *);
/* A user without a language gets fallback_lang (corp-json.5: "lang"). */
void	corp_queueline_fill_lang(json_t *lines, const char *fallback);

/*
 * What a transaction of the queue counted (delivery_counters, 0017):
 * added up in memory as rows change, written by corp_qcounts_flush as
 * the transaction's last statements, in (channel, result) order, so
 * that on PostgreSQL two transactions take the counter rows in one
 * order after all their delivery rows, and never deadlock on them.
 */
#define QCOUNTS_MAX	64
struct corp_qcount {
	char		 channel[24];
	const char	*result;	/* a static string */
	long long	 n;
};
struct corp_qcounts {
	struct corp_qcount c[QCOUNTS_MAX];
	int	 n, overflow;
};
void	corp_qcounts_add(struct corp_qcounts *, const char *channel,
	    const char *result, long long n);
int	corp_qcounts_flush(struct corp_db *, struct corp_qcounts *, time_t,
	    struct corp_err *);

/* An ack line's fields (corp-json.5), parsed by corp_queueline_ack_parse:
 * NULL, or what is wrong with the line. */
struct ackline {
	long long	 id;
	const char	*lease, *result, *error, *provider, *worker;
	long long	 retry_after;
	int		 attempted;
};
const char *corp_queueline_ack_parse(json_t *, struct ackline *);

#endif
