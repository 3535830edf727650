/*
 * corp-fmt -- a pipe stage: add "text" (and "subject" for e-mail) to each
 * delivery line from the i18n catalogs (DESIGN 6).  Never opens the
 * database; never drops a line (DESIGN 2).
 */
#include <string.h>

#include "cli.h"
#include "catalog.h"
#include "fmtline.h"
#include "jsonl.h"
#include "names.h"

enum { O_CATALOG = 1, O_FALLBACK };

static const struct cli_opt opts[] = {
	{ O_CATALOG, "catalog", "FILE", "a catalog to use instead of the "
	    "installed ones (repeatable)", CLI_MULTI, .comp = CLI_C_FILE },
	{ O_FALLBACK, "fallback-lang", "LANG", "language of a user without "
	    "one (en)", .comp = CLI_C_LANG },
	{ 0 }
};

/*
 * Lines held for a configuration error, counted per distinct cause
 * (jansson keeps insertion order): one stderr line per cause at the end,
 * not one per line (DESIGN 12).  Past MAXCAUSES causes the rest are only
 * counted.
 */
#define MAXCAUSES	100
static struct {
	const struct corp_catalog *cat;
	const char	*fallback;
	const char	*unusable;	/* a catalog refused: every line held */
	json_t		*held;
	long long	 held_other;
	int		 noid;
} F;

/* One line formatted and passed on. */
static int
each(struct corp_jsonl_item *it, size_t n, void *arg, struct corp_err *e)
{
	char tb[160];
	json_t *c;
	int outcome;

	(void)n;
	(void)arg;
	if ((F.unusable != NULL ? corp_fmt_line_held(it->obj, F.unusable,
	    &outcome, e) : corp_fmt_line(F.cat, it->obj, F.fallback, &outcome,
	    e)) != 0)
		cli_fail(e);
	if (F.unusable != NULL && outcome == CORP_FMT_HELD) {
		cli_out(it->obj);	/* said once, at the start */
		return 0;
	}
	corp_line_trace(it->obj, tb, sizeof(tb));
	if (outcome == CORP_FMT_NOID) {
		cli_warn("%s:%lu: %s%s", it->name, it->lineno, e->msg, tb);
		F.noid = 1;
	} else if (outcome == CORP_FMT_FAILED)
		cli_warn("delivery %" JSON_INTEGER_FORMAT ": %s%s",
		    json_integer_value(json_object_get(it->obj,
		    "delivery_id")), e->msg, tb);
	else if (outcome == CORP_FMT_HELD) {
		if ((c = json_object_get(F.held, e->msg)) != NULL)
			json_integer_set(c, json_integer_value(c) + 1);
		else if (json_object_size(F.held) >= MAXCAUSES ||
		    json_object_set_new(F.held, e->msg, json_integer(1)) != 0)
			F.held_other++;	/* also a cause that is not UTF-8 */
	}
	cli_out(it->obj);
	return 0;
}

static int
cmd_fmt(const struct cli_args *a)
{
	struct corp_loop l = { .batch = 1, .batch_ms = -1, .each = each };
	struct corp_catalog *cat;
	struct corp_err e, unusable = { 0, "" };
	const char *cause, *fallback = cli_str(a, O_FALLBACK);
	size_t n;
	const char *const *files = cli_multi(a, O_CATALOG, &n);
	json_t *c;
	int bad;

	if (fallback == NULL)
		fallback = "en";
	else if (*fallback == '\0' || strchr(fallback, ':') != NULL)
		cli_usage("--fallback-lang: bad language '%s'", fallback);
	/* A catalog refused by the ownership rule: every line is held
	 * (corp-fmt.1 EXIT STATUS), none dropped, and the exit is 77. */
	if (corp_fmt_catalog(&cat, (char *const *)files, (int)n, &e) != 0) {
		if (e.code != CORP_EFORBIDDEN)
			cli_fail(&e);
		unusable = e;
		F.unusable = unusable.msg;
		cli_warn("%s; every line passes on as retry", e.msg);
	}
	/* A fallback no catalog has would hold every line it is needed
	 * for: refuse it here, once, as a usage error. */
	if (cat != NULL && corp_lang_check_catalog(cat, fallback, &e) != 0) {
		if (e.code == CORP_EINTERNAL)
			cli_fail(&e);
		cli_usage("--fallback-lang: %s", e.msg);
	}
	F.cat = cat;
	F.fallback = fallback;
	if ((F.held = json_object()) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	bad = cli_loop(0, NULL, &l);
	json_object_foreach(F.held, cause, c)
		cli_warn("held %lld line%s (configuration): %s",
		    (long long)json_integer_value(c),
		    json_integer_value(c) == 1 ? "" : "s", cause);
	if (F.held_other > 0)
		cli_warn("held %lld more line%s for other causes",
		    F.held_other, F.held_other == 1 ? "" : "s");
	json_decref(F.held);
	corp_catalog_free(cat);
	return unusable.code ? unusable.code : bad || F.noid ? CORP_EINVAL : 0;
}

static const struct cli_verb verbs[] = {
	{ "", cmd_fmt, "add the message text to each delivery line", NULL,
	    0, 0, (const struct cli_use[]){ { O_CATALOG }, { O_FALLBACK },
	    { 0 } } },
	{ NULL }
};

static const struct cli_tool tool = { "corp-fmt",
	"a pipe stage: format delivery lines from the i18n catalogs", opts,
	verbs, CLI_COMMON_DATA_DIR };

int
main(int argc, char *argv[])
{
	cli_main(&tool, argc, argv);
}
