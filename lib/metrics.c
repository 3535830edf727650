/*
 * metrics.c -- corp-deliver stats (metrics.h): the queue's numbers from
 * queueadmin.c, the outage pauses from ratelimit.c, route's last run,
 * and the Prometheus text of them.  Writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "clock.h"
#include "db.h"
#include "jsonl.h"
#include "metrics.h"
#include "queue.h"
#include "ratelimit.h"
#include "route.h"

/*
 * The endpoints paused by an outage, each with the rows that wait on it:
 * "paused" in the stats object.
 */
static int
paused(struct corp_db *db, time_t now, json_t **out, struct corp_err *err)
{
	json_t *list, *o;
	long long n;
	time_t oldest;
	size_t i;
	int rc;

	if ((rc = corp_down_list(NULL, (long long)now, &list, err)) != 0)
		return rc;
	json_array_foreach(list, i, o) {
		const char *ch = json_string_value(json_object_get(o,
		    "channel"));
		/* A webhook endpoint's rows are its bound users'. */
		const char *addr = ch != NULL && strcmp(ch, "webhook") == 0 ?
		    json_string_value(json_object_get(o, "endpoint")) : NULL;

		if (ch == NULL)
			continue;
		if ((rc = corp_queue_waiting(db, ch, addr, &n, &oldest,
		    err)) != 0) {
			json_decref(list);
			return rc;
		}
		json_object_set_new(o, "waiting", json_integer(n));
		json_object_set_new(o, "oldest_waiting_age_s", oldest > 0 ?
		    json_integer((json_int_t)(now - oldest)) : json_null());
	}
	*out = list;
	return 0;
}

int
corp_metrics(struct corp_db *db, json_t **out, struct corp_err *err)
{
	json_t *s, *list;
	time_t now = corp_now(), routed;
	int rc;

	*out = NULL;
	if ((rc = corp_queue_stats(db, &s, err)) != 0)
		return rc;
	if ((rc = paused(db, now, &list, err)) != 0 ||
	    (rc = corp_route_last(db, &routed, err)) != 0) {
		json_decref(s);
		return rc;
	}
	json_object_set_new(s, "paused", list);
	json_object_set_new(s, "last_route_at", routed > 0 ?
	    corp_json_time(routed) : json_null());
	*out = s;
	return 0;
}

/* Prometheus text: a label value with \, " and newline escaped. */
static void
label(FILE *f, const char *name, const char *v)
{
	fprintf(f, "%s=\"", name);
	for (; v != NULL && *v != '\0'; v++)
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	fputc('"', f);
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static long long
num(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* One sample: name{channel="C"[,k="v"]} value. */
static void
sample(FILE *f, const char *name, const char *channel, const char *k,
    const char *v, long long value)
{
	fprintf(f, "%s{", name);
	label(f, "channel", channel);
	if (k != NULL) {
		fputc(',', f);
		label(f, k, v);
	}
	fprintf(f, "} %lld\n", value);
}

static void
prom_counters(FILE *f, json_t *cnt)
{
	static const char *const acked[] = { "sent", "retried", "held",
		"unbound", "failed", NULL };
	const char *ch;
	json_t *c, *t;
	time_t at;
	size_t i;

	family(f, "corp_delivery_results_total", "counter", "Acks by what "
	    "they stored (sent, retried, held, unbound, failed) since the "
	    "database was created.");
	json_object_foreach(cnt, ch, c)
		for (i = 0; acked[i] != NULL; i++)
			sample(f, "corp_delivery_results_total", ch, "result",
			    acked[i], num(c, acked[i]));
	family(f, "corp_dead_lettered_total", "counter", "Rows the queue "
	    "moved to the dead-letter queue since the database was created.");
	json_object_foreach(cnt, ch, c)
		sample(f, "corp_dead_lettered_total", ch, NULL, NULL,
		    num(c, "dead_lettered"));
	family(f, "corp_last_sent_timestamp_seconds", "gauge", "Unix time "
	    "of the channel's last sent ack.");
	json_object_foreach(cnt, ch, c)
		if (json_is_string(t = json_object_get(c, "last_sent_at")) &&
		    corp_time_parse(json_string_value(t), &at, NULL) == 0)
			sample(f, "corp_last_sent_timestamp_seconds", ch, NULL,
			    NULL, (long long)at);
}

static void
prom_queue(FILE *f, json_t *q)
{
	json_t *row, *a, *wait = json_object();
	const char *ch;
	size_t i;

	family(f, "corp_deliveries", "gauge", "Delivery rows by channel, "
	    "status and readiness.");
	json_array_foreach(q, i, row) {
		fprintf(f, "corp_deliveries{");
		label(f, "channel", str(row, "channel"));
		fputc(',', f);
		label(f, "status", str(row, "status"));
		fputc(',', f);
		label(f, "readiness", str(row, "readiness"));
		fprintf(f, "} %lld\n", num(row, "count"));
	}
	family(f, "corp_deliveries_leased", "gauge", "PENDING rows under a "
	    "live lease.");
	json_array_foreach(q, i, row)
		if (strcmp(str(row, "status"), "PENDING") == 0)
			sample(f, "corp_deliveries_leased", str(row,
			    "channel"), "readiness", str(row, "readiness"),
			    num(row, "leased"));
	family(f, "corp_deliveries_waiting_until", "gauge", "PENDING rows "
	    "waiting for a later not_before.");
	json_array_foreach(q, i, row)
		if (strcmp(str(row, "status"), "PENDING") == 0) {
			ch = str(row, "channel");
			json_object_set_new(wait, ch, json_integer(
			    num(wait, ch) + num(row, "waiting_until")));
		}
	json_object_foreach(wait, ch, a)
		sample(f, "corp_deliveries_waiting_until", ch, NULL, NULL,
		    (long long)json_integer_value(a));
	json_decref(wait);
	family(f, "corp_oldest_ready_age_seconds", "gauge", "Queue age: "
	    "seconds since the oldest ready, due PENDING row was made.");
	json_array_foreach(q, i, row)
		if (json_is_integer(a = json_object_get(row,
		    "oldest_ready_age_s")))
			sample(f, "corp_oldest_ready_age_seconds", str(row,
			    "channel"), NULL, NULL,
			    (long long)json_integer_value(a));
}

int
corp_metrics_prom(json_t *s, char **text, struct corp_err *err)
{
	json_t *row, *t;
	char *buf = NULL;
	size_t len = 0, i;
	time_t at;
	FILE *f;

	*text = NULL;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	prom_counters(f, json_object_get(s, "counters"));
	family(f, "corp_last_route_timestamp_seconds", "gauge", "Unix time "
	    "route last routed an event.");
	if (json_is_string(t = json_object_get(s, "last_route_at")) &&
	    corp_time_parse(json_string_value(t), &at, NULL) == 0)
		fprintf(f, "corp_last_route_timestamp_seconds %lld\n",
		    (long long)at);
	prom_queue(f, json_object_get(s, "queue"));
	family(f, "corp_delivery_attempts", "gauge", "Rows by attempts "
	    "used.");
	json_array_foreach(json_object_get(s, "attempts"), i, row) {
		char n[24];

		snprintf(n, sizeof(n), "%lld", num(row, "attempts"));
		sample(f, "corp_delivery_attempts", str(row, "channel"),
		    "attempts", n, num(row, "count"));
	}
	family(f, "corp_endpoint_paused", "gauge", "An endpoint paused by "
	    "an outage (1 while the pause runs).");
	json_array_foreach(json_object_get(s, "paused"), i, row)
		sample(f, "corp_endpoint_paused", str(row, "channel"),
		    "endpoint", str(row, "endpoint"),
		    json_is_true(json_object_get(row, "paused")));
	family(f, "corp_endpoint_waiting", "gauge", "Rows waiting on a "
	    "paused endpoint.");
	json_array_foreach(json_object_get(s, "paused"), i, row)
		sample(f, "corp_endpoint_waiting", str(row, "channel"),
		    "endpoint", str(row, "endpoint"), num(row, "waiting"));
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	if (fclose(f) != 0) {
		free(buf);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	*text = buf;
	return 0;
}
