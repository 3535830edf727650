/*
 * metrics.h -- corp-deliver stats: what the queue holds and has done, as
 * one JSON object, and that object in the Prometheus text format
 * (corp-deliver.1 stats, every metric's name and type).
 */
#ifndef CORP_METRICS_H
#define CORP_METRICS_H

#include <jansson.h>

struct corp_db;
struct corp_err;

/*
 * The stats object: the queue by channel, status and readiness, the
 * attempts histogram, the counters since the database was made, the
 * endpoints an outage paused with the rows waiting on each, and when
 * route last routed.  Reads only; no transaction needed.
 */
int	corp_metrics(struct corp_db *, json_t **, struct corp_err *);
/*
 * The stats object as Prometheus text: each family with its HELP and
 * TYPE lines, counters named _total, label values escaped.  *text is
 * the caller's to free.
 */
int	corp_metrics_prom(json_t *stats, char **text, struct corp_err *);

#endif
