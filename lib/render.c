/* render.c -- see render.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corp.h"
#include "catalog.h"
#include "clock.h"
#include "render.h"
#include "text.h"

/* A growing string; oom is sticky so callers check once at the end. */
struct sb {
	char	*p;
	size_t	 n, cap;
	int	 oom;
};

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < b->n + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* The result (never NULL unless out of memory); frees on oom. */
static char *
sb_done(struct sb *b)
{
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	if (b->p == NULL)
		return strdup("");
	return b->p;
}

/* ---- lengths and the cutter ------------------------------------------ */

enum { TOK_CHAR, TOK_TAG, TOK_ENTITY };

/* Bytes of the UTF-8 character starting with c (1 for a stray byte). */
static size_t
u8len(unsigned char c)
{
	if (c >= 0xf0 && c <= 0xf7)
		return 4;
	if (c >= 0xe0)
		return c <= 0xef ? 3 : 1;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/*
 * The token at s (NUL-terminated, *s != 0): a tag "<...>", an entity
 * "&name;" or "&#N;", or one UTF-8 character.  Returns its length in
 * bytes; *units is its visible length in UTF-16 code units.
 */
static size_t
token(const char *s, size_t *units, int *kind)
{
	size_t n, i;

	if (*s == '<') {
		const char *e = strchr(s, '>');

		if (e != NULL) {
			*units = 0;
			*kind = TOK_TAG;
			return (size_t)(e - s) + 1;
		}
	}
	if (*s == '&') {
		for (i = 1; i < 12 && (isalnum((unsigned char)s[i]) ||
		    (i == 1 && s[i] == '#')); i++)
			;
		if (i > 1 && s[i] == ';') {
			unsigned long cp = 0;

			if (s[1] == '#')
				cp = s[2] == 'x' || s[2] == 'X' ?
				    strtoul(s + 3, NULL, 16) :
				    strtoul(s + 2, NULL, 10);
			*units = cp > 0xffff ? 2 : 1;
			*kind = TOK_ENTITY;
			return i + 1;
		}
	}
	*kind = TOK_CHAR;
	n = u8len((unsigned char)*s);
	for (i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			n = 1;		/* broken sequence: one byte */
			break;
		}
	*units = n == 4 ? 2 : 1;
	return n;
}

size_t
corp_utf16_len(const char *s, size_t n)
{
	size_t i, units = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c & 0xc0) == 0x80)
			continue;	/* continuation byte */
		units += (c >= 0xf0 && c <= 0xf7) ? 2 : 1;
	}
	return units;
}

size_t
corp_html_len(const char *s)
{
	size_t units = 0, u;
	int kind;

	while (*s != '\0') {
		s += token(s, &u, &kind);
		units += u;
	}
	return units;
}

static int
isspc(char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/* Tag name of "<b>", "</a>", "<a href=...>" into name (size 16). */
static int
tagname(const char *t, size_t n, char *name, int *closing)
{
	size_t i = 1, k = 0;

	*closing = t[1] == '/';
	if (*closing)
		i++;
	while (i < n && isalnum((unsigned char)t[i]) && k < 15)
		name[k++] = t[i++];
	name[k] = '\0';
	return k > 0 && t[n - 2] != '/';	/* <br/> opens nothing */
}

/* The code point of the UTF-8 character of n bytes at s. */
static unsigned long
u8cp(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	switch (n) {
	case 2:
		return (unsigned long)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
	case 3:
		return (unsigned long)(u[0] & 0x0f) << 12 |
		    (unsigned long)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
	case 4:
		return (unsigned long)(u[0] & 0x07) << 18 |
		    (unsigned long)(u[1] & 0x3f) << 12 |
		    (unsigned long)(u[2] & 0x3f) << 6 | (u[3] & 0x3f);
	default:
		return u[0];
	}
}

#define ZWJ	0x200dUL

/*
 * A character that belongs to the one before it on screen: a cut never
 * goes right before it.  Combining marks of the common blocks, variation
 * selectors, ZWJ/ZWNJ, skin-tone modifiers, emoji tag characters (not
 * the full grapheme rules of UAX #29: no Unicode tables in corp).
 */
static int
extends(unsigned long cp)
{
	return (cp >= 0x300 && cp <= 0x36f) ||
	    (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x1dc0 && cp <= 0x1dff) ||
	    cp == 0x200c || cp == ZWJ || (cp >= 0x20d0 && cp <= 0x20ff) ||
	    (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xfe20 && cp <= 0xfe2f) ||
	    (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
	    (cp >= 0xe0020 && cp <= 0xe007f) ||
	    (cp >= 0xe0100 && cp <= 0xe01ef);
}

static int
regional(unsigned long cp)
{
	return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

/*
 * The end of the last visible token of s[0, end) that is not white
 * space: a cut there drops trailing blanks and the tags after them
 * (the ones left open are closed by the caller).
 */
static size_t
trim_end(const char *s, size_t end)
{
	size_t i, n, u, last = 0;
	int kind;

	for (i = 0; i < end; i += n) {
		n = token(s + i, &u, &kind);
		if (kind != TOK_TAG && !(kind == TOK_CHAR && isspc(s[i])))
			last = i + n;
	}
	return last;
}

int
corp_html_cut(const char *s, size_t limit, char **out)
{
	static const char ellipsis[] = "\xe2\x80\xa6";	/* U+2026 */
	char stack[32][16], name[16];
	size_t i, n, u, room, used = 0, ws = 0, ws_units = 0, fit = 0,
	    prev_end = 0, ri = 0, cand, depth = 0;
	unsigned long cp, prev_cp = 0;
	struct sb b = { 0 };
	int kind, closing, safe;

	*out = NULL;
	if (limit < 2)
		return -1;
	if (corp_html_len(s) <= limit)
		return (*out = strdup(s)) == NULL ? -1 : 0;
	/*
	 * room: the units the text may keep before the ellipsis.  ws is the
	 * last white space within it (ws_units before it); fit the last
	 * boundary between two visible tokens where a cut splits nothing
	 * that shows as one symbol.
	 */
	room = limit - 1;
	for (i = 0; s[i] != '\0'; i += n) {
		n = token(s + i, &u, &kind);
		if (kind == TOK_TAG)
			continue;
		cp = kind == TOK_CHAR ? u8cp(s + i, n) : 0;
		safe = !extends(cp) && prev_cp != ZWJ &&
		    !(regional(cp) && ri % 2 == 1);
		if (safe)
			fit = prev_end;
		if (kind == TOK_CHAR && isspc(s[i]) && used <= room) {
			ws = i;
			ws_units = used;
		}
		if (used + u > room)
			break;
		used += u;
		prev_end = i + n;
		prev_cp = cp;
		ri = regional(cp) ? ri + 1 : 0;
	}
	/* A white space that keeps less than half the room wastes it. */
	cand = ws_units > 0 && ws_units * 2 >= room ? ws : fit;
	cand = trim_end(s, cand);
	/* The tags open at the cut, to close them. */
	for (i = 0; i < cand; i += n) {
		n = token(s + i, &u, &kind);
		if (kind != TOK_TAG || !tagname(s + i, n, name, &closing))
			continue;
		if (!closing) {
			if (depth < sizeof(stack) / sizeof(stack[0]))
				memcpy(stack[depth], name, sizeof(name));
			depth++;
			continue;
		}
		while (depth > 0) {
			depth--;
			if (depth < sizeof(stack) / sizeof(stack[0]) &&
			    strcmp(stack[depth], name) == 0)
				break;
		}
	}
	sb_add(&b, s, cand);
	while (depth > 0) {
		depth--;
		if (depth < sizeof(stack) / sizeof(stack[0])) {
			sb_str(&b, "</");
			sb_str(&b, stack[depth]);
			sb_str(&b, ">");
		}
	}
	sb_str(&b, ellipsis);
	return (*out = sb_done(&b)) == NULL ? -1 : 0;
}

/* Append the UTF-8 encoding of cp. */
static void
sb_cp(struct sb *b, unsigned long cp)
{
	char u[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char)cp;
		sb_add(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		sb_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		sb_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		sb_add(b, u, 4);
	}
}

/* Decode the entities of n bytes of s into b. */
static void
sb_unescape(struct sb *b, const char *s, size_t n)
{
	static const struct { const char *e; char c; } ents[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	size_t i = 0, k, len;

	while (i < n) {
		if (s[i] != '&') {
			sb_add(b, s + i++, 1);
			continue;
		}
		for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
			len = strlen(ents[k].e);
			if (n - i >= len && memcmp(s + i, ents[k].e, len) == 0)
				break;
		}
		if (k < sizeof(ents) / sizeof(ents[0])) {
			sb_add(b, &ents[k].c, 1);
			i += len;
		} else if (n - i > 2 && s[i + 1] == '#' &&
		    memchr(s + i, ';', n - i) != NULL) {
			char *end;
			unsigned long cp = s[i + 2] == 'x' || s[i + 2] == 'X' ?
			    strtoul(s + i + 3, &end, 16) :
			    strtoul(s + i + 2, &end, 10);

			if (*end == ';') {
				sb_cp(b, cp);
				i = (size_t)(end - s) + 1;
			} else
				sb_add(b, s + i++, 1);
		} else
			sb_add(b, s + i++, 1);
	}
}

char *
corp_html_to_plain(const char *s)
{
	struct sb b = { 0 }, url = { 0 };
	size_t i, n, u, label = 0;
	char name[16];
	int kind, closing, in_a = 0;

	for (i = 0; s[i] != '\0'; i += n) {
		n = token(s + i, &u, &kind);
		if (kind == TOK_ENTITY) {
			sb_unescape(&b, s + i, n);
			continue;
		}
		if (kind == TOK_CHAR) {
			sb_add(&b, s + i, n);
			continue;
		}
		tagname(s + i, n, name, &closing);
		if (strcmp(name, "a") != 0)
			continue;
		if (!closing) {
			const char *h = strstr(s + i, "href=\"");
			const char *e;

			free(url.p);
			memset(&url, 0, sizeof(url));
			if (h != NULL && h < s + i + n &&
			    (e = strchr(h + 6, '"')) != NULL && e < s + i + n)
				sb_unescape(&url, h + 6, (size_t)(e - h - 6));
			in_a = 1;
			label = b.n;
		} else if (in_a) {
			in_a = 0;
			if (url.n == 0 || url.oom)
				continue;
			if (b.p != NULL && b.n - label == url.n &&
			    memcmp(b.p + label, url.p, url.n) == 0)
				continue;
			if (b.n > label)
				sb_str(&b, ": ");
			sb_add(&b, url.p, url.n);
		}
	}
	free(url.p);
	return sb_done(&b);
}

/* ---- placeholders ------------------------------------------------------ */

char *
corp_render_date(time_t t, const char *zone, char *buf)
{
	struct corp_local l;

	if (zone == NULL || !corp_tz_valid(zone) ||
	    corp_tz_local(zone, t, &l) != 0)
		corp_tz_local("UTC", t, &l);
	snprintf(buf, CORP_DATEBUF, "%04d-%02d-%02d %02d:%02d", l.year, l.mon,
	    l.mday, l.hour, l.min);
	return buf;
}

static int
known(const char *name)
{
	static const char *const names[] = {
		"task.id", "task.title", "task.link", "report.link",
		"actor.name", "user.name", "assignee.name",
		"previous_assignee.name", "reason", "due_at", "period_key",
		"digest.count", "digest.titles",
	};
	size_t i;

	if (strncmp(name, "payload.", 8) == 0 && name[8] != '\0') {
		for (i = 8; name[i] != '\0'; i++)
			if (!isalnum((unsigned char)name[i]) && name[i] != '_')
				return 0;
		return 1;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* Whether placeholder NAME stands for text that may span lines: it
 * keeps its line breaks (corp-fmt.1 Escaping); the others are one line. */
static int
multiline(const char *name)
{
	return strcmp(name, "reason") == 0 ||
	    strcmp(name, "digest.titles") == 0 ||
	    strncmp(name, "payload.", 8) == 0;
}

/* Append a value, escaped for HTML text (attr: also '"'). */
static void
sb_value(struct sb *b, const char *v, enum corp_render_mode mode, int attr)
{
	for (; *v != '\0'; v++) {
		if (mode == CORP_RENDER_HTML && *v == '<')
			sb_str(b, "&lt;");
		else if (mode == CORP_RENDER_HTML && *v == '>')
			sb_str(b, "&gt;");
		else if (mode == CORP_RENDER_HTML && *v == '&')
			sb_str(b, "&amp;");
		else if (mode == CORP_RENDER_HTML && attr && *v == '"')
			sb_str(b, "&quot;");
		else
			sb_add(b, v, 1);
	}
}

char *
corp_html_escape(const char *text)
{
	struct sb b = { 0 };

	sb_value(&b, text, CORP_RENDER_HTML, 0);
	sb_str(&b, "");
	return sb_done(&b);
}

/* The catalog's text for a placeholder without value: none.NAME. */
static const char *
none_text(const struct corp_catalog *cat, const char *lang, const char *name)
{
	const char *t;
	char *k;

	if (cat == NULL || lang == NULL || corp_asprintf(&k, "none.%s",
	    name) < 0)
		return NULL;
	t = corp_catalog_get(cat, lang, k);
	free(k);
	return t;
}

/*
 * The one template parser.  With cat, a placeholder without value takes
 * the text of (lang, none.NAME) when the catalog has one.  With names,
 * nothing is rendered: the known placeholder names are appended to it
 * (and *out stays NULL), so the check sees what corp-fmt sees.
 * Placeholders without a value are all named in one error ("no value
 * for {a}, {b}"), so that an operator fixes a text in one round.
 */
static int
render_impl(const char *t, json_t *vars, enum corp_render_mode mode,
    const struct corp_catalog *cat, const char *lang, json_t *names,
    char **out, struct corp_err *err)
{
	struct sb b = { 0 }, miss = { 0 };
	const char *e, *nv;
	char name[128], num[64], probe[132];
	json_t *v;
	int in_tag = 0, rc;

	*out = NULL;
	while (*t != '\0') {
		if (t[0] == '{' && t[1] == '{') {
			sb_add(&b, "{", 1);
			t += 2;
			continue;
		}
		if (t[0] == '}' && t[1] == '}') {
			sb_add(&b, "}", 1);
			t += 2;
			continue;
		}
		if (t[0] == '}') {
			rc = corp_errf(err, CORP_EINVAL, "unmatched '}' "
			    "(write '}}' for a literal brace)");
			goto fail;
		}
		if (t[0] != '{') {
			if (*t == '<')
				in_tag = 1;
			else if (*t == '>')
				in_tag = 0;
			sb_add(&b, t++, 1);
			continue;
		}
		e = strpbrk(t + 1, "{}");
		if (e == NULL || *e != '}') {
			rc = corp_errf(err, CORP_EINVAL, "unmatched '{' "
			    "(write '{{' for a literal brace)");
			goto fail;
		}
		if ((size_t)(e - t - 1) >= sizeof(name) || e == t + 1) {
			rc = corp_errf(err, CORP_EINVAL,
			    "malformed placeholder {%.*s}", (int)(e - t - 1) > 64 ?
			    64 : (int)(e - t - 1), t + 1);
			goto fail;
		}
		memcpy(name, t + 1, (size_t)(e - t - 1));
		name[e - t - 1] = '\0';
		t = e + 1;
		if (!known(name)) {
			rc = corp_errf(err, CORP_EINVAL,
			    "unknown placeholder {%s}", name);
			goto fail;
		}
		if (names != NULL) {
			if (json_array_append_new(names, json_string(name)))
				b.oom = 1;
			continue;
		}
		v = json_object_get(vars, name);
		if (json_is_string(v)) {
			/* Users' text: it may not shape the message. */
			char *c = corp_text_field(json_string_value(v),
			    multiline(name));

			if (c == NULL)
				b.oom = 1;
			else
				sb_value(&b, c, mode, in_tag);
			free(c);
		}
		else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
			sb_str(&b, num);
		} else if (json_is_real(v)) {
			snprintf(num, sizeof(num), "%.15g", json_real_value(v));
			sb_str(&b, num);
		} else if (json_is_boolean(v))
			sb_str(&b, json_is_true(v) ? "true" : "false");
		else if ((nv = none_text(cat, lang, name)) != NULL)
			sb_value(&b, nv, mode, in_tag);
		else {
			/* Each name once ("{a}" never matches "{ab}"). */
			snprintf(probe, sizeof(probe), "{%s}", name);
			if (miss.p == NULL || strstr(miss.p, probe) == NULL) {
				if (miss.n > 0)
					sb_str(&miss, ", ");
				sb_str(&miss, probe);
			}
		}
	}
	if (miss.n > 0 || miss.oom) {
		rc = miss.oom ? corp_errf(err, CORP_EINTERNAL, "out of "
		    "memory") : corp_errf(err, CORP_EINVAL, "no value for %.*s",
		    (int)miss.n, miss.p);
		free(miss.p);
		goto fail;
	}
	if (names != NULL) {
		free(b.p);
		return b.oom ? corp_errf(err, CORP_EINTERNAL, "out of memory") :
		    0;
	}
	if ((*out = sb_done(&b)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
fail:
	free(b.p);
	return rc;
}

int
corp_render(const char *t, json_t *vars, enum corp_render_mode mode,
    char **out, struct corp_err *err)
{
	return render_impl(t, vars, mode, NULL, NULL, NULL, out, err);
}

/* ---- delivery lines ---------------------------------------------------- */

/* A string field of o, or NULL. */
static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* vars[name] = v (a new reference, NULL ignored: no value). */
static void
setvar(json_t *vars, const char *name, json_t *v)
{
	if (v != NULL)
		json_object_set_new(vars, name, v);
}

/* A string that is an RFC 3339 instant renders as a local date. */
static json_t *
maybe_date(json_t *v, const char *zone)
{
	char buf[CORP_DATEBUF];
	struct corp_err e;
	time_t t;

	if (!json_is_string(v))
		return json_incref(v);
	if (corp_time_parse(json_string_value(v), &t, &e) != 0)
		return json_incref(v);
	return json_string(corp_render_date(t, zone, buf));
}

static json_t *
copy(json_t *v)
{
	return json_is_null(v) ? NULL : json_incref(v);
}

static json_t *
make_vars(json_t *line, json_t *ev, const char *zone)
{
	json_t *vars = json_object(), *links, *payload, *v;
	const char *k;

	if (vars == NULL)
		return NULL;
	links = json_object_get(ev, "links");
	setvar(vars, "task.id", copy(json_object_get(ev, "task_id")));
	setvar(vars, "task.title", copy(json_object_get(ev, "title")));
	setvar(vars, "task.link", copy(json_object_get(links, "task")));
	v = json_object_get(links, "report");
	if (!json_is_string(v))
		v = json_object_get(links, "report_version");
	setvar(vars, "report.link", copy(v));
	setvar(vars, "actor.name", copy(json_object_get(line, "actor_name")));
	setvar(vars, "user.name", copy(json_object_get(line, "name")));
	setvar(vars, "assignee.name",
	    copy(json_object_get(line, "assignee_name")));
	setvar(vars, "previous_assignee.name",
	    copy(json_object_get(line, "previous_assignee_name")));
	setvar(vars, "reason", copy(json_object_get(ev, "reason")));
	setvar(vars, "period_key", copy(json_object_get(ev, "period_key")));
	/* A digest's line (corp-json.5 "digest"): its count and titles. */
	if (json_is_object(v = json_object_get(line, "digest"))) {
		json_t *titles = json_object_get(v, "titles"), *t;
		char *all = NULL, *n;
		size_t i;

		setvar(vars, "digest.count", copy(json_object_get(v, "count")));
		json_array_foreach(titles, i, t) {
			char *one;

			if (!json_is_string(t))
				continue;
			/* Each title one line: it cannot fake an item. */
			if ((one = corp_text_field(json_string_value(t), 0)) ==
			    NULL || corp_asprintf(&n, "%s%s\xe2\x80\xa2 %s",
			    all ? all : "", all ? "\n" : "", one) < 0) {
				free(one);
				free(all);
				json_decref(vars);
				return NULL;
			}
			free(one);
			free(all);
			all = n;
		}
		setvar(vars, "digest.titles", json_string(all ? all : ""));
		free(all);
	}
	if ((v = json_object_get(ev, "due_at")) != NULL && !json_is_null(v))
		setvar(vars, "due_at", maybe_date(v, zone));
	payload = json_object_get(ev, "payload");
	json_object_foreach(payload, k, v) {
		char *name;

		if (json_is_null(v) || json_is_object(v) || json_is_array(v))
			continue;
		if (corp_asprintf(&name, "payload.%s", k) < 0) {
			json_decref(vars);
			return NULL;
		}
		setvar(vars, name, maybe_date(v, zone));
		free(name);
	}
	return vars;
}

/* Lower-case copy of s (event types are ASCII). */
static char *
lower(const char *s)
{
	char *d = strdup(s), *p;

	if (d != NULL)
		for (p = d; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	return d;
}

static int
isword(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    *s != '_')
			return 0;
	return 1;
}

#define NCHAIN	4
#define NLANGS	3

struct lookup {
	const char	*langs[NLANGS];	/* user's, its base, fallback */
	char		 base[16];
	int		 nlangs;
	char		*chain[NCHAIN];	/* most specific first */
	int		 nchain;
};

static void
lookup_free(struct lookup *l)
{
	int i;

	for (i = 0; i < l->nchain; i++)
		free(l->chain[i]);
	l->nchain = 0;
}

static void
addlang(struct lookup *l, const char *lang)
{
	int i;

	if (lang == NULL || *lang == '\0')
		return;
	for (i = 0; i < l->nlangs; i++)
		if (strcmp(l->langs[i], lang) == 0)
			return;
	l->langs[l->nlangs++] = lang;
}

/* prefix + KEY.by_WHO@ROLE, KEY.by_WHO, KEY@ROLE, KEY. */
static int
make_chain(struct lookup *l, const char *prefix, const char *key,
    const char *who, const char *role)
{
	int rc = 0;

	if (who != NULL && role != NULL)
		rc |= corp_asprintf(&l->chain[l->nchain++], "%s%s.by_%s@%s",
		    prefix, key, who, role);
	if (who != NULL)
		rc |= corp_asprintf(&l->chain[l->nchain++], "%s%s.by_%s",
		    prefix, key, who);
	if (role != NULL)
		rc |= corp_asprintf(&l->chain[l->nchain++], "%s%s@%s", prefix,
		    key, role);
	rc |= corp_asprintf(&l->chain[l->nchain++], "%s%s", prefix, key);
	return rc < 0 ? -1 : 0;
}

/*
 * The text of the chain in the first language that has any of its keys:
 * there the key of the latest layer (--catalog, then the data dir, then
 * the shipped files) wins, and within one layer the most specific key.
 * So an operator's KEY overrides the shipped KEY@ROLE of its language,
 * as corp-fmt.1 says.
 */
static const char *
find(const struct corp_catalog *cat, const struct lookup *l,
    const char **lang, const char **key)
{
	int i, j, layer, best, bestlayer;

	for (i = 0; i < l->nlangs; i++) {
		best = -1;
		bestlayer = 0;
		for (j = 0; j < l->nchain; j++) {
			layer = corp_catalog_layer(cat, l->langs[i],
			    l->chain[j]);
			if (layer > bestlayer) {
				best = j;
				bestlayer = layer;
			}
		}
		if (best >= 0) {
			*lang = l->langs[i];
			*key = l->chain[best];
			return corp_catalog_get(cat, *lang, *key);
		}
	}
	return NULL;
}

static int
missing(const struct lookup *l, const char *key, struct corp_err *err)
{
	char langs[64] = "";
	int i;

	for (i = 0; i < l->nlangs; i++) {
		if (i > 0)
			strlcat(langs, i == l->nlangs - 1 ? " or " : ", ",
			    sizeof(langs));
		strlcat(langs, l->langs[i], sizeof(langs));
	}
	return corp_errf(err, CORP_ECONFIG,
	    "fmt: missing catalog key %s for lang %s", key, langs);
}

/*
 * Look key up in l's languages, the language found first first; *langp
 * is where it was found.
 */
static const char *
find_one(const struct corp_catalog *cat, const struct lookup *l,
    const char *first, const char *key, const char **langp)
{
	const char *t;
	int i;

	*langp = first;
	if ((t = corp_catalog_get(cat, first, key)) != NULL)
		return t;
	for (i = 0; i < l->nlangs; i++)
		if ((t = corp_catalog_get(cat, l->langs[i], key)) != NULL) {
			*langp = l->langs[i];
			return t;
		}
	return NULL;
}

/*
 * Render (lang, key).  A template that cannot be filled is a catalog
 * problem, CORP_ECONFIG: "fmt: LANG:KEY (FILE:LINE): why".
 */
static int
render_at(const struct corp_catalog *cat, const char *tmpl, json_t *vars,
    enum corp_render_mode mode, const char *lang, const char *key,
    char **out, struct corp_err *err)
{
	const char *where;
	int rc;

	if ((rc = render_impl(tmpl, vars, mode, cat, lang, NULL, out,
	    err)) == 0)
		return 0;
	if (rc != CORP_EINVAL)
		return rc;
	err->code = CORP_ECONFIG;
	where = corp_catalog_where(cat, lang, key);
	return corp_errprefix(err, "fmt: %s:%s (%s)", lang, key,
	    where ? where : "?");
}

/*
 * A card's buttons (corp-fmt.1 "Buttons"): the text of buttons.KEY...,
 * as the catalog wrote it (placeholders not yet filled), is rows
 * separated by newlines, buttons within a row by "|", each
 * "LABEL=ACTION".  *out gets [[{"text","action"}..]..] (NULL when the
 * key is absent), the labels still templates; a malformed entry is
 * CORP_ECONFIG naming it.
 */
#define BUTTONS_MAX	24
#define BUTTON_LABEL_MAX 64

int
corp_buttons_parse(const char *text, json_t **out, struct corp_err *err)
{
	json_t *rows, *row = NULL, *b;
	const char *p = text, *e, *eq, *ls, *le;
	size_t n = 0, len, i;
	char action[CORP_BUTTON_ACTION_MAX + 1], *label;

	*out = NULL;
	if ((rows = json_array()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	for (;;) {
		e = p + strcspn(p, "|\n");
		if (p + strspn(p, " \t") >= e)
			goto next;	/* blank: a trailing newline, say */
		if ((eq = memrchr(p, '=', (size_t)(e - p))) == NULL) {
			json_decref(rows);
			return corp_errf(err, CORP_ECONFIG, "button \"%.*s\": "
			    "expected LABEL=ACTION", (int)(e - p), p);
		}
		for (ls = p; ls < eq && (*ls == ' ' || *ls == '\t'); ls++)
			;
		for (le = eq; le > ls && (le[-1] == ' ' || le[-1] == '\t');
		    le--)
			;
		len = (size_t)(e - eq - 1);
		while (len > 0 && (eq[len] == ' ' || eq[len] == '\t'))
			len--;
		for (i = 1; i <= len && (eq[i] == ' ' || eq[i] == '\t'); i++)
			;
		if (len + 1 - i > CORP_BUTTON_ACTION_MAX || len < i ||
		    !corp_button_action_valid(eq + i, len + 1 - i)) {
			json_decref(rows);
			return corp_errf(err, CORP_ECONFIG, "button \"%.*s\": "
			    "the action must be 1-%d of a-z 0-9 _ starting "
			    "with a letter", (int)(e - p), p,
			    CORP_BUTTON_ACTION_MAX);
		}
		memcpy(action, eq + i, len + 1 - i);
		action[len + 1 - i] = '\0';
		if (le == ls || le - ls > BUTTON_LABEL_MAX) {
			json_decref(rows);
			return corp_errf(err, CORP_ECONFIG, "button \"%.*s\": "
			    "the label must be 1-%d bytes", (int)(e - p), p,
			    BUTTON_LABEL_MAX);
		}
		if (++n > BUTTONS_MAX) {
			json_decref(rows);
			return corp_errf(err, CORP_ECONFIG, "more than %d "
			    "buttons", BUTTONS_MAX);
		}
		if (row == NULL && ((row = json_array()) == NULL ||
		    json_array_append_new(rows, row) != 0)) {
			json_decref(rows);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
		label = strndup(ls, (size_t)(le - ls));
		b = label != NULL ? json_pack("{s:s, s:s}", "text", label,
		    "action", action) : NULL;
		free(label);
		if (b == NULL || json_array_append_new(row, b) != 0) {
			json_decref(rows);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
next:
		if (*e == '\0')
			break;
		if (*e == '\n')
			row = NULL;
		p = e + 1;
	}
	if (n == 0) {
		json_decref(rows);
		return corp_errf(err, CORP_ECONFIG, "no button");
	}
	*out = rows;
	return 0;
}

int
corp_button_action_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CORP_BUTTON_ACTION_MAX || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/*
 * The labels of parsed buttons (rows) rendered in place, each on its
 * own (sec-review-10 item 2): the entry was split into rows, buttons,
 * labels and actions as the catalog wrote it, so what a placeholder
 * brings (a title holding "|", "=" or a newline) stays text of its
 * label and can neither add a button nor change an action.  Control
 * characters in a label become spaces (Telegram shows one line),
 * invisible format controls '?' (corp_server_text: "Approve" reversed
 * by a bidi override is no label), blanks around it are dropped, and
 * a label longer than BUTTON_LABEL_MAX bytes is cut at a character
 * with an ellipsis; one left empty shows its action.  User text never
 * makes the entry a configuration error.
 */
static int
button_labels(const struct corp_catalog *cat, json_t *rows, json_t *vars,
    const char *lang, const char *key, struct corp_err *err)
{
	json_t *row, *b;
	size_t i, j, n, cut;
	char *l, *p;
	int rc;

	json_array_foreach(rows, i, row) {
		json_array_foreach(row, j, b) {
			if ((rc = render_at(cat, json_string_value(
			    json_object_get(b, "text")), vars,
			    CORP_RENDER_PLAIN, lang, key, &l, err)) != 0)
				return rc;
			for (p = l; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					*p = ' ';
			corp_server_text(l);
			n = strlen(l);
			while (n > 0 && l[n - 1] == ' ')
				l[--n] = '\0';
			p = l + strspn(l, " ");
			n = strlen(p);
			if (n > BUTTON_LABEL_MAX) {
				/* "\xe2\x80\xa6" (U+2026) is 3 bytes */
				cut = BUTTON_LABEL_MAX - 3;
				while (cut > 0 && ((unsigned char)p[cut] &
				    0xc0) == 0x80)
					cut--;
				while (cut > 0 && p[cut - 1] == ' ')
					cut--;
				memcpy(p + cut, "\xe2\x80\xa6", 4);
			}
			if (*p == '\0')
				p = (char *)json_string_value(json_object_get(b,
				    "action"));
			rc = json_object_set_new(b, "text", json_string(p));
			free(l);
			if (rc != 0)
				return corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
		}
	}
	return 0;
}

/*
 * The buttons of a Telegram card: buttons.KEY.by_WHO@ROLE ... buttons.KEY
 * looked up as the text is; none is no keyboard.  The entry is split
 * as written, then each label rendered (button_labels).
 */
static int
delivery_buttons(const struct corp_catalog *cat, const struct lookup *tl,
    const char *key, const char *who, const char *role, json_t *vars,
    json_t **out, struct corp_err *err)
{
	struct lookup l = *tl;
	const char *t, *lang, *hit, *where;
	int rc;

	*out = NULL;
	l.nchain = 0;
	if (make_chain(&l, "buttons.", key, who, role) != 0) {
		lookup_free(&l);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	if ((t = find(cat, &l, &lang, &hit)) == NULL) {
		lookup_free(&l);
		return 0;
	}
	if ((rc = corp_buttons_parse(t, out, err)) == CORP_ECONFIG) {
		where = corp_catalog_where(cat, lang, hit);
		corp_errprefix(err, "fmt: %s:%s (%s)", lang, hit,
		    where ? where : "?");
	} else if (rc == 0 && (rc = button_labels(cat, *out, vars, lang, hit,
	    err)) != 0) {
		json_decref(*out);
		*out = NULL;
	}
	lookup_free(&l);
	return rc;
}

int
corp_render_delivery(const struct corp_catalog *cat, json_t *line,
    const char *fallback, int plain, char **textp, char **subjectp,
    struct corp_err *err)
{
	struct lookup l = { 0 };
	struct sb foot = { 0 }, all = { 0 };
	json_t *ev, *vars = NULL, *buttons = NULL;
	const char *role, *who, *zone, *lang, *hit, *t, *k, *flang;
	char *key = NULL, *evtype = NULL, *body = NULL, *part = NULL, *cut,
	    *fk = NULL;
	int rc;

	*textp = NULL;
	if (subjectp != NULL)
		*subjectp = NULL;
	ev = json_object_get(line, "event");
	if (!json_is_object(ev))
		return corp_errf(err, CORP_EINVAL, "fmt: no event object");
	if (str(ev, "event_type") != NULL &&
	    (evtype = lower(str(ev, "event_type"))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if (str(line, "template") != NULL && *str(line, "template") != '\0')
		key = strdup(str(line, "template"));
	else if (evtype != NULL)
		key = strdup(evtype);
	else {
		rc = corp_errf(err, CORP_EINVAL,
		    "fmt: no template and no event_type");
		goto out;
	}
	if (key == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	role = str(line, "role");
	if (role != NULL && strncmp(role, "deputy:", 7) == 0)
		role = "deputy";
	if (role != NULL && *role == '\0')
		role = NULL;
	who = str(json_object_get(ev, "payload"), "initiated_by");
	if (!isword(who))
		who = NULL;
	zone = str(line, "tz");
	if (zone == NULL || !corp_tz_valid(zone))
		zone = "UTC";
	addlang(&l, str(line, "lang"));
	if (l.nlangs > 0 && strcspn(l.langs[0], "_-") < strlen(l.langs[0]) &&
	    strcspn(l.langs[0], "_-") < sizeof(l.base)) {
		memcpy(l.base, l.langs[0], strcspn(l.langs[0], "_-"));
		addlang(&l, l.base);
	}
	addlang(&l, fallback != NULL ? fallback : "en");

	if ((vars = make_vars(line, ev, zone)) == NULL ||
	    make_chain(&l, "", key, who, role) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	if ((t = find(cat, &l, &lang, &hit)) == NULL) {
		rc = missing(&l, key, err);
		goto out;
	}
	if ((rc = render_at(cat, t, vars, CORP_RENDER_HTML, lang, hit,
	    &body, err)) != 0)
		goto out;
	if (strspn(body, " \t\r\n") == strlen(body)) {
		rc = corp_errf(err, CORP_ECONFIG, "fmt: %s:%s (%s): empty text",
		    lang, hit, corp_catalog_where(cat, lang, hit));
		goto out;
	}

	/* Footers: the link line of a task message, then footer.EVENT;
	 * none under a digest, which speaks of many events. */
	if (json_is_object(json_object_get(line, "digest")))
		goto footers_done;
	if (json_is_integer(json_object_get(ev, "task_id"))) {
		if ((t = find_one(cat, &l, lang, "footer.link", &flang)) ==
		    NULL) {
			rc = missing(&l, "footer.link", err);
			goto out;
		}
		if ((rc = render_at(cat, t, vars, CORP_RENDER_HTML,
		    flang, "footer.link", &part, err)) != 0)
			goto out;
		sb_str(&foot, "\n\n");
		sb_str(&foot, part);
		free(part);
		part = NULL;
	}
	/* footer.EVENT@ROLE before footer.EVENT: an insert for one
	 * role only (the booking client's "please arrive early"). */
	t = NULL;
	if (role != NULL) {
		if (corp_asprintf(&fk, "footer.%s@%s", evtype ? evtype : key,
		    role) < 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto out;
		}
		if ((t = find_one(cat, &l, lang, fk, &flang)) == NULL) {
			free(fk);
			fk = NULL;
		}
	}
	if (fk == NULL && corp_asprintf(&fk, "footer.%s", evtype ? evtype :
	    key) < 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	if (t != NULL || (t = find_one(cat, &l, lang, fk, &flang)) != NULL) {
		if ((rc = render_at(cat, t, vars, CORP_RENDER_HTML,
		    flang, fk, &part, err)) != 0)
			goto out;
		sb_str(&foot, "\n\n");
		sb_str(&foot, part);
		free(part);
		part = NULL;
	}
footers_done:
	if (foot.oom) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}

	if (!plain && str(line, "channel") != NULL &&
	    strcmp(str(line, "channel"), "telegram") == 0 &&
	    (rc = delivery_buttons(cat, &l, key, who, role, vars,
	    &buttons, err)) != 0)
		goto out;
	if (!plain) {
		size_t flen = foot.p ? corp_html_len(foot.p) : 0;

		if (flen + 2 > CORP_TG_MAX) {
			rc = corp_errf(err, CORP_ECONFIG, "fmt: %s: the footers "
			    "alone are longer than %d characters", lang,
			    CORP_TG_MAX);
			goto out;
		}
		if (corp_html_cut(body, CORP_TG_MAX - flen, &cut) != 0) {
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
			goto out;
		}
		sb_str(&all, cut);
		free(cut);
		if (foot.p != NULL)
			sb_str(&all, foot.p);
		if ((*textp = sb_done(&all)) == NULL)
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		else if (buttons != NULL && json_object_set(line, "buttons",
		    buttons) != 0)
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}

	/* E-mail: plain text and a one-line subject. */
	sb_str(&all, body);
	if (foot.p != NULL)
		sb_str(&all, foot.p);
	if ((part = sb_done(&all)) == NULL ||
	    (*textp = corp_html_to_plain(part)) == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	lookup_free(&l);
	if (make_chain(&l, "email.subject.", key, who, role) != 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	if ((t = find(cat, &l, &lang, &k)) == NULL) {
		rc = missing(&l, l.chain[l.nchain - 1], err);
		goto out;
	}
	if (subjectp != NULL) {
		char *p;

		if ((rc = render_at(cat, t, vars, CORP_RENDER_PLAIN, lang, k,
		    subjectp, err)) != 0)
			goto out;
		for (p = *subjectp; *p != '\0'; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
	}
	rc = 0;
out:
	if (rc != 0) {
		free(*textp);
		*textp = NULL;
		if (subjectp != NULL) {
			free(*subjectp);
			*subjectp = NULL;
		}
	}
	lookup_free(&l);
	json_decref(vars);
	json_decref(buttons);
	free(foot.p);
	free(key);
	free(evtype);
	free(body);
	free(part);
	free(fk);
	return rc;
}

/* ---- what corp-db check asks: placeholders an event cannot fill -------- */

/*
 * What every event of a built-in task type carries (the delivery line
 * corp-deliver pending prints for it): the placeholders always filled.
 * task.* and report.link come from the task; user.name is the
 * recipient's; assignee.name falls back to the unit's title.  actor.name
 * is missing where the scheduler acts (TASK_CREATED of a template
 * instance, TASK_DUE_SOON, TASK_OVERDUE); reason is required only by
 * reject; due_at may be removed (set-due --due none) except where a due
 * date fired the event; period_key exists only for template instances.
 */
#define TASK_ALWAYS	"task.id task.title task.link report.link user.name " \
			"assignee.name"
static const struct {
	const char	*type;
	const char	*always;
} task_fills[] = {
	{ "TASK_CREATED",	TASK_ALWAYS },
	{ "TASK_ASSIGNED",	TASK_ALWAYS " actor.name previous_assignee.name" },
	{ "TASK_DUE_CHANGED",	TASK_ALWAYS " actor.name" },
	{ "REPORT_SUBMITTED",	TASK_ALWAYS " actor.name" },
	{ "APPROVED",		TASK_ALWAYS " actor.name" },
	{ "REJECTED",		TASK_ALWAYS " actor.name reason" },
	{ "TASK_CANCELLED",	TASK_ALWAYS " actor.name" },
	{ "TASK_DUE_SOON",	TASK_ALWAYS " due_at" },
	{ "TASK_OVERDUE",	TASK_ALWAYS " due_at" },
};

/* Whether every event of type fills name (see corp_render_unfillable). */
static int
fills(const char *type, const char *name)
{
	const char *p;
	size_t i, n = strlen(name);

	for (i = 0; i < sizeof(task_fills) / sizeof(task_fills[0]); i++) {
		if (strcmp(type, task_fills[i].type) != 0)
			continue;
		for (p = task_fills[i].always; (p = strstr(p, name)) != NULL;
		    p += n)
			if ((p == task_fills[i].always || p[-1] == ' ') &&
			    (p[n] == ' ' || p[n] == '\0'))
				return 1;
		return 0;	/* and a task event's payload is empty */
	}
	/* A producer's event: its payload is its own business. */
	return strcmp(name, "user.name") == 0 ||
	    strncmp(name, "payload.", 8) == 0;
}

static int
is_task_type(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(task_fills) / sizeof(task_fills[0]); i++)
		if (strcmp(type, task_fills[i].type) == 0)
			return 1;
	return 0;
}

struct unfill {
	const struct corp_catalog *cat;
	json_t		*uses;		/* [{event_type, template}], enabled */
	json_t		*out;
	struct corp_err	*err;
};

/*
 * The template key an entry belongs to: KEY of KEY, KEY@ROLE,
 * KEY.by_WHO[@ROLE] and email.subject.* of those; *footer is set for
 * footer.* keys (then the result is the part after "footer.").
 */
static char *
entry_base(const char *key, int *footer)
{
	char *b, *p;

	*footer = strncmp(key, "footer.", 7) == 0;
	if (*footer) {
		/* footer.EVENT@ROLE belongs to EVENT as footer.EVENT does. */
		if ((b = strdup(key + 7)) != NULL &&
		    (p = strrchr(b, '@')) != NULL)
			*p = '\0';
		return b;
	}
	if (strncmp(key, "email.subject.", 14) == 0)
		key += 14;
	if ((b = strdup(key)) == NULL)
		return NULL;
	if ((p = strrchr(b, '@')) != NULL)
		*p = '\0';
	if ((p = strrchr(b, '.')) != NULL && strncmp(p, ".by_", 4) == 0)
		*p = '\0';
	return b;
}

/*
 * An entry corp-fmt never uses: a key later in its own lookup list, of
 * the same language, comes from a later layer (corp-fmt.1, Lookup).
 */
static int
shadowed(const struct corp_catalog *cat, const char *lang, const char *key,
    int layer)
{
	const char *pre = strncmp(key, "email.subject.", 14) == 0 ?
	    "email.subject." : "";
	char *k, *at, *by, *alt;
	int hidden = 0;

	if (strncmp(key, "footer.", 7) == 0 || (k = strdup(key +
	    strlen(pre))) == NULL)
		return 0;
	at = strrchr(k, '@');
	if (at != NULL)
		*at++ = '\0';
	by = strrchr(k, '.');
	if (by != NULL && strncmp(by, ".by_", 4) == 0)
		*by++ = '\0';
	else
		by = NULL;
	/* KEY.by_WHO@ROLE -> KEY.by_WHO, KEY@ROLE, KEY; others -> KEY. */
	if (by != NULL && at != NULL && corp_asprintf(&alt, "%s%s.%s", pre,
	    k, by) >= 0) {
		hidden |= corp_catalog_layer(cat, lang, alt) > layer;
		free(alt);
	}
	if (by != NULL && at != NULL && corp_asprintf(&alt, "%s%s@%s", pre,
	    k, at) >= 0) {
		hidden |= corp_catalog_layer(cat, lang, alt) > layer;
		free(alt);
	}
	if ((by != NULL || at != NULL) && corp_asprintf(&alt, "%s%s", pre,
	    k) >= 0) {
		hidden |= corp_catalog_layer(cat, lang, alt) > layer;
		free(alt);
	}
	free(k);
	return hidden;
}

static int
add_problem(struct unfill *u, const char *lang, const char *key,
    const char *where, const char *type, const char *name, const char *why)
{
	json_t *o;

	o = json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s}", "lang", lang,
	    "key", key, "where", where, "event_type", type,
	    "placeholder", name, "problem", why);
	if (o == NULL || json_array_append_new(u->out, o) != 0)
		return corp_errf(u->err, CORP_EINTERNAL, "out of memory");
	return 0;
}

static int
unfill_entry(void *arg, const char *lang, const char *key, const char *text,
    int layer, const char *where)
{
	struct unfill *u = arg;
	struct corp_err pe;
	json_t *use, *names = NULL, *seen = NULL, *nm;
	const char *type, *tmpl, *name;
	char *base, *lt = NULL, why[1200];
	size_t i, j;
	int footer, match, rc = 0, parsed = 0, prc = 0;

	if (strncmp(key, "bot.", 4) == 0 || strncmp(key, "none.", 5) == 0 ||
	    strncmp(key, "month.", 6) == 0)
		return 0;
	if (shadowed(u->cat, lang, key, layer))
		return 0;
	if ((base = entry_base(key, &footer)) == NULL ||
	    (seen = json_object()) == NULL)
		goto oom;
	json_array_foreach(u->uses, i, use) {
		type = json_string_value(json_object_get(use, "event_type"));
		tmpl = json_string_value(json_object_get(use, "template"));
		if (type == NULL || tmpl == NULL ||
		    json_is_false(json_object_get(use, "enabled")) ||
		    json_object_get(seen, type) != NULL)
			continue;
		free(lt);
		if ((lt = lower(type)) == NULL)
			goto oom;
		if (footer)
			match = strcmp(base, "link") == 0 ?
			    is_task_type(type) : strcmp(base, lt) == 0;
		else
			match = strcmp(base, tmpl) == 0;
		if (!match)
			continue;
		if (json_object_set_new(seen, type, json_true()) != 0)
			goto oom;
		if (!parsed) {
			char *unused;

			parsed = 1;
			if ((names = json_array()) == NULL)
				goto oom;
			prc = render_impl(text, NULL, CORP_RENDER_PLAIN, NULL,
			    NULL, names, &unused, &pe);
			if (prc == CORP_EINTERNAL)
				goto oom;
		}
		if (prc != 0) {
			snprintf(why, sizeof(why), "%s: %s:%s: %s", where,
			    lang, key, pe.msg);
			if ((rc = add_problem(u, lang, key, where, type, NULL,
			    why)) != 0)
				goto out;
			continue;
		}
		json_array_foreach(names, j, nm) {
			name = json_string_value(nm);
			if (fills(type, name) ||
			    none_text(u->cat, lang, name) != NULL)
				continue;
			snprintf(why, sizeof(why), "%s: %s:%s: {%s} has no "
			    "value in some %s events (define %s:none.%s or "
			    "drop it)", where, lang, key, name, type, lang,
			    name);
			if ((rc = add_problem(u, lang, key, where, type, name,
			    why)) != 0)
				goto out;
		}
	}
	goto out;
oom:
	rc = corp_errf(u->err, CORP_EINTERNAL, "out of memory");
out:
	free(base);
	free(lt);
	json_decref(names);
	json_decref(seen);
	return rc;
}

int
corp_render_unfillable(const struct corp_catalog *cat, json_t *uses,
    json_t **out, struct corp_err *err)
{
	struct unfill u = { cat, uses, NULL, err };
	int rc;

	*out = NULL;
	if ((u.out = json_array()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = corp_catalog_each(cat, unfill_entry, &u, err)) != 0) {
		json_decref(u.out);
		return rc;
	}
	*out = u.out;
	return 0;
}
