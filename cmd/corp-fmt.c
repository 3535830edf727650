/*
 * corp-fmt -- a pipe stage: add "text" (and "subject" for e-mail) to each
 * delivery line from the i18n catalogs (DESIGN 6).  Never opens the
 * database; never drops a line (DESIGN 2).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "catalog.h"
#include "fmtline.h"
#include "jsonl.h"
#include "names.h"
#include "render.h"

static const char synopsis[] =
"usage: corp-fmt [--catalog FILE] ... [--fallback-lang LANG]\n"
"common options: --data-dir DIR  --version\n";

/*
 * Lines held for a configuration error, counted per distinct cause
 * (jansson keeps insertion order): one stderr line per cause at the end,
 * not one per line (DESIGN 12).  Past MAXCAUSES causes the rest are only
 * counted.
 */
#define MAXCAUSES	100
static json_t	*held;
static long long held_other;

static void
hold(const char *cause)
{
	json_t *n = json_object_get(held, cause);

	if (n != NULL)
		json_integer_set(n, json_integer_value(n) + 1);
	else if (json_object_size(held) >= MAXCAUSES ||
	    json_object_set_new(held, cause, json_integer(1)) != 0)
		held_other++;	/* also a cause jansson refuses (not UTF-8) */
}

static void
report_held(void)
{
	const char *cause;
	json_t *n;

	json_object_foreach(held, cause, n)
		cli_warn("held %lld line%s (configuration): %s",
		    (long long)json_integer_value(n),
		    json_integer_value(n) == 1 ? "" : "s", cause);
	if (held_other > 0)
		cli_warn("held %lld more line%s for other causes",
		    held_other, held_other == 1 ? "" : "s");
}

/*
 * One line: returns 1 when the line lacked a delivery_id (the stage
 * exits 65 at the end), else 0.
 */
static int
format_line(const struct corp_catalog *cat, json_t *line,
    const char *fallback, unsigned long lineno, const char *unusable)
{
	struct corp_err e;
	char tb[160];
	int outcome;

	if ((unusable != NULL ? corp_fmt_line_held(line, unusable, &outcome,
	    &e) : corp_fmt_line(cat, line, fallback, &outcome, &e)) != 0)
		cli_fail(&e);
	if (unusable != NULL && outcome == CORP_FMT_HELD)
		return 0;	/* said once, at the start */
	corp_line_trace(line, tb, sizeof(tb));
	switch (outcome) {
	case CORP_FMT_NOID:
		cli_warn("<stdin>:%lu: %s%s", lineno, e.msg, tb);
		return 1;
	case CORP_FMT_FAILED:
		cli_warn("delivery %" JSON_INTEGER_FORMAT ": %s%s",
		    json_integer_value(json_object_get(line, "delivery_id")),
		    e.msg, tb);
		break;
	case CORP_FMT_HELD:
		hold(e.msg);
		break;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "catalog", required_argument, NULL, 'c' },
		{ "fallback-lang", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct corp_catalog *cat;
	struct corp_jsonl *in;
	struct corp_err e, unusable = { 0, "" };
	const char *fallback = "en";
	char **files;
	json_t *line;
	int ch, nfiles = 0, bad = 0, r;

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	if ((files = calloc((size_t)argc + 1, sizeof(*files))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	while ((ch = cli_getopt(argc, argv, "h", opts, NULL)) != -1)
		switch (ch) {
		case 'c':
			files[nfiles++] = optarg;
			break;
		case 'l':
			if (*optarg == '\0' || strchr(optarg, ':') != NULL)
				cli_usage("--fallback-lang: bad language '%s'",
				    optarg);
			fallback = optarg;
			break;
		case 'h':
			cli_help();
		default:
			cli_usage(NULL);
		}
	if (optind != argc)
		cli_usage("corp-fmt takes no arguments");
	/* A catalog refused by the ownership rule: every line is held
	 * (corp-fmt.1 EXIT STATUS), none dropped, and the exit is 77. */
	if (corp_fmt_catalog(&cat, files, nfiles, &e) != 0) {
		if (e.code != CORP_EFORBIDDEN)
			cli_fail(&e);
		unusable = e;
		cli_warn("%s; every line passes on as retry", e.msg);
	}
	/* A fallback no catalog has would hold every line it is needed
	 * for: refuse it here, once, as a usage error. */
	if (cat != NULL && corp_lang_check_catalog(cat, fallback, &e) != 0) {
		if (e.code == CORP_EINTERNAL)
			cli_fail(&e);
		cli_usage("--fallback-lang: %s", e.msg);
	}
	if ((held = json_object()) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");

	if ((in = corp_jsonl_open(STDIN_FILENO, "<stdin>")) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	for (;;) {
		r = corp_jsonl_next(in, &line, -1, &e);
		if (r == CORP_JSONL_EOF)
			break;
		if (r == CORP_JSONL_ERR)
			cli_fail(&e);
		if (r == CORP_JSONL_BAD) {
			cli_warnerr(&e);
			bad = 1;
			continue;
		}
		bad |= format_line(cat, line, fallback,
		    corp_jsonl_lineno(in), unusable.code ? unusable.msg : NULL);
		cli_out(line);
		json_decref(line);
	}
	corp_jsonl_close(in);
	report_held();
	json_decref(held);
	corp_catalog_free(cat);
	free(files);
	cli_exit(unusable.code ? unusable.code : bad ? CORP_EINVAL : 0);
}
