/* clifmt.c -- listings as a table or TSV; see clifmt.h. */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "cli.h"
#include "clifmt.h"
#include "clock.h"
#include "text.h"

struct cli_table {
	int		 tsv;
	const char	*zone;
	json_t		*cols;		/* the field names, first seen first */
	json_t		*rows;		/* table: held until the end */
	int		 header;	/* tsv: the header is out */
};

static void
oom(void)
{
	cli_die(CORP_EINTERNAL, "out of memory");
}

/* One line to stdout; a closed pipe ends the listing quietly (cli_out). */
static void
out(const char *s)
{
	errno = 0;
	if (fputs(s, stdout) == EOF || putchar('\n') == EOF) {
		if (errno == EPIPE)
			exit(0);
		cli_die(CORP_EINTERNAL, "stdout: %s",
		    strerror(errno ? errno : EIO));
	}
}

struct cli_table *
cli_table_new(int tsv, const char *zone)
{
	struct cli_table *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		oom();
	t->tsv = tsv;
	t->zone = zone;
	t->cols = json_array();
	t->rows = json_array();
	if (t->cols == NULL || t->rows == NULL)
		oom();
	return t;
}

static int
has_col(json_t *cols, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(cols, i, c)
		if (strcmp(json_string_value(c), name) == 0)
			return 1;
	return 0;
}

static int
ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int
time_field(const char *name)
{
	return strcmp(name, "at") == 0 || strcmp(name, "date") == 0 ||
	    strcmp(name, "since") == 0 || strcmp(name, "until") == 0 ||
	    strcmp(name, "from") == 0 || ends(name, "_at") ||
	    ends(name, "_until") || ends(name, "_from");
}

/* "2026-01-05T10:00:00Z" in zone, or NULL when s is not that form. */
static char *
local_time(const char *s, const char *zone)
{
	struct corp_local l;
	struct corp_err e;
	time_t t;
	char *r;
	long off;

	if (strlen(s) != 20 || s[4] != '-' || s[10] != 'T' || s[19] != 'Z' ||
	    corp_time_parse(s, &t, &e) != 0 ||
	    corp_tz_local(zone ? zone : "UTC", t, &l) != 0)
		return NULL;
	off = l.gmtoff < 0 ? -l.gmtoff : l.gmtoff;
	if (l.gmtoff == 0 && (zone == NULL || strcmp(zone, "UTC") == 0)) {
		if (asprintf(&r, "%04d-%02d-%02d %02d:%02d:%02dZ", l.year,
		    l.mon, l.mday, l.hour, l.min, l.sec) < 0)
			oom();
	} else if (asprintf(&r, "%04d-%02d-%02d %02d:%02d:%02d%c%02ld:%02ld",
	    l.year, l.mon, l.mday, l.hour, l.min, l.sec,
	    l.gmtoff < 0 ? '-' : '+', off / 3600, off % 3600 / 60) < 0)
		oom();
	return r;
}

/* Controls (C0, DEL, C1) and the invisible format characters that
 * reorder or hide text (bidi overrides and isolates, zero-width ones,
 * U+2028/9, tags) as '?', by the one cleaner of outside text (text.h):
 * no cell can move the cursor, send the terminal an escape sequence or
 * show the operator other text than it holds (corp.7 SECURITY). */
static void
sanitize(char *m)
{
	corp_server_text(m);
}

/* TSV: \ tab newline CR escaped, and every other control byte (C0, DEL
 * and UTF-8's C1, U+0080..U+009F) as \xHH: a cell can send a terminal
 * no escape sequence (fresh-eyes round 14: a title's OSC 52 set the
 * clipboard through --format tsv), and a program reads the bytes back. */
static char *
tsv_escape(const char *s)
{
	const unsigned char *p;
	char *r, *q;

	if ((r = malloc(strlen(s) * 8 + 1)) == NULL)
		oom();
	for (p = (const unsigned char *)s, q = r; *p != '\0'; p++)
		switch (*p) {
		case '\\': *q++ = '\\'; *q++ = '\\'; break;
		case '\t': *q++ = '\\'; *q++ = 't'; break;
		case '\n': *q++ = '\\'; *q++ = 'n'; break;
		case '\r': *q++ = '\\'; *q++ = 'r'; break;
		default:
			if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
				q += sprintf(q, "\\xc2\\x%02x", p[1]);
				p++;
			} else if (*p < 0x20 || *p == 0x7f)
				q += sprintf(q, "\\x%02x", *p);
			else
				*q++ = (char)*p;
		}
	*q = '\0';
	return r;
}

/* The text of one cell (malloc'd). */
static char *
cell(const struct cli_table *t, const char *col, json_t *v)
{
	char *s = NULL, *r;

	if (v == NULL || json_is_null(v))
		s = strdup(t->tsv ? "" : "-");
	else if (json_is_string(v)) {
		if (t->tsv || !time_field(col) ||
		    (s = local_time(json_string_value(v), t->zone)) == NULL)
			s = strdup(json_string_value(v));
	} else if (json_is_integer(v)) {
		if (asprintf(&s, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v)) < 0)
			s = NULL;
	} else if (json_is_true(v))
		s = strdup("true");
	else if (json_is_false(v))
		s = strdup("false");
	else
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
		    JSON_PRESERVE_ORDER);
	if (s == NULL)
		oom();
	if (!t->tsv) {
		sanitize(s);
		return s;
	}
	r = tsv_escape(s);
	free(s);
	return r;
}

/* Columns on a terminal; jansson's strings are valid UTF-8. */
static size_t
dwidth(const char *s)
{
	static locale_t u;
	locale_t old;
	mbstate_t st;
	size_t w = 0, n, len = strlen(s);
	wchar_t wc;
	int cw;

	if (u == (locale_t)0)
		u = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (u == (locale_t)0) {
		for (; *s != '\0'; s++)
			w += ((unsigned char)*s & 0xc0) != 0x80;
		return w;
	}
	old = uselocale(u);
	memset(&st, 0, sizeof(st));
	while (len > 0) {
		n = mbrtowc(&wc, s, len, &st);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof(st));
			n = 1;
			cw = 1;
		} else
			cw = wcwidth(wc);
		w += cw < 0 ? 1 : (size_t)cw;
		s += n;
		len -= n;
	}
	uselocale(old);
	return w;
}

static void
add_cols(struct cli_table *t, json_t *row)
{
	const char *k;
	json_t *v;

	json_object_foreach(row, k, v)
		if (!has_col(t->cols, k) &&
		    json_array_append_new(t->cols, json_string(k)) != 0)
			oom();
}

static void
tsv_row(struct cli_table *t, json_t *row, int header)
{
	json_t *c;
	size_t i, len = 0;
	char *line = NULL, *s;
	FILE *m;

	if ((m = open_memstream(&line, &len)) == NULL)
		oom();
	json_array_foreach(t->cols, i, c) {
		const char *name = json_string_value(c);

		s = header ? tsv_escape(name) :
		    cell(t, name, json_object_get(row, name));
		fprintf(m, "%s%s", i ? "\t" : "", s);
		free(s);
	}
	if (fclose(m) != 0)
		oom();
	out(line);
	free(line);
}

void
cli_table_add(struct cli_table *t, json_t *row)
{
	if (!json_is_object(row))
		return;
	if (t->tsv) {
		/* The columns are the first row's: a later field that the
		 * first row lacked is left out (rows of a listing have one
		 * shape). */
		if (!t->header) {
			add_cols(t, row);
			tsv_row(t, NULL, 1);
			t->header = 1;
		}
		tsv_row(t, row, 0);
		return;
	}
	add_cols(t, row);
	if (json_array_append(t->rows, row) != 0)
		oom();
}

void
cli_table_end(struct cli_table *t)
{
	size_t ncol = json_array_size(t->cols), nrow, i, j, k, *w;
	char ***cells, *line = NULL;
	int *num;
	json_t *row, *c;
	size_t len;
	FILE *m;

	nrow = json_array_size(t->rows);
	if (t->tsv || ncol == 0)
		goto done;
	w = calloc(ncol, sizeof(*w));
	num = calloc(ncol, sizeof(*num));
	cells = calloc(nrow + 1, sizeof(*cells));
	if (w == NULL || num == NULL || cells == NULL)
		oom();
	for (j = 0; j < ncol; j++)
		num[j] = 1;
	for (i = 0; i <= nrow; i++) {
		if ((cells[i] = calloc(ncol, sizeof(**cells))) == NULL)
			oom();
		row = i ? json_array_get(t->rows, i - 1) : NULL;
		json_array_foreach(t->cols, j, c) {
			const char *name = json_string_value(c);
			json_t *v;

			if (i == 0) {
				if ((cells[0][j] = strdup(name)) == NULL)
					oom();
				for (k = 0; cells[0][j][k] != '\0'; k++)
					cells[0][j][k] = (char)toupper(
					    (unsigned char)cells[0][j][k]);
			} else {
				v = json_object_get(row, name);
				cells[i][j] = cell(t, name, v);
				if (v != NULL && json_is_number(v) &&
				    num[j] == 1)
					num[j] = 2;
				else if (v != NULL && !json_is_null(v) &&
				    !json_is_number(v))
					num[j] = 0;
			}
			if (dwidth(cells[i][j]) > w[j])
				w[j] = dwidth(cells[i][j]);
		}
	}
	for (i = 0; i <= nrow; i++) {
		if ((m = open_memstream(&line, &len)) == NULL)
			oom();
		for (j = 0; j < ncol; j++) {
			size_t pad = w[j] - dwidth(cells[i][j]);
			int last = j + 1 == ncol;

			if (j > 0)
				fputs("  ", m);
			if (num[j] == 2)
				fprintf(m, "%*s%s", (int)pad, "", cells[i][j]);
			else
				fprintf(m, "%s%*s", cells[i][j],
				    last ? 0 : (int)pad, "");
			free(cells[i][j]);
		}
		if (fclose(m) != 0)
			oom();
		out(line);
		free(line);
		line = NULL;
		free(cells[i]);
	}
	free(cells);
	free(w);
	free(num);
done:
	json_decref(t->cols);
	json_decref(t->rows);
	free(t);
}
