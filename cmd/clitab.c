/*
 * clitab.c -- cli_main: a tool's option table parsed, checked and shown
 * (cli.h).  The usage text, the errors, --cli-spec and the man page test
 * (tests/0990-cli.t) all come from the one table, so they cannot drift.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clifmt.h"
#include "names.h"
#include "text.h"

#define NOPT	64
#define WIDTH	80
#define INDENT	"           "	/* continuation lines of a synopsis */

struct cli_args {
	const struct cli_tool	*tool;
	const struct cli_verb	*verb;		/* its first form */
	char			 prefix[128];	/* "config" of "config get" */
	char			 vname[128];	/* "add", "config get" */
	char			**args;
	int			 nargs;
	uint64_t		 given;
	const char		*val[NOPT];
	long long		 num[NOPT];
	unsigned char		 word[NOPT];	/* val is one of the words */
	const char		**multi[NOPT];
	size_t			 nmulti[NOPT];
};

/* The arguments of this run: reachable until exit. */
static struct cli_args args;

/* ---- text -------------------------------------------------------- */

struct buf {
	char	*s;
	size_t	 len, cap, col;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	size_t i;

	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		char *ns;

		while (b->len + n + 1 > ncap)
			ncap *= 2;
		if ((ns = realloc(b->s, ncap)) == NULL)
			cli_die(CORP_EINTERNAL, "out of memory");
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	for (i = 0; i < n; i++)
		b->col = s[i] == '\n' ? 0 : b->col + 1;
}

static void __attribute__((format(printf, 2, 3)))
putf(struct buf *b, const char *fmt, ...)
{
	char *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		cli_die(CORP_EINTERNAL, "out of memory");
	put(b, s, (size_t)n);
	free(s);
}

/* One element of a synopsis, wrapped at WIDTH with INDENT. */
static void
elem(struct buf *b, const char *s)
{
	if (b->col + 1 + strlen(s) > WIDTH && b->col > strlen(INDENT))
		putf(b, "\n%s%s", INDENT, s);
	else
		putf(b, " %s", s);
}

/* ---- the table ----------------------------------------------------- */

static const char *const fmt_words[] = { "json", "table", "tsv", NULL };

/* What every listing takes (cli.h struct cli_list), ids CLI_O_FORMAT.. */
static const struct cli_opt list_opts[] = {
	{ CLI_O_FORMAT, "format", "FORMAT", "listings: json (the default "
	    "when stdout is not a tty), table (on a tty) or tsv",
	    .comp = CLI_C_WORDS, .words = fmt_words },
	{ CLI_O_LIMIT, "limit", "N", "listings: at most N rows (a note on "
	    "stderr says how to see the rest)", CLI_NUM, 1, LLONG_MAX },
	{ CLI_O_AFTER, "after", "CURSOR", "listings: the rows after CURSOR, "
	    "the key of the last row shown" },
	{ 0 }
};

/* The listing options verb v takes: 0, 1 (--format) or 3. */
static int
nlist(const struct cli_verb *v)
{
	if (v->list == NULL)
		return 0;
	return v->list->flags & CLI_L_NOPAGE ? 1 : 3;
}

/* Whether a tool's option is hidden by a listing option of verb v. */
static int
shadowed(const struct cli_verb *v, const struct cli_opt *o)
{
	int i, n = nlist(v);

	for (i = 0; i < n; i++)
		if (strcmp(list_opts[i].name, o->name) == 0)
			return 1;
	return 0;
}

static const struct cli_opt *
opt_by_id(const struct cli_tool *t, int id)
{
	const struct cli_opt *o;

	if (id >= CLI_O_FORMAT && id <= CLI_O_AFTER)
		return &list_opts[id - CLI_O_FORMAT];
	for (o = t->opts; o != NULL && o->name != NULL; o++)
		if (o->id == id)
			return o;
	cli_die(CORP_EINTERNAL, "%s: option table: no option %d", t->name, id);
}

static int
is_flag(const struct cli_opt *o)
{
	return o->arg == NULL || o->type == CLI_FLAG;
}

/* The forms of a verb: it and the CLI_VARIANT entries after it. */
static size_t
nforms(const struct cli_verb *v)
{
	size_t n = 1;

	while (v[n].name != NULL && (v[n].flags & CLI_VARIANT))
		n++;
	return n;
}

static const struct cli_use *
use_in(const struct cli_verb *v, int id)
{
	static const struct cli_use list_use = { 0 };
	const struct cli_use *u;
	size_t f, n = nforms(v);

	if (id >= CLI_O_FORMAT)
		return id - CLI_O_FORMAT < nlist(v) ? &list_use : NULL;
	for (f = 0; f < n; f++)
		for (u = v[f].uses; u != NULL && u->id != 0; u++)
			if (u->id == id)
				return u;
	return NULL;
}

/* "--as LOGIN", "--due TIME | none", "--keyword WORD ...", "--draft" */
static void
render_opt(struct buf *b, const struct cli_opt *o, int alone_required)
{
	const char *const *w;

	putf(b, "--%s", o->name);
	if (is_flag(o))
		return;
	if (o->words != NULL && o->type != CLI_STR && o->type != CLI_MULTI &&
	    o->comp != CLI_C_WORDS) {
		putf(b, alone_required ? " (%s" : " %s", o->arg);
		for (w = o->words; *w != NULL; w++)
			putf(b, " | %s", *w);
		if (alone_required)
			put(b, ")", 1);
		return;
	}
	putf(b, " %s", o->arg);
	if (o->type == CLI_MULTI)
		put(b, " ...", 4);
}

/* The group of uses[i], rendered "[a | b]" or "(a | b | both)". */
static void
render_group(struct buf *b, const struct cli_tool *t,
    const struct cli_use *uses, const struct cli_use *first)
{
	const struct cli_use *u;
	int n = 0;

	put(b, first->flags & CLI_REQ ? "(" : "[", 1);
	for (u = uses; u->id != 0; u++) {
		if (u->group != first->group)
			continue;
		if (n++ > 0)
			put(b, " | ", 3);
		render_opt(b, opt_by_id(t, u->id), 0);
	}
	if (first->flags & CLI_ANY)
		put(b, " | both", 7);
	put(b, first->flags & CLI_REQ ? ")" : "]", 1);
}

/* One synopsis line of one form: "corp-org add NAME [--title TITLE]" */
static void
render_form(struct buf *b, const struct cli_tool *t, const char *vname,
    const struct cli_verb *v)
{
	const struct cli_use *u, *p;
	struct buf e = { 0 };
	int i;

	putf(b, "%s%s%s", t->name, *vname ? " " : "", vname);
	if (v->operands != NULL)
		elem(b, v->operands);
	for (u = v->uses; u != NULL && u->id != 0; u++) {
		if (u->flags & CLI_OPERAND)
			continue;
		e.len = 0;
		if (u->group > 0) {
			for (p = v->uses; p->group != u->group; p++)
				;
			if (p != u)
				continue;	/* drawn with its first */
			render_group(&e, t, v->uses, u);
		} else if (u->flags & CLI_REQ)
			render_opt(&e, opt_by_id(t, u->id), 1);
		else {
			put(&e, "[", 1);
			render_opt(&e, opt_by_id(t, u->id), 0);
			put(&e, "]", 1);
		}
		elem(b, e.s);
	}
	for (i = 0; i < nlist(v); i++) {
		e.len = 0;
		put(&e, "[", 1);
		render_opt(&e, &list_opts[i], 0);
		put(&e, "]", 1);
		elem(b, e.s);
	}
	free(e.s);
}

/* fn for every form of verb v, or of each of its sub-verbs, with the
 * verb's full name ("config get"). */
static void
each_form(const char *prefix, const struct cli_verb *v,
    void (*fn)(const char *, const struct cli_verb *, size_t, void *),
    void *arg)
{
	const struct cli_verb *s;
	char name[128];
	size_t f, n;

	snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? " " : "",
	    v->name);
	if (v->sub != NULL) {
		for (s = v->sub; s->name != NULL; s += nforms(s))
			each_form(name, s, fn, arg);
		return;
	}
	n = nforms(v);
	for (f = 0; f < n; f++)
		fn(name, &v[f], f, arg);
}

struct render {
	struct buf		*b;
	const struct cli_tool	*t;
	int			*first;
};

static void
render_line(const char *name, const struct cli_verb *form, size_t f,
    void *arg)
{
	struct render *r = arg;

	(void)f;
	put(r->b, *r->first ? "usage: " : "       ", 7);
	*r->first = 0;
	render_form(r->b, r->t, name, form);
	put(r->b, "\n", 1);
}

/* Every synopsis line of verb v (its forms, or its sub-verbs). */
static void
render_verb(struct buf *b, const struct cli_tool *t, const char *prefix,
    const struct cli_verb *v, int *first)
{
	struct render r = { b, t, first };

	each_form(prefix, v, render_line, &r);
}

static void
render_common(struct buf *b, const struct cli_tool *t)
{
	put(b, "common options:", 15);
	if (t->common & CLI_COMMON_DB)
		put(b, " --db PATH ", 11);
	if (t->common & CLI_COMMON_DATA_DIR)
		put(b, " --data-dir DIR ", 16);
	if (t->common & CLI_COMMON_NOW)
		put(b, " --now TIME ", 12);
	put(b, " -q | -v  --version\n", 20);
}

/* "  --title TITLE         help text", the help wrapped at WIDTH. */
static void
help_line(struct buf *b, const char *left, const char *help)
{
	const char *w, *end;
	size_t n;

	putf(b, "  %s", left);
	if (help == NULL || *help == '\0') {
		put(b, "\n", 1);
		return;
	}
	if (b->col < 24)
		putf(b, "%*s", (int)(24 - b->col), "");
	else
		put(b, "  ", 2);
	for (w = help; *w != '\0'; w = end + strspn(end, " ")) {
		n = strcspn(w, " ");
		end = w + n;
		if (w != help && b->col + 1 + n > WIDTH)
			putf(b, "\n%24s", "");
		else if (w != help)
			put(b, " ", 1);
		put(b, w, n);
	}
	put(b, "\n", 1);
}

static void
opt_lines(struct buf *b, const struct cli_opt *o)
{
	struct buf l = { 0 };

	render_opt(&l, o, 0);
	help_line(b, l.s, o->help);
	free(l.s);
}

/* The options of verb v, in the order its forms use them, once each. */
static void
verb_opts(struct buf *b, const struct cli_tool *t, const struct cli_verb *v)
{
	const struct cli_use *u, *p;
	size_t f, g, n = nforms(v);

	for (f = 0; f < n; f++)
		for (u = v[f].uses; u != NULL && u->id != 0; u++) {
			int dup = 0;

			for (g = 0; g <= f && !dup; g++)
				for (p = v[g].uses; p != NULL &&
				    p->id != 0 && p != u; p++)
					if (p->id == u->id) {
						dup = 1;
						break;
					}
			if (!dup)
				opt_lines(b, opt_by_id(t, u->id));
		}
	for (f = 0; f < (size_t)nlist(v); f++)
		opt_lines(b, &list_opts[f]);
}

static __attribute__((noreturn)) void
print_and_exit(struct buf *b, FILE *f, int code)
{
	if (fputs(b->s ? b->s : "", f) == EOF)
		cli_die(CORP_EINTERNAL, "write: usage");
	free(b->s);
	if (f == stdout)
		cli_exit(code);
	exit(code);
}

/* corp-X -h: the synopsis as before, then a line per command and option. */
static __attribute__((noreturn)) void
tool_help(const struct cli_tool *t)
{
	const struct cli_verb *v, *s;
	const struct cli_opt *o;
	struct buf b = { 0 };
	int first = 1, nl = 0, i;

	for (v = t->verbs; v->name != NULL; v += nforms(v))
		render_verb(&b, t, "", v, &first);
	render_common(&b, t);
	if (t->summary != NULL)
		putf(&b, "\n%s: %s\n", t->name, t->summary);
	if (t->verbs[0].name[0] != '\0') {
		put(&b, "\ncommands:\n", 11);
		for (v = t->verbs; v->name != NULL; v += nforms(v))
			help_line(&b, v->name, v->summary);
	}
	if (t->opts != NULL && t->opts[0].name != NULL) {
		put(&b, "\noptions:\n", 10);
		for (o = t->opts; o->name != NULL; o++)
			opt_lines(&b, o);
	}
	for (v = t->verbs; v->name != NULL; v += nforms(v))
		if (nlist(v) > nl)
			nl = nlist(v);
	for (v = t->verbs; v->name != NULL; v += nforms(v))
		if (v->sub != NULL)
			for (s = v->sub; s->name != NULL; s += nforms(s))
				if (nlist(s) > nl)
					nl = nlist(s);
	if (nl > 0) {
		put(&b, "\nlisting options:\n", 18);
		for (i = 0; i < nl; i++)
			opt_lines(&b, &list_opts[i]);
	}
	if (t->verbs[0].name[0] != '\0')
		putf(&b, "\n%s COMMAND -h: one command's usage and options\n",
		    t->name);
	print_and_exit(&b, stdout, 0);
}

/* corp-X VERB -h */
static __attribute__((noreturn)) void
verb_help(const struct cli_tool *t, const char *prefix,
    const struct cli_verb *v)
{
	struct buf b = { 0 };
	int first = 1;

	render_verb(&b, t, prefix, v, &first);
	render_common(&b, t);
	if (v->summary != NULL)
		putf(&b, "\n%s\n", v->summary);
	if (v->sub != NULL) {
		const struct cli_verb *s;

		put(&b, "\ncommands:\n", 11);
		for (s = v->sub; s->name != NULL; s += nforms(s))
			help_line(&b, s->name, s->summary);
	} else if (v->uses != NULL && v->uses[0].id != 0) {
		put(&b, "\noptions:\n", 10);
		verb_opts(&b, t, v);
	}
	print_and_exit(&b, stdout, 0);
}

/* What set_synopsis names, rendered by synopsis() when printed. */
static struct {
	const struct cli_tool	*t;
	const struct cli_verb	*v;
	char			 prefix[128];
} syn;

static const char *
synopsis(void)
{
	static struct buf b;
	const struct cli_verb *s;
	int first = 1;

	b.len = b.col = 0;
	put(&b, "", 0);
	if (syn.v != NULL)
		render_verb(&b, syn.t, syn.prefix, syn.v, &first);
	else
		for (s = syn.t->verbs; s->name != NULL; s += nforms(s))
			render_verb(&b, syn.t, "", s, &first);
	return b.s;
}

/* Set the usage (what cli_usage prints) to verb v's lines. */
static void
set_synopsis(const struct cli_tool *t, const char *prefix,
    const struct cli_verb *v)
{
	syn.t = t;
	syn.v = v;
	strlcpy(syn.prefix, prefix, sizeof(syn.prefix));
	cli_set_usage_fn(synopsis);
}

/* ---- --cli-spec ------------------------------------------------------ */

static const char *const type_names[] = { "str", "flag", "num", "duration",
	"time", "multi" };
static const char *const comp_names[] = { "none", "file", "login", "unit",
	"channel", "zone", "lang", "event_type", "role", "words" };

static json_t *
words_json(const char *const *w)
{
	json_t *a = json_array();

	for (; w != NULL && *w != NULL; w++)
		json_array_append_new(a, json_string(*w));
	return a;
}

struct spec {
	json_t			*arr;
	const struct cli_tool	*t;
};

static void
spec_form(const char *name, const struct cli_verb *v, size_t f, void *arg)
{
	struct spec *sp = arg;
	const struct cli_tool *t = sp->t;
	const struct cli_use *u, *g;
	json_t *opts = json_array();
	int i;

	for (u = v->uses; u != NULL && u->id != 0; u++) {
		const struct cli_opt *o = opt_by_id(t, u->id);

		for (g = v->uses; u->group > 0 && g->group != u->group; g++)
			;
		if (u->group == 0)
			g = u;
		json_array_append_new(opts, json_pack(
		    "{s:s, s:s?, s:s?, s:s, s:b, s:i, s:b, s:b, s:s, s:o}",
		    "name", o->name,
		    "arg", is_flag(o) ? NULL : o->arg,
		    "help", o->help,
		    "type", type_names[is_flag(o) ? CLI_FLAG : o->type],
		    "required", !(u->flags & CLI_OPERAND) &&
			(g->flags & CLI_REQ) != 0,
		    "group", u->group,
		    "any", (g->flags & CLI_ANY) != 0,
		    "operand", (u->flags & CLI_OPERAND) != 0,
		    "comp", comp_names[o->comp],
		    "words", words_json(o->words == NULL &&
			o->comp == CLI_C_CHANNEL ? corp_channels : o->words)));
	}
	for (i = 0; i < nlist(v); i++) {
		const struct cli_opt *o = &list_opts[i];

		json_array_append_new(opts, json_pack(
		    "{s:s, s:s, s:s, s:s, s:b, s:i, s:b, s:b, s:s, s:o}",
		    "name", o->name, "arg", o->arg, "help", o->help,
		    "type", type_names[o->type], "required", 0, "group", 0,
		    "any", 0, "operand", 0, "comp", comp_names[o->comp],
		    "words", words_json(o->words)));
	}
	json_array_append_new(sp->arr, json_pack("{s:s, s:i, s:s?, s:s?, s:i, "
	    "s:i, s:o}", "name", name, "form", (int)f, "summary", v->summary,
	    "operands", v->operands, "nmin", v->nmin, "nmax", v->nmax,
	    "options", opts));
}

static __attribute__((noreturn)) void
spec(const struct cli_tool *t)
{
	const struct cli_verb *v;
	json_t *o, *verbs = json_array(), *common = json_array();
	struct spec sp = { verbs, t };

	if (t->common & CLI_COMMON_DB)
		json_array_append_new(common, json_string("db"));
	if (t->common & CLI_COMMON_DATA_DIR)
		json_array_append_new(common, json_string("data-dir"));
	if (t->common & CLI_COMMON_NOW)
		json_array_append_new(common, json_string("now"));
	json_array_append_new(common, json_string("quiet"));
	json_array_append_new(common, json_string("verbose"));
	json_array_append_new(common, json_string("version"));
	for (v = t->verbs; v->name != NULL; v += nforms(v))
		each_form("", v, spec_form, &sp);
	o = json_pack("{s:s, s:s?, s:o, s:o}", "tool", t->name, "summary",
	    t->summary, "common", common, "verbs", verbs);
	if (o == NULL)
		cli_die(CORP_EINTERNAL, "--cli-spec: cannot build the JSON");
	cli_out(o);
	json_decref(o);
	cli_exit(0);
}

/* ---- parsing ----------------------------------------------------------- */

static int
is_help(const char *s)
{
	return strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0;
}

/* The verb named s among verbs (first forms only), or NULL. */
static const struct cli_verb *
find_verb(const struct cli_verb *verbs, const char *s)
{
	const struct cli_verb *v;

	for (v = verbs; v->name != NULL; v += nforms(v))
		if (strcmp(v->name, s) == 0)
			return v;
	return NULL;
}

static const char **
verb_names(const struct cli_verb *verbs)
{
	const struct cli_verb *v;
	const char **names;
	size_t n = 0;

	for (v = verbs; v->name != NULL; v += nforms(v))
		n++;
	if ((names = calloc(n + 1, sizeof(*names))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	n = 0;
	for (v = verbs; v->name != NULL; v += nforms(v))
		names[n++] = v->name;
	return names;
}

static __attribute__((noreturn)) void
unknown_verb(const struct cli_tool *t, const char *prefix,
    const struct cli_verb *verbs, const char *word)
{
	const char **names = verb_names(verbs), *best, **p;
	struct buf b = { 0 };
	char *shown;

	/* The word as typed may hold controls or invisible characters:
	 * shown cleaned, as every stderr line is (corp.7 Untrusted text). */
	if ((shown = strdup(word)) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	corp_server_text(shown);
	best = corp_suggest(word, names, 2);
	word = shown;
	if (best != NULL)
		putf(&b, "%s: unknown command '%s%s%s' (did you mean '%s%s%s'?)"
		    "\n", t->name, prefix, *prefix ? " " : "", word, prefix,
		    *prefix ? " " : "", best);
	else
		putf(&b, "%s: unknown command '%s%s%s'\n", t->name, prefix,
		    *prefix ? " " : "", word);
	put(&b, "commands:", 9);
	for (p = names; *p != NULL; p++)
		elem(&b, *p);
	putf(&b, "\n%s%s%s -h: their usage and options\n", t->name,
	    *prefix ? " " : "", prefix);
	free(names);
	free(shown);
	print_and_exit(&b, stderr, CORP_EUSAGE);
}

/*
 * -h or --help among the verb's arguments, before "--", not as the value
 * of an option that takes one.
 */
static int
wants_help(const struct cli_tool *t, int argc, char **argv)
{
	const struct cli_opt *o;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (is_help(argv[i]))
			return 1;
		if (strncmp(argv[i], "--", 2) != 0 ||
		    strchr(argv[i], '=') != NULL)
			continue;
		for (o = t->opts; o != NULL && o->name != NULL; o++)
			if (strcmp(argv[i] + 2, o->name) == 0 && !is_flag(o)) {
				i++;
				break;
			}
		if (o == NULL || o->name == NULL)
			for (o = list_opts; o->name != NULL; o++)
				if (strcmp(argv[i] + 2, o->name) == 0) {
					i++;
					break;
				}
	}
	return 0;
}

/* "--as LOGIN" for messages. */
static char *
opt_text(const struct cli_opt *o)
{
	struct buf b = { 0 };

	render_opt(&b, o, 1);
	return b.s;
}

/* The name of an unknown or ambiguous long option, without "--" and
 * "=value". */
static char *
bad_name(const char *arg)
{
	size_t n;
	char *s;

	arg += strncmp(arg, "--", 2) == 0 ? 2 : strncmp(arg, "-", 1) == 0;
	n = strcspn(arg, "=");
	if ((s = strndup(arg, n)) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	return s;
}

static __attribute__((noreturn)) void
unknown_opt(const struct cli_tool *t, const struct cli_verb *v,
    const char *arg)
{
	const struct cli_opt *o;
	const char **cands, *best = NULL, *amb[3] = { 0 };
	char *name = bad_name(arg);
	size_t n = 0, namb = 0;

	for (o = t->opts; o != NULL && o->name != NULL; o++)
		n++;
	if ((cands = calloc(n + 5, sizeof(*cands))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	/* An abbreviation getopt could not resolve. */
	for (o = t->opts; o != NULL && o->name != NULL; o++)
		if (*name && strncmp(o->name, name, strlen(name)) == 0 &&
		    namb < 2)
			amb[namb++] = o->name;
	if (namb == 2)
		cli_usage("option --%s is ambiguous (--%s, --%s, ...)", name,
		    amb[0], amb[1]);
	/* The verb's own options first, then the tool's. */
	n = 0;
	for (o = t->opts; o != NULL && o->name != NULL; o++)
		if (use_in(v, o->id) != NULL && !shadowed(v, o))
			cands[n++] = o->name;
	for (o = list_opts; (int)(o - list_opts) < nlist(v); o++)
		cands[n++] = o->name;
	cands[n++] = "help";
	cands[n] = NULL;
	if ((best = corp_suggest(name, cands, 2)) == NULL) {
		n = 0;
		for (o = t->opts; o != NULL && o->name != NULL; o++)
			cands[n++] = o->name;
		cands[n] = NULL;
		best = corp_suggest(name, cands, 2);
	}
	if (strncmp(arg, "--", 2) != 0)
		cli_usage("unknown option %s", arg);
	if (best != NULL)
		cli_usage("unknown option --%s (did you mean --%s?)", name,
		    best);
	cli_usage("unknown option --%s", name);
}

static void
take(struct cli_args *a, const struct cli_opt *o, const char *val)
{
	const char *const *w;
	char what[80];
	int id = o->id;

	a->given |= (uint64_t)1 << id;
	a->val[id] = val;
	a->word[id] = 0;
	if (is_flag(o))
		return;
	snprintf(what, sizeof(what), "--%s", o->name);
	if (o->type != CLI_STR && o->type != CLI_MULTI)
		for (w = o->words; w != NULL && *w != NULL; w++)
			if (strcmp(val, *w) == 0) {
				a->word[id] = 1;
				return;
			}
	switch (o->type) {
	case CLI_NUM:
		a->num[id] = o->min == 0 && o->max == 0 ?
		    cli_num(val, 1, LLONG_MAX, what) :
		    cli_num(val, o->min, o->max, what);
		break;
	case CLI_DURATION:
		a->num[id] = cli_duration(val, what);
		break;
	case CLI_TIME:
		a->num[id] = cli_time(val, what);
		break;
	case CLI_MULTI:
		if (o->max > 0 && a->nmulti[id] == (size_t)o->max)
			cli_usage("at most %lld --%s", o->max, o->name);
		a->multi[id] = reallocarray(a->multi[id], a->nmulti[id] + 2,
		    sizeof(*a->multi[id]));
		if (a->multi[id] == NULL)
			cli_die(CORP_EINTERNAL, "out of memory");
		a->multi[id][a->nmulti[id]++] = val;
		a->multi[id][a->nmulti[id]] = NULL;
		break;
	default:
		break;
	}
}

/* Join "a", "a and b", "a, b and c" (or "or") into b. */
static void
join(struct buf *b, char **parts, size_t n, const char *last)
{
	size_t i;

	for (i = 0; i < n; i++)
		putf(b, "%s%s", i == 0 ? "" : i + 1 == n ? last : ", ",
		    parts[i]);
}

/* cli_usage("VERB WHAT b->s") with b freed first: the message is
 * copied, so that nothing is left unreachable at exit (LeakSanitizer). */
static __attribute__((noreturn)) void
usage_free(struct buf *b, const char *what, const char *vname)
{
	static char msg[2048];

	(void)strlcpy(msg, b->s != NULL ? b->s : "", sizeof(msg));
	free(b->s);
	b->s = NULL;
	cli_usage("%s %s %s", vname, what, msg);
}

/*
 * Required options and groups of a single-form verb: "VERB takes one of
 * --a, --b" for two of an exclusive group, else "VERB needs X, Y and
 * (--a A or --b B)" for what is missing.  (The messages end the program,
 * so nothing here is freed.)
 */
static void
check_required(const struct cli_args *a, const struct cli_verb *v)
{
	const struct cli_tool *t = a->tool;
	const struct cli_use *u, *p;
	char *missing[NOPT], *alt[NOPT];
	int group[NOPT];
	struct buf b = { 0 };
	size_t nm = 0, na, ng, i;

	for (u = v->uses; u != NULL && u->id != 0; u++) {
		if (u->flags & CLI_OPERAND)
			continue;
		if (u->group == 0) {
			if ((u->flags & CLI_REQ) && !cli_has(a, u->id)) {
				group[nm] = 0;
				missing[nm++] = opt_text(opt_by_id(t, u->id));
			}
			continue;
		}
		for (p = v->uses; p->group != u->group; p++)
			;
		if (p != u)
			continue;	/* the group is judged at its first */
		na = ng = 0;
		b.len = b.col = 0;
		for (p = u; p->id != 0; p++) {
			if (p->group != u->group)
				continue;
			putf(&b, "%s--%s", ng++ ? ", " : "",
			    opt_by_id(t, p->id)->name);
			if (cli_has(a, p->id))
				na++;
			alt[ng - 1] = opt_text(opt_by_id(t, p->id));
		}
		if (na > 1 && !(u->flags & CLI_ANY)) {
			for (i = 0; i < ng; i++)
				free(alt[i]);
			usage_free(&b, "takes one of", a->vname);
		}
		if (na > 0 || !(u->flags & CLI_REQ)) {
			for (i = 0; i < ng; i++)
				free(alt[i]);
			continue;
		}
		b.len = b.col = 0;
		join(&b, alt, ng, " or ");
		for (i = 0; i < ng; i++)
			free(alt[i]);
		group[nm] = 1;
		missing[nm++] = b.s;
		b.s = NULL;
		b.cap = 0;
	}
	if (nm == 0) {
		free(b.s);
		return;
	}
	/* "(--assignee LOGIN or --unit UNIT)" among others */
	for (i = 0; nm > 1 && i < nm; i++) {
		char *was = missing[i];

		if (group[i] && asprintf(&missing[i], "(%s)", was) < 0)
			cli_die(CORP_EINTERNAL, "out of memory");
		if (group[i])
			free(was);
	}
	b.len = b.col = 0;
	join(&b, missing, nm, " and ");
	for (i = 0; i < nm; i++)
		free(missing[i]);
	usage_free(&b, "needs", a->vname);
}

/*
 * The operand count; a CLI_OPERAND option stands for the last operand:
 * given, the verb takes one operand fewer, else all of them
 * ("NAME (LOGIN | --none)", "(TASK | --all)").
 */
static void
check_operands(const struct cli_args *a, const struct cli_verb *v)
{
	const struct cli_use *u;
	int n = a->nargs;

	for (u = v->uses; u != NULL && u->id != 0; u++)
		if (u->flags & CLI_OPERAND) {
			if (n != (cli_has(a, u->id) ? v->nmax - 1 : v->nmax))
				cli_usage("%s expects %s", a->vname,
				    v->operands);
			return;
		}
	if (n >= v->nmin && (v->nmax < 0 || n <= v->nmax))
		return;
	if (v->nmax == 0)
		cli_usage("%s takes no arguments", a->vname);
	if (v->nmin == 1 && v->nmax == 1)
		cli_usage("%s needs one %s", a->vname, v->operands);
	cli_usage("%s expects %s", a->vname, v->operands ? v->operands : "");
}

/* Parse argv[0..argc) (argv[0] the verb) against verb v. */
static void
parse(struct cli_args *a, const struct cli_verb *v, int argc, char **argv)
{
	const struct cli_tool *t = a->tool;
	const struct cli_opt *o;
	/* Static: a usage error exits from inside the loop below, and the
	 * table must stay reachable then (LeakSanitizer). */
	static struct option *lo;
	size_t n = 0, i;
	int ch;

	for (o = t->opts; o != NULL && o->name != NULL; o++) {
		if (o->id < 1 || o->id >= CLI_O_FORMAT)
			cli_die(CORP_EINTERNAL, "%s: option table: --%s has "
			    "id %d (1..%d)", t->name, o->name, o->id,
			    CLI_O_FORMAT - 1);
		n++;
	}
	if ((lo = calloc(n + 5, sizeof(*lo))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	/* A listing's --limit and --after are the shared ones, whatever
	 * the tool's own (corp-deliver pending) mean; another verb knows
	 * them too, to say that it takes none. */
	for (i = 0, n = 0, o = t->opts; o != NULL && o->name != NULL; o++) {
		if (shadowed(v, o))
			continue;
		lo[n].name = o->name;
		lo[n].has_arg = is_flag(o) ? no_argument : required_argument;
		lo[n++].val = 256 + o->id;
	}
	for (o = list_opts; o->name != NULL; o++) {
		size_t k;

		for (k = 0; k < n && strcmp(lo[k].name, o->name) != 0; k++)
			;
		if (k < n)
			continue;
		lo[n].name = o->name;
		lo[n].has_arg = required_argument;
		lo[n++].val = 256 + o->id;
	}
	lo[n].name = "help";
	lo[n].val = 'h';
	/*
	 * A verb whose operands may be negative numbers: hide each "-N"
	 * before "--" from getopt behind a \001 it never takes for an
	 * option, and take it off again once the operands are known.
	 */
	if (v->flags & CLI_NEGNUM)
		for (i = 1; i < (size_t)argc && strcmp(argv[i], "--") != 0;
		    i++)
			if (argv[i][0] == '-' && argv[i][1] != '\0' &&
			    strspn(argv[i] + 1, "0123456789") ==
			    strlen(argv[i] + 1) &&
			    asprintf(&argv[i], "\001%s", argv[i]) < 0)
				cli_die(CORP_EINTERNAL, "out of memory");
	opterr = 0;
	optind = 0;	/* glibc: start over, permuting again */
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch == 'h')
			verb_help(t, a->prefix, v);	/* not seen before */
		if (ch == ':') {
			if (optopt >= 256)
				cli_usage("option --%s needs a value",
				    opt_by_id(t, optopt - 256)->name);
			cli_usage("option -%c needs a value", optopt);
		}
		if (ch == '?') {
			if (optopt >= 256)
				cli_usage("option --%s takes no value",
				    opt_by_id(t, optopt - 256)->name);
			if (optopt == 'h')
				cli_usage("option --help takes no value");
			if (optopt != 0)
				cli_usage("unknown option -%c", optopt);
			unknown_opt(t, v, argv[optind - 1]);
		}
		o = opt_by_id(t, ch - 256);
		if (use_in(v, o->id) == NULL)
			cli_usage("%s takes no --%s", a->vname, o->name);
		take(a, o, optarg);
	}
	free(lo);
	lo = NULL;
	a->args = argv + optind;
	a->nargs = argc - optind;
	for (i = 0; i < (size_t)a->nargs; i++)
		if (a->args[i][0] == '\001')
			a->args[i]++;
}

/*
 * "--quiet 22:00-07:00" where the verb takes --quiet-hours: the common
 * flag took no value, and its word went to the operands (or "=VALUE"
 * was given); say which option was meant (64).
 */
static void
flag_misuse(const struct cli_args *a, const struct cli_verb *v)
{
	const char *flag, *val, *name;
	const struct cli_opt *o;
	int eq, i, used = 0;
	size_t n;

	if ((flag = cli_flag_misuse(&val, &eq)) == NULL || val == NULL)
		return;
	for (i = 0; i < a->nargs; i++)
		used |= a->args[i] == val;
	if (!used && !eq)
		return;
	name = flag + strspn(flag, "-");
	n = strlen(name);
	for (o = a->tool->opts; o != NULL && o->name != NULL; o++)
		if (!is_flag(o) && strncmp(o->name, name, n) == 0 &&
		    o->name[n] == '-' && use_in(v, o->id) != NULL)
			cli_usage("%s takes no value (did you mean --%s?)",
			    flag, o->name);
	if (eq)
		cli_usage("option %s takes no value", flag);
}

static void list_begin(const struct cli_args *);
static void list_end(const struct cli_args *);

void
cli_main(const struct cli_tool *t, int argc, char **argv)
{
	struct cli_args *a = &args;
	const struct cli_verb *v, *list = t->verbs;
	char *prefix = a->prefix;
	int k = 1, rc;

	cli_init(&argc, &argv);
	a->tool = t;
	set_synopsis(t, "", NULL);
	if (argc >= 2 && strcmp(argv[1], "--cli-spec") == 0)
		spec(t);
	if (list[0].name[0] == '\0') {
		v = list;
		k = 0;
		goto found;
	}
	if (argc < 2)
		cli_usage("missing command");
	if (is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		if (strcmp(argv[1], "help") == 0 && argc >= 3 &&
		    (v = find_verb(list, argv[2])) != NULL)
			verb_help(t, "", v);
		tool_help(t);
	}
	for (;;) {
		if ((v = find_verb(list, argv[k])) == NULL)
			unknown_verb(t, prefix, list, argv[k]);
		if (v->sub == NULL)
			break;
		if (k + 1 >= argc || is_help(argv[k + 1])) {
			if (k + 1 < argc)
				verb_help(t, prefix, v);
			set_synopsis(t, prefix, v);
			cli_usage("%s%s%s needs a command", prefix,
			    *prefix ? " " : "", v->name);
		}
		if (snprintf(prefix + strlen(prefix), sizeof(a->prefix) -
		    strlen(prefix), "%s%s", *prefix ? " " : "", v->name) >=
		    (int)(sizeof(a->prefix) - strlen(prefix)))
			cli_die(CORP_EINTERNAL, "verb name too long");
		list = v->sub;
		k++;
	}
found:
	/* Verb names are the table's own: short by construction.  A tool
	 * without verbs is named by itself in messages ("corp-fmt takes no
	 * arguments"). */
	if (snprintf(a->vname, sizeof(a->vname), "%s%s%s", prefix,
	    *prefix ? " " : "", *v->name ? v->name : t->name) >=
	    (int)sizeof(a->vname))
		cli_die(CORP_EINTERNAL, "verb name too long");
	a->verb = v;
	set_synopsis(t, prefix, v);
	if (wants_help(t, argc - k, argv + k))
		verb_help(t, prefix, v);
	parse(a, v, argc - k, argv + k);
	flag_misuse(a, v);
	check_operands(a, v);
	if (nforms(v) == 1)
		check_required(a, v);
	list_begin(a);
	rc = v->fn(a);
	list_end(a);
	cli_exit(rc);
}

/* ---- access ------------------------------------------------------------ */

const char *
cli_verb_name(const struct cli_args *a)
{
	return a->vname;
}

int
cli_has(const struct cli_args *a, int id)
{
	return id > 0 && id < NOPT && (a->given >> id & 1) != 0;
}

const char *
cli_str(const struct cli_args *a, int id)
{
	return cli_has(a, id) ? a->val[id] : NULL;
}

long long
cli_int(const struct cli_args *a, int id, long long def)
{
	return cli_has(a, id) && !a->word[id] ? a->num[id] : def;
}

const char *const *
cli_multi(const struct cli_args *a, int id, size_t *n)
{
	*n = cli_has(a, id) ? a->nmulti[id] : 0;
	return *n ? a->multi[id] : NULL;
}

int
cli_nargs(const struct cli_args *a)
{
	return a->nargs;
}

const char *
cli_arg(const struct cli_args *a, int i)
{
	return i >= 0 && i < a->nargs ? a->args[i] : NULL;
}

/* ---- listings (cli.h struct cli_list) ------------------------------ */

static struct {
	int			 on;	/* the verb is a listing */
	enum cli_fmt		 fmt;
	struct cli_table	*tab;	/* table or tsv */
	long long		 limit;	/* 0: none */
	const char		*after;
	int			 passed; /* CLI_L_POS: the cursor's row seen */
	long long		 shown, seen, total;
	int			 has_total, fetched;
	char			*last;	/* the key of the last row shown */
} L;

enum cli_fmt
cli_format(const struct cli_args *a)
{
	(void)a;
	return L.fmt;
}

long long
cli_list_fetch(const struct cli_args *a)
{
	(void)a;
	L.fetched = 1;
	return L.limit > 0 && L.limit < LLONG_MAX ? L.limit + 1 : 0;
}

long long
cli_list_after_id(const struct cli_args *a)
{
	(void)a;
	return L.after != NULL ? cli_num(L.after, 0, LLONG_MAX, "--after") :
	    0;
}

void
cli_list_total(const struct cli_args *a, long long total)
{
	(void)a;
	L.total = total;
	L.has_total = 1;
}

/* The tool's own option named name, given for this verb. */
static int
own_given(const struct cli_args *a, const char *name)
{
	const struct cli_opt *o;

	for (o = a->tool->opts; o != NULL && o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return use_in(a->verb, o->id) != NULL &&
			    cli_has(a, o->id);
	return 0;
}

static void
list_begin(const struct cli_args *a)
{
	const struct cli_list *l = a->verb->list;
	const char *f = cli_str(a, CLI_O_FORMAT), *best;

	if (l == NULL)
		return;
	L.on = 1;
	if (f != NULL) {
		if (strcmp(f, "json") == 0)
			L.fmt = CLI_FMT_JSON;
		else if (strcmp(f, "table") == 0)
			L.fmt = CLI_FMT_TABLE;
		else if (strcmp(f, "tsv") == 0)
			L.fmt = CLI_FMT_TSV;
		else if ((best = corp_suggest(f, (const char **)fmt_words,
		    2)) != NULL)
			cli_usage("--format: '%s' is not json, table or tsv "
			    "(did you mean %s?)", f, best);
		else
			cli_usage("--format: '%s' is not json, table or tsv",
			    f);
		/* --json, the old spelling (corp-org list), is --format json */
		if (own_given(a, "json") && L.fmt != CLI_FMT_JSON)
			cli_usage("%s takes one of --format, --json", a->vname);
	} else if (own_given(a, "json"))
		L.fmt = CLI_FMT_JSON;
	else if ((l->flags & CLI_L_LEGACY_ALL) ||
	    ((l->flags & CLI_L_LEGACY) && !isatty(STDOUT_FILENO)))
		L.fmt = CLI_FMT_LEGACY;
	else
		L.fmt = isatty(STDOUT_FILENO) ? CLI_FMT_TABLE : CLI_FMT_JSON;
	L.limit = cli_int(a, CLI_O_LIMIT, l->deflimit);
	L.after = cli_str(a, CLI_O_AFTER);
	if (L.after != NULL && !(l->flags & CLI_L_POS)) {
		const char *p;
		int nf = 1, nc = 0;

		for (p = l->key; *p != '\0'; p++)
			nf += *p == ',';
		for (p = L.after; *p != '\0'; p++)
			nc += *p == ':';
		if (nc < nf - 1)
			cli_usage("--after: '%s' is not a cursor %s", L.after,
			    l->arg);
	}
	if (L.fmt == CLI_FMT_TABLE || L.fmt == CLI_FMT_TSV)
		L.tab = cli_table_new(L.fmt == CLI_FMT_TSV, corp_cfg.display_tz);
}

/* The row's key: its key fields' values joined by ':' (malloc'd). */
static char *
row_key(const char *key, json_t *row)
{
	struct buf b = { 0 };
	const char *p = key;
	size_t n;
	json_t *v;
	char name[64];

	put(&b, "", 0);
	while (*p != '\0') {
		n = strcspn(p, ",");
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		v = json_object_get(row, name);
		if (b.len > 0 || p != key)
			put(&b, ":", 1);
		if (json_is_integer(v))
			putf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_string(v))
			putf(&b, "%s", json_string_value(v));
		p += n + (p[n] == ',');
	}
	return b.s;
}

/*
 * The row's key against the cursor, field by field (the first field
 * takes all but the last parts, so that a time or a name may hold ':'):
 * a number field as numbers, else bytewise.
 */
static int
key_cmp(const char *key, json_t *row, const char *cur)
{
	const char *p = key, *c = cur, *es, *q;
	size_t n, m, nf = 1, k;
	json_t *v;
	char name[64], *part;
	long long x;
	int r = 0;

	for (q = key; *q != '\0'; q++)
		nf += *q == ',';
	while (*p != '\0' && r == 0) {
		n = strcspn(p, ",");
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		v = json_object_get(row, name);
		if (p == key && nf > 1) {
			/* up to the (nf-1)th ':' from the end */
			for (m = strlen(c), k = 0; m > 0; m--)
				if (c[m - 1] == ':' && ++k == nf - 1)
					break;
			m = m > 0 ? m - 1 : strlen(c);
		} else
			m = p[n] != '\0' ? strcspn(c, ":") : strlen(c);
		p += n + (p[n] == ',');
		if ((part = strndup(c, m)) == NULL)
			cli_die(CORP_EINTERNAL, "out of memory");
		c += m + (c[m] == ':');
		if (json_is_integer(v)) {
			x = strtonum(part, LLONG_MIN, LLONG_MAX, &es);
			if (es != NULL) {
				free(part);	/* nothing unreachable at exit */
				cli_usage("--after: '%s': %s is a number in "
				    "this listing", cur, name);
			}
			r = json_integer_value(v) < x ? -1 :
			    json_integer_value(v) > x;
		} else
			r = strcmp(json_is_string(v) ? json_string_value(v) :
			    "", part);
		free(part);
	}
	return r;
}

/* Whether the row is printed; counts it either way.  cursor: whether
 * the row may still be at or before the cursor. */
static int
list_take(const struct cli_args *a, json_t *row, int cursor)
{
	const struct cli_list *l = a->verb->list;

	if (cursor && L.after != NULL && !(l->flags & CLI_L_NOPAGE)) {
		if (l->flags & CLI_L_POS) {
			if (!L.passed) {
				char *k = row_key(l->key, row);

				L.passed = strcmp(k, L.after) == 0;
				free(k);
				return 0;
			}
		} else if (key_cmp(l->key, row, L.after) <= 0)
			return 0;
	}
	L.seen++;
	if (L.limit > 0 && L.shown >= L.limit)
		return 0;
	L.shown++;
	if (!(l->flags & CLI_L_NOPAGE)) {
		free(L.last);
		L.last = row_key(l->key, row);
	}
	return 1;
}

static void
emit(json_t *row)
{
	if (L.tab != NULL)
		cli_table_add(L.tab, row);
	else
		cli_out(row);
}

static void
list_end(const struct cli_args *a)
{
	const char *tool = a->tool->name;

	if (!L.on)
		return;
	if (L.tab != NULL)
		cli_table_end(L.tab);
	L.tab = NULL;
	if (L.after != NULL && (a->verb->list->flags & CLI_L_POS) &&
	    !L.passed)
		cli_die(CORP_ENOTFOUND, "%s: --after: no row %s (the key of a "
		    "row this listing shows)", a->vname, L.after);
	if (L.seen > L.shown && L.last != NULL) {
		/* The rows first, on a terminal where both go. */
		if (fflush(stdout) == EOF && errno != EPIPE)
			cli_die(CORP_EINTERNAL, "stdout: %s", strerror(errno));
		/* The count is known when every row came (no query limit)
		 * or the query counted them (cli_list_total). */
		if (L.has_total || !L.fetched)
			fprintf(stderr, "%s: %s: %lld of %lld rows shown; "
			    "--after %s for more\n", tool, a->vname, L.shown,
			    L.has_total ? L.total : L.seen, L.last);
		else
			fprintf(stderr, "%s: %s: %lld row%s shown, more "
			    "follow; --after %s for more\n", tool, a->vname,
			    L.shown, L.shown == 1 ? "" : "s", L.last);
	}
	free(L.last);
	L.last = NULL;
}

/*
 * The index of the row whose key is the cursor in a whole listing, or
 * -1.  The rows after it are after the cursor whatever the comparison
 * says: the database's order of text (a PostgreSQL collation) need not
 * be bytewise.  Without such a row, key_cmp decides.
 */
static long
cursor_row(const struct cli_args *a, json_t *arr)
{
	const struct cli_list *l = a->verb->list;
	json_t *v;
	size_t i;
	char *k;
	int eq;

	if (!L.on || L.after == NULL || (l->flags & (CLI_L_POS |
	    CLI_L_NOPAGE)))
		return -1;
	json_array_foreach(arr, i, v) {
		k = row_key(l->key, v);
		eq = strcmp(k, L.after) == 0;
		free(k);
		if (eq)
			return (long)i;
	}
	return -1;
}

/* list_take for row i of a whole listing whose cursor row is c. */
static int
take_at(const struct cli_args *a, json_t *row, size_t i, long c)
{
	if (c >= 0 && (long)i <= c)
		return 0;
	return list_take(a, row, c < 0);
}

json_t *
cli_page(const struct cli_args *a, json_t *arr)
{
	json_t *v, *r;
	size_t i;
	long c = cursor_row(a, arr);

	if (!L.on)
		return arr;
	if ((r = json_array()) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	json_array_foreach(arr, i, v)
		if (take_at(a, v, i, c) && json_array_append(r, v) != 0)
			cli_die(CORP_EINTERNAL, "out of memory");
	json_decref(arr);
	return r;
}

void
cli_row(const struct cli_args *a, json_t *row)
{
	if (!L.on || list_take(a, row, 1))
		emit(row);
	json_decref(row);
}

void
cli_rows(const struct cli_args *a, json_t *arr)
{
	json_t *v;
	size_t i;
	long c;

	if (!json_is_array(arr)) {
		cli_row(a, arr);
		return;
	}
	c = cursor_row(a, arr);
	json_array_foreach(arr, i, v)
		if (!L.on || take_at(a, v, i, c))
			emit(v);
	json_decref(arr);
}
