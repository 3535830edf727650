/*
 * check.c -- the invariants corp-db check verifies.  Each entry runs a
 * query that returns one row per problem (first column: a description);
 * the count and the first few descriptions are reported.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "check.h"
#include "cursor.h"
#include "db.h"
#include "event.h"

struct check {
	const char	*name;
	const char	*sql;	/* rows = problems; column 0 describes one */
};

static const struct check checks[] = {
	{ "integrity", "SELECT integrity_check FROM pragma_integrity_check "
	    "WHERE integrity_check <> 'ok'" },
	{ "foreign_keys", "SELECT \"table\" || ' rowid ' || "
	    "coalesce(rowid, '?') || ' -> ' || parent "
	    "FROM pragma_foreign_key_check" },
#include "check_list.h"
};

/*
 * PostgreSQL checks its own pages and enforces every foreign key at
 * once, so the first two become what can still be wrong there: an
 * index left invalid (a failed CREATE INDEX CONCURRENTLY, a crash) and a
 * foreign key or check not validated.
 */
static const struct check pg_checks[] = {
	/* The identity sequence, as sqlite_sequence on SQLite. */
	{ "event_sequence", "SELECT 'events sequence ' || "
	    "coalesce(s.last_value::text, 'unused') || ' is below "
	    "max(event_id) ' || m.mx FROM (SELECT max(event_id) mx "
	    "FROM events) m LEFT JOIN pg_sequences s ON s.schemaname = "
	    "current_schema() AND s.sequencename = 'events_event_id_seq' "
	    "WHERE m.mx IS NOT NULL AND (s.last_value IS NULL OR "
	    "s.last_value < m.mx)" },
	{ "watermark_within_events", "SELECT 'route watermark ' || "
	    "r.watermark || ' is beyond the last event ' || e.last "
	    "FROM route_state r, (SELECT GREATEST(coalesce((SELECT "
	    "last_value FROM pg_sequences WHERE schemaname = "
	    "current_schema() AND sequencename = 'events_event_id_seq'), 0), "
	    "coalesce((SELECT max(event_id) FROM events), 0)) AS last) e "
	    "WHERE r.watermark > e.last" },
	{ "integrity", "SELECT 'invalid index ' || c.relname "
	    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
	    "JOIN pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE n.nspname = current_schema() "
	    "AND (NOT i.indisvalid OR NOT i.indisready)" },
	{ "foreign_keys", "SELECT 'constraint ' || conname || ' not valid' "
	    "FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace "
	    "WHERE n.nspname = current_schema() AND NOT k.convalidated" },
};

#define nelem(a) (sizeof(a) / sizeof((a)[0]))

static int
append(char **detail, const char *s)
{
	char *n;
	size_t old = *detail ? strlen(*detail) : 0;

	if (old > 400)
		return 0;
	if (corp_asprintf(&n, "%s%s%s", *detail ? *detail : "",
	    *detail ? "; " : "", s ? s : "(null)") < 0)
		return -1;
	free(*detail);
	*detail = n;
	return 0;
}

/*
 * Files beside the database: every channel cursor (seed 000) names an
 * event that exists; a cursor beyond the last event would skip events
 * still to come.  A cursor file that cannot be read is a problem too.
 */
static int
check_cursors(struct corp_db *db, struct corp_check_result *r,
    struct corp_err *err)
{
	struct corp_cursor c;
	struct corp_err e;
	char *pat, buf[256];
	long long last;
	glob_t g;
	size_t i;
	int rc;

	r->name = "cursor_within_events";
	if ((rc = corp_event_last_id(db, &last, err)) != 0)
		return rc;
	if (corp_asprintf(&pat, "%s/bot_deliveries_cursor_*.json",
	    corp_cfg.data_dir) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	memset(&g, 0, sizeof(g));
	rc = glob(pat, 0, NULL, &g);
	free(pat);
	if (rc != 0 && rc != GLOB_NOMATCH)
		return corp_errf(err, CORP_EINTERNAL, "%s: cannot list cursors",
		    corp_cfg.data_dir);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/');
		char ch[64];
		size_t n;

		base = base ? base + 1 : g.gl_pathv[i];
		n = strlen(base) - strlen("bot_deliveries_cursor_") -
		    strlen(".json");
		if (n == 0 || n >= sizeof(ch))
			continue;
		memcpy(ch, base + strlen("bot_deliveries_cursor_"), n);
		ch[n] = '\0';
		if (corp_cursor_get(ch, &c, &e) != 0) {
			r->problems++;
			append(&r->detail, e.msg);
			continue;
		}
		if (c.audit > last) {
			r->problems++;
			snprintf(buf, sizeof(buf), "cursor of channel %s at "
			    "event %lld, beyond the last event %lld", ch,
			    c.audit, last);
			append(&r->detail, buf);
		}
	}
	globfree(&g);
	return 0;
}

int
corp_check_run(struct corp_db *db, struct corp_check_result **out,
    size_t *np, struct corp_err *err)
{
	size_t n = sizeof(checks) / sizeof(checks[0]), i, j;
	struct corp_check_result *r;
	struct corp_stmt *st;
	struct corp_err e;
	int rc;

	if ((r = calloc(n + 1, sizeof(*r))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		const char *sql = checks[i].sql;

		r[i].name = checks[i].name;
		for (j = 0; corp_db_is_pg(db) && j < nelem(pg_checks); j++)
			if (strcmp(pg_checks[j].name, checks[i].name) == 0)
				sql = pg_checks[j].sql;
		rc = corp_db_prep_once(db, &st, sql, &e);
		if (rc != 0) {
			/* Corruption can surface here: that is a finding. */
			r[i].problems = 1;
			append(&r[i].detail, e.msg);
			continue;
		}
		while ((rc = corp_step(st)) == SQLITE_ROW) {
			r[i].problems++;
			if (append(&r[i].detail, corp_col_text(st, 0)) != 0) {
				corp_stmt_free(st);
				corp_check_free(r, n);
				return corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
			}
		}
		if (rc != SQLITE_DONE) {
			int prim = rc & 0xff;

			if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
				corp_stmt_free(st);
				corp_check_free(r, n);
				return corp_db_fail(db, rc, checks[i].name, err);
			}
			r[i].problems++;
			append(&r[i].detail, corp_db_errmsg(db));
		}
		corp_stmt_free(st);
	}
	if ((rc = check_cursors(db, &r[n], err)) != 0) {
		corp_check_free(r, n + 1);
		return rc;
	}
	*out = r;
	*np = n + 1;
	return 0;
}

void
corp_check_free(struct corp_check_result *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(r[i].detail);
	free(r);
}
