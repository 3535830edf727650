/*
 * dbcopy.c -- see dbcopy.h.
 *
 * corp's rule is prepared statements and bound parameters only, never
 * SQL built from strings.  This file is the one exception, and a narrow
 * one: the copy needs a SELECT, an INSERT, an UPDATE and a DELETE per
 * table, so their text is put together at run time.  The only names that go into
 * them are the table names of corp_tables[] (compiled into corp from
 * lib/sql by embed.sh) and the column names SQLite's own schema gives
 * for those tables (pragma_table_info); every one is checked to be a
 * plain lower-case identifier and is double-quoted anyway.  Nothing of
 * the user's input ever becomes SQL text: the target's spec only picks
 * the connection, and every value travels as a bound parameter.
 *
 * Foreign keys: PostgreSQL checks a NOT DEFERRABLE reference at the end
 * of each statement, and turning the checks off (session_replication_role)
 * needs a superuser, which a managed server does not give.  So tables
 * are copied parents first, in an order computed from SQLite's foreign
 * keys; where references go round in a cycle (users and org_units name
 * each other) or a table names itself (org_units.parent_id), those
 * columns -- they are nullable -- are inserted NULL and set once every
 * table is in.  The checks stay on throughout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "db.h"
#include "dbcopy.h"

/* Tables a fresh schema already fills (lib/sql/0003-queue.sql): the
 * source's rows replace them. */
static const char *const seeded[] = { "notification_settings",
    "route_state", NULL };

struct col {
	char	*name;
	int	 pk;		/* position in the primary key, 0 if none */
	int	 notnull;
	int	 late;		/* inserted NULL, set after every table */
};

struct fk {
	char	*from;		/* the column */
	int	 to;		/* index into corp_tables[], -1: not corp's */
};

struct tab {
	const char	*name;
	const char	*count_sql;	/* corp_tables[]' own */
	struct col	*cols;
	int		 ncols, npk, nlate;
	struct fk	*fks;
	int		 nfks;
	int		 placed;
	int		 identity;	/* PostgreSQL identity column, -1 */
	long long	 rows, maxid;
};

/* A growing string for the generated statements. */
struct sb {
	char	*s;
	size_t	 len, cap;
	int	 oom;
};

static void
sb_add(struct sb *b, const char *s)
{
	size_t n = strlen(s);

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->s, cap);

		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* A quoted identifier. */
static void
sb_ident(struct sb *b, const char *name)
{
	sb_add(b, "\"");
	sb_add(b, name);
	sb_add(b, "\"");
}

static void
sb_param(struct sb *b, int i)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "?%d", i);
	sb_add(b, buf);
}

static int
sb_done(struct sb *b, char **out, struct corp_err *err)
{
	*out = NULL;
	if (b->oom || b->s == NULL) {
		free(b->s);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	*out = b->s;
	return 0;
}

/* Only plain names reach generated SQL: [a-z_][a-z0-9_]*. */
static int
ident_ok(const char *s)
{
	size_t n;

	if (s == NULL || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
	return s[n] == '\0' && n < 64;
}

static int
table_index(const char *name)
{
	size_t i;

	for (i = 0; i < corp_ntables; i++)
		if (strcmp(corp_tables[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
is_seeded(const char *name)
{
	const char *const *s;

	for (s = seeded; *s != NULL; s++)
		if (strcmp(*s, name) == 0)
			return 1;
	return 0;
}

static void
tabs_free(struct tab *t, size_t n)
{
	size_t i;
	int j;

	if (t == NULL)
		return;
	for (i = 0; i < n; i++) {
		for (j = 0; j < t[i].ncols; j++)
			free(t[i].cols[j].name);
		free(t[i].cols);
		for (j = 0; j < t[i].nfks; j++)
			free(t[i].fks[j].from);
		free(t[i].fks);
	}
	free(t);
}

static int
col_index(const struct tab *t, const char *name)
{
	int j;

	for (j = 0; j < t->ncols; j++)
		if (strcmp(t->cols[j].name, name) == 0)
			return j;
	return -1;
}

/* The columns and foreign keys of t in the SQLite source. */
static int
read_schema(struct corp_db *src, struct tab *t, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep(src, &st, "SELECT name, pk, \"notnull\" "
	    "FROM pragma_table_info(?1) ORDER BY cid", err)) != 0)
		return rc;
	corp_bind_text(st, 1, t->name);
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		struct col *c = reallocarray(t->cols, (size_t)t->ncols + 1,
		    sizeof(*c));

		if (c == NULL) {
			corp_reset(st);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		t->cols = c;
		c = &t->cols[t->ncols];
		memset(c, 0, sizeof(*c));
		c->name = corp_strdup(corp_col_text(st, 0));
		c->pk = corp_col_int(st, 1);
		c->notnull = corp_col_int(st, 2);
		t->ncols++;
		if (!ident_ok(c->name)) {
			corp_reset(st);
			return corp_errf(err, CORP_EINTERNAL, "table %s: "
			    "unexpected column name", t->name);
		}
		if (c->pk > 0)
			t->npk++;
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(src, rc, t->name, err);
	if (t->ncols == 0)
		return corp_errf(err, CORP_EINTERNAL, "%s: no table %s in "
		    "the source", corp_db_path(src), t->name);

	if ((rc = corp_db_prep(src, &st, "SELECT \"from\", \"table\" "
	    "FROM pragma_foreign_key_list(?1)", err)) != 0)
		return rc;
	corp_bind_text(st, 1, t->name);
	while ((rc = corp_step(st)) == SQLITE_ROW) {
		struct fk *f = reallocarray(t->fks, (size_t)t->nfks + 1,
		    sizeof(*f));

		if (f == NULL) {
			corp_reset(st);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		t->fks = f;
		f = &t->fks[t->nfks++];
		f->from = corp_strdup(corp_col_text(st, 0));
		f->to = table_index(corp_col_text(st, 1));
		if (f->from == NULL || col_index(t, f->from) < 0) {
			corp_reset(st);
			return corp_errf(err, CORP_EINTERNAL, "table %s: "
			    "unexpected foreign key", t->name);
		}
	}
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(src, rc, t->name, err);
	return 0;
}

/* The references of t that are not in yet (itself included). */
static int
pending_refs(const struct tab *tabs, const struct tab *t, int *nullable)
{
	int j, n = 0;

	*nullable = 1;
	for (j = 0; j < t->nfks; j++) {
		if (t->fks[j].to < 0 || (tabs[t->fks[j].to].placed &&
		    &tabs[t->fks[j].to] != t))
			continue;
		n++;
		if (t->cols[col_index(t, t->fks[j].from)].notnull)
			*nullable = 0;
	}
	return n;
}

/*
 * order[] gets the tables parents first.  A table is next when every
 * table it names is in; when none is (a cycle), the first whose missing
 * references are all nullable goes in with those columns late.  A
 * reference of a table to itself is always late.
 */
static int
copy_order(struct tab *tabs, size_t n, size_t *order, struct corp_err *err)
{
	size_t k, i, pick;
	int j, nullable, best;

	for (k = 0; k < n; k++) {
		pick = n;
		for (i = 0; i < n && pick == n; i++) {
			if (tabs[i].placed)
				continue;
			best = 1;
			for (j = 0; j < tabs[i].nfks; j++) {
				int to = tabs[i].fks[j].to;

				if (to >= 0 && to != (int)i && !tabs[to].placed)
					best = 0;
			}
			if (best)
				pick = i;
		}
		for (i = 0; i < n && pick == n; i++)
			if (!tabs[i].placed &&
			    pending_refs(tabs, &tabs[i], &nullable) > 0 &&
			    nullable)
				pick = i;
		if (pick == n)
			return corp_errf(err, CORP_EINTERNAL, "the tables' "
			    "foreign keys form a cycle through NOT NULL "
			    "columns; no order to copy them in");
		for (j = 0; j < tabs[pick].nfks; j++) {
			int to = tabs[pick].fks[j].to;
			struct col *c;

			if (to < 0 || (to != (int)pick && tabs[to].placed))
				continue;
			c = &tabs[pick].cols[col_index(&tabs[pick],
			    tabs[pick].fks[j].from)];
			if (c->notnull)
				return corp_errf(err, CORP_EINTERNAL, "table "
				    "%s: %s names its own table and is NOT "
				    "NULL; no order to copy it in",
				    tabs[pick].name, c->name);
			if (!c->late)
				tabs[pick].nlate++;
			c->late = 1;
		}
		tabs[pick].placed = 1;
		order[k] = pick;
	}
	return 0;
}

/* The PostgreSQL identity column of t, if any. */
static int
find_identity(struct corp_db *dst, struct tab *t, struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	t->identity = -1;
	if ((rc = corp_db_prep(dst, &st, "SELECT a.attname FROM pg_attribute a "
	    "WHERE a.attrelid = to_regclass(CAST(?1 AS TEXT)) "
	    "AND a.attnum > 0 AND NOT a.attisdropped "
	    "AND a.attidentity <> ''", err)) != 0)
		return rc;
	corp_bind_text(st, 1, t->name);
	while ((rc = corp_step(st)) == SQLITE_ROW)
		t->identity = col_index(t, corp_col_text(st, 0));
	corp_reset(st);
	if (rc != SQLITE_DONE)
		return corp_db_fail(dst, rc, t->name, err);
	return 0;
}

/* Column i of the source row, bound as parameter p of the target's. */
static int
bind_value(struct corp_stmt *from, int i, struct corp_stmt *to, int p,
    const char *table, struct corp_err *err)
{
	switch (corp_col_type(from, i)) {
	case SQLITE_NULL:
		corp_bind_null(to, p);
		break;
	case SQLITE_INTEGER:
		corp_bind_int64(to, p, corp_col_int64(from, i));
		break;
	case SQLITE_FLOAT:
		/* %.17g on the way: the same double arrives. */
		corp_bind_double(to, p, corp_col_double(from, i));
		break;
	case SQLITE_TEXT:
		corp_bind_text(to, p, corp_col_text(from, i));
		break;
	default:
		return corp_errf(err, CORP_EINTERNAL, "table %s: a BLOB "
		    "value; corp stores none", table);
	}
	return 0;
}

/* INSERT INTO t (every column) VALUES (?1, ...), ... for nrows rows. */
static int
insert_sql(const struct tab *t, int nrows, char **out, struct corp_err *err)
{
	struct sb w = { 0 };
	int r, j;

	sb_add(&w, "INSERT INTO ");
	sb_ident(&w, t->name);
	sb_add(&w, " (");
	for (j = 0; j < t->ncols; j++) {
		sb_add(&w, j > 0 ? ", " : "");
		sb_ident(&w, t->cols[j].name);
	}
	sb_add(&w, ") VALUES ");
	for (r = 0; r < nrows; r++) {
		sb_add(&w, r > 0 ? ", (" : "(");
		for (j = 0; j < t->ncols; j++) {
			sb_add(&w, j > 0 ? ", " : "");
			sb_param(&w, r * t->ncols + j + 1);
		}
		sb_add(&w, ")");
	}
	return sb_done(&w, out, err);
}

/* The rows of t in the source. */
static int
count_rows(struct corp_db *src, const struct tab *t, long long *n,
    struct corp_err *err)
{
	struct corp_stmt *st;
	int rc;

	if ((rc = corp_db_prep_once(src, &st, t->count_sql, err)) != 0)
		return rc;
	if ((rc = corp_step(st)) == SQLITE_ROW)
		*n = corp_col_int64(st, 0);
	corp_stmt_free(st);
	return rc == SQLITE_ROW ? 0 : corp_db_fail(src, rc, t->name, err);
}

/*
 * SELECT every column FROM t ORDER BY its key; INSERT them all, BATCH
 * rows per statement (one round trip, one firing of the statement
 * triggers), the last few one by one.
 */
#define BATCH_PARAMS	8000	/* well under PostgreSQL's 65535 */
#define BATCH_ROWS	200

/* The rows copied so far, of every table's, for the progress hook. */
struct copy_prog {
	const struct corp_dbcopy_progress *p;
	long long	 done, total;
};

static int
copy_rows(struct corp_db *src, struct corp_db *dst, struct tab *t,
    struct copy_prog *cp, struct corp_err *err)
{
	struct corp_stmt *sel = NULL, *one = NULL, *many = NULL, *ins;
	struct sb s = { 0 };
	char *ssql = NULL, *sql1 = NULL, *sqln = NULL;
	long long total = 0, nbatched, i;
	int j, k, rc, first, batch, inbatch = 0;

	batch = BATCH_PARAMS / t->ncols;
	if (batch > BATCH_ROWS)
		batch = BATCH_ROWS;
	if (batch < 1)
		batch = 1;
	sb_add(&s, "SELECT ");
	for (j = 0; j < t->ncols; j++) {
		sb_add(&s, j > 0 ? ", " : "");
		sb_ident(&s, t->cols[j].name);
	}
	sb_add(&s, " FROM ");
	sb_ident(&s, t->name);
	for (k = 1, first = 1; k <= t->npk; k++)
		for (j = 0; j < t->ncols; j++)
			if (t->cols[j].pk == k) {
				sb_add(&s, first ? " ORDER BY " : ", ");
				sb_ident(&s, t->cols[j].name);
				first = 0;
			}
	/* The source is under its write lock: the count holds. */
	if ((rc = count_rows(src, t, &total, err)) != 0)
		goto out;
	nbatched = total / batch * batch;
	if ((rc = sb_done(&s, &ssql, err)) != 0 ||
	    (rc = insert_sql(t, 1, &sql1, err)) != 0 ||
	    (nbatched > 0 && (rc = insert_sql(t, batch, &sqln, err)) != 0) ||
	    (rc = corp_db_prep_once(src, &sel, ssql, err)) != 0 ||
	    (rc = corp_db_prep_once(dst, &one, sql1, err)) != 0 ||
	    (nbatched > 0 &&
	    (rc = corp_db_prep_once(dst, &many, sqln, err)) != 0))
		goto out;
	for (i = 0; (rc = corp_step(sel)) == SQLITE_ROW; i++) {
		int off;

		if (i >= total) {
			rc = corp_errf(err, CORP_EINTERNAL, "table %s: more "
			    "rows than counted", t->name);
			goto out;
		}
		ins = i < nbatched ? many : one;
		off = i < nbatched ? inbatch * t->ncols : 0;
		for (j = 0; j < t->ncols; j++) {
			if (t->cols[j].late)
				corp_bind_null(ins, off + j + 1);
			else if ((rc = bind_value(sel, j, ins, off + j + 1,
			    t->name, err)) != 0)
				goto out;
		}
		if ((k = t->identity) >= 0 &&
		    corp_col_type(sel, k) == SQLITE_INTEGER &&
		    corp_col_int64(sel, k) > t->maxid)
			t->maxid = corp_col_int64(sel, k);
		if (ins == many && ++inbatch < batch)
			continue;
		inbatch = 0;
		if ((rc = corp_db_exec(dst, ins, t->name, err)) != 0)
			goto out;
		t->rows += corp_db_changes(dst);
		if (cp->p != NULL) {
			cp->done += corp_db_changes(dst);
			cp->p->fn(cp->p->arg, cp->done, cp->total);
		}
	}
	if (rc != SQLITE_DONE) {
		rc = corp_db_fail(src, rc, t->name, err);
		goto out;
	}
	rc = 0;
	if (t->rows != total)
		rc = corp_errf(err, CORP_EINTERNAL, "table %s: %lld rows "
		    "copied of %lld", t->name, t->rows, total);
out:
	corp_stmt_free(sel);
	corp_stmt_free(one);
	corp_stmt_free(many);
	free(ssql);
	free(sql1);
	free(sqln);
	return rc;
}

/* UPDATE t SET late columns WHERE key, for the rows that have them. */
static int
copy_late(struct corp_db *src, struct corp_db *dst, struct tab *t,
    struct corp_err *err)
{
	struct corp_stmt *sel = NULL, *upd = NULL;
	struct sb s = { 0 }, w = { 0 };
	char *ssql = NULL, *usql = NULL;
	int j, p, rc, first, n;

	if (t->nlate == 0)
		return 0;
	if (t->npk == 0)
		return corp_errf(err, CORP_EINTERNAL, "table %s: no primary "
		    "key to set its references by", t->name);
	sb_add(&s, "SELECT ");
	sb_add(&w, "UPDATE ");
	sb_ident(&w, t->name);
	sb_add(&w, " SET ");
	/* Late columns first, then the key, in both statements. */
	for (j = 0, p = 0; j < t->ncols; j++)
		if (t->cols[j].late) {
			sb_add(&s, p ? ", " : "");
			sb_add(&w, p ? ", " : "");
			sb_ident(&s, t->cols[j].name);
			sb_ident(&w, t->cols[j].name);
			sb_add(&w, " = ");
			sb_param(&w, ++p);
		}
	for (j = 0; j < t->ncols; j++)
		if (t->cols[j].pk > 0) {
			sb_add(&s, ", ");
			sb_ident(&s, t->cols[j].name);
			sb_add(&w, p == t->nlate ? " WHERE " : " AND ");
			sb_ident(&w, t->cols[j].name);
			sb_add(&w, " = ");
			sb_param(&w, ++p);
		}
	sb_add(&s, " FROM ");
	sb_ident(&s, t->name);
	for (j = 0, first = 1; j < t->ncols; j++)
		if (t->cols[j].late) {
			sb_add(&s, first ? " WHERE " : " OR ");
			sb_ident(&s, t->cols[j].name);
			sb_add(&s, " IS NOT NULL");
			first = 0;
		}
	if ((rc = sb_done(&s, &ssql, err)) != 0 ||
	    (rc = sb_done(&w, &usql, err)) != 0 ||
	    (rc = corp_db_prep_once(src, &sel, ssql, err)) != 0 ||
	    (rc = corp_db_prep_once(dst, &upd, usql, err)) != 0)
		goto out;
	n = t->nlate + t->npk;
	while ((rc = corp_step(sel)) == SQLITE_ROW) {
		for (j = 0; j < n; j++)
			if ((rc = bind_value(sel, j, upd, j + 1, t->name,
			    err)) != 0)
				goto out;
		if ((rc = corp_db_exec(dst, upd, t->name, err)) != 0)
			goto out;
		if (corp_db_changes(dst) != 1) {
			rc = corp_errf(err, CORP_EINTERNAL, "table %s: a row "
			    "to set references in is missing", t->name);
			goto out;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : corp_db_fail(src, rc, t->name, err);
out:
	corp_stmt_free(sel);
	corp_stmt_free(upd);
	free(ssql);
	free(usql);
	return rc;
}

/*
 * Move t's identity sequence past every copied id; for a table that was
 * AUTOINCREMENT in SQLite (events), past its sqlite_sequence too, so an
 * id freed by a delete is never handed out again.
 */
static int
move_sequence(struct corp_db *src, struct corp_db *dst, struct tab *t,
    struct corp_err *err)
{
	struct corp_stmt *st;
	long long max = t->maxid;
	int rc;

	if (t->identity < 0)
		return 0;
	if ((rc = corp_db_prep(src, &st, "SELECT seq FROM sqlite_sequence "
	    "WHERE name = ?1", err)) != 0)
		return rc;
	corp_bind_text(st, 1, t->name);
	if ((rc = corp_step(st)) == SQLITE_ROW && corp_col_int64(st, 0) > max)
		max = corp_col_int64(st, 0);
	corp_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return corp_db_fail(src, rc, "sqlite_sequence", err);
	if (max <= 0)
		return 0;
	if ((rc = corp_db_prep(dst, &st, "SELECT setval(pg_get_serial_sequence("
	    "CAST(?1 AS TEXT), CAST(?2 AS TEXT)), CAST(?3 AS BIGINT))",
	    err)) != 0)
		return rc;
	corp_bind_text(st, 1, t->name);
	corp_bind_text(st, 2, t->cols[t->identity].name);
	corp_bind_int64(st, 3, max);
	return corp_db_exec(dst, st, t->name, err);
}

/* The target holds no corp row but the seeded ones: delete those. */
static int
target_empty(struct corp_db *dst, struct corp_err *err)
{
	struct corp_stmt *st;
	struct sb b = { 0 };
	char *sql;
	long long n;
	size_t i;
	int rc;

	for (i = 0; i < corp_ntables; i++) {
		if ((rc = corp_db_prep_once(dst, &st, corp_tables[i].count_sql,
		    err)) != 0)
			return rc;
		if ((rc = corp_step(st)) != SQLITE_ROW) {
			corp_stmt_free(st);
			return corp_db_fail(dst, rc, corp_tables[i].name, err);
		}
		n = corp_col_int64(st, 0);
		corp_stmt_free(st);
		if (n == 0)
			continue;
		if (!is_seeded(corp_tables[i].name))
			return corp_errf(err, CORP_ECONFLICT, "%s: not empty: "
			    "table %s has %lld row%s; migrate-to copies into "
			    "a database without corp data (createdb a new "
			    "one)", corp_db_path(dst), corp_tables[i].name, n,
			    n == 1 ? "" : "s");
		memset(&b, 0, sizeof(b));
		sb_add(&b, "DELETE FROM ");
		sb_ident(&b, corp_tables[i].name);
		if ((rc = sb_done(&b, &sql, err)) != 0)
			return rc;
		if ((rc = corp_db_prep_once(dst, &st, sql, err)) == 0) {
			rc = corp_db_exec(dst, st, corp_tables[i].name, err);
			corp_stmt_free(st);
		}
		free(sql);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
copy_all(struct corp_db *src, struct corp_db *dst,
    const struct corp_dbcopy_progress *p, json_t **out, struct corp_err *err)
{
	struct copy_prog cp = { p, 0, 0 };
	long long rows;
	struct tab *tabs;
	size_t *order = NULL, i, n = corp_ntables;
	json_t *tables = NULL;
	int rc, v;

	if ((tabs = calloc(n, sizeof(*tabs))) == NULL ||
	    (order = calloc(n, sizeof(*order))) == NULL) {
		free(tabs);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	for (i = 0; i < n; i++) {
		tabs[i].name = corp_tables[i].name;
		tabs[i].count_sql = corp_tables[i].count_sql;
		if (!ident_ok(tabs[i].name)) {
			rc = corp_errf(err, CORP_EINTERNAL, "unexpected "
			    "table name");
			goto out;
		}
		if ((rc = read_schema(src, &tabs[i], err)) != 0 ||
		    (rc = find_identity(dst, &tabs[i], err)) != 0)
			goto out;
	}
	if ((rc = copy_order(tabs, n, order, err)) != 0 ||
	    (rc = target_empty(dst, err)) != 0)
		goto out;
	/* The rows in all, for the progress line (the source is locked:
	 * the counts hold). */
	for (i = 0; p != NULL && i < n; i++) {
		if ((rc = count_rows(src, &tabs[i], &rows, err)) != 0)
			goto out;
		cp.total += rows;
	}
	for (i = 0; i < n; i++)
		if ((rc = copy_rows(src, dst, &tabs[order[i]], &cp, err)) != 0)
			goto out;
	for (i = 0; i < n; i++)
		if ((rc = copy_late(src, dst, &tabs[order[i]], err)) != 0 ||
		    (rc = move_sequence(src, dst, &tabs[order[i]], err)) != 0)
			goto out;
	if ((rc = corp_db_version(dst, &v, err)) != 0)
		goto out;
	tables = json_object();
	for (i = 0; i < n; i++)
		json_object_set_new(tables, tabs[i].name,
		    json_integer(tabs[i].rows));
	*out = json_pack("{s:s, s:s, s:o, s:i}", "from", corp_db_path(src),
	    "to", corp_db_path(dst), "tables", tables, "schema_version", v);
	if (*out == NULL)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
out:
	tabs_free(tabs, n);
	free(order);
	return rc;
}

int
corp_dbcopy_to(const char *target, const struct corp_dbcopy_progress *p,
    json_t **out, struct corp_err *err)
{
	struct corp_db *src = NULL, *dst = NULL;
	int rc;

	*out = NULL;
	if (!corp_db_spec_is_pg(target))
		/* Not echoed: it may be a mistyped URI with a password. */
		return corp_errf(err, CORP_EUSAGE, "migrate-to: the target "
		    "is not a PostgreSQL database (postgresql://... or a "
		    "libpq key=value string)");
	if ((rc = corp_db_spec_check(target, "migrate-to", err)) != 0)
		return rc;
	/* CORP_DB may hold a password: never shown. */
	if (corp_db_spec_is_pg(corp_cfg.db))
		return corp_errf(err, CORP_EUSAGE, "migrate-to: the database "
		    "to copy from (CORP_DB, --db) is PostgreSQL already; "
		    "migrate-to copies a SQLite database");
	if ((rc = corp_db_open(&src, 0, err)) != 0)
		return rc;
	if ((rc = corp_db_open_spec(&dst, target, CORP_DB_CREATE, err)) != 0)
		goto out;
	/* Writers of the source wait (then 75) until the copy is done. */
	if ((rc = corp_db_begin(src, err)) != 0)
		goto out;
	if ((rc = corp_db_begin(dst, err)) != 0)
		goto out;
	if ((rc = copy_all(src, dst, p, out, err)) != 0)
		goto out;
	if ((rc = corp_db_commit(dst, err)) != 0) {
		json_decref(*out);
		*out = NULL;
	}
out:
	if (rc != 0 && dst != NULL)
		corp_db_rollback(dst);
	if (src != NULL)
		corp_db_rollback(src);
	if (rc != 0 && err->msg[0] != '\0' && strncmp(err->msg,
	    "migrate-to", 10) != 0)
		corp_errprefix(err, "migrate-to");
	corp_db_close(dst);
	corp_db_close(src);
	return rc;
}
