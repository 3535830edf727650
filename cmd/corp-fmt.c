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
#include "jsonl.h"
#include "render.h"

static const char synopsis[] =
"usage: corp-fmt [--catalog FILE] ... [--fallback-lang LANG]\n"
"common options: --data-dir DIR  --version\n";

/* Layers: later ones override earlier ones key by key. */
enum { LAYER_SHARE = 1, LAYER_DATA = 2, LAYER_ARGS = 3 };

static struct corp_catalog *
load(char **files, int nfiles)
{
	struct corp_catalog *cat;
	struct corp_err e;
	char *dir;
	int i;

	if ((cat = corp_catalog_new()) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	if (corp_cfg.share_dir != NULL) {
		if (corp_asprintf(&dir, "%s/i18n", corp_cfg.share_dir) < 0)
			cli_die(CORP_EINTERNAL, "out of memory");
		if (corp_catalog_load_dir(cat, dir, LAYER_SHARE, &e) != 0)
			cli_fail(&e);
		free(dir);
	}
	if (corp_cfg.data_dir != NULL) {
		if (corp_asprintf(&dir, "%s/i18n", corp_cfg.data_dir) < 0)
			cli_die(CORP_EINTERNAL, "out of memory");
		if (corp_catalog_load_dir(cat, dir, LAYER_DATA, &e) != 0)
			cli_fail(&e);
		free(dir);
	}
	for (i = 0; i < nfiles; i++)
		if (corp_catalog_load_file(cat, files[i], LAYER_ARGS, &e) != 0)
			cli_fail(&e);
	if (corp_catalog_size(cat) == 0)
		cli_die(CORP_EINTERNAL, "no message catalog in %s/i18n nor "
		    "%s/i18n", corp_cfg.share_dir ? corp_cfg.share_dir : "-",
		    corp_cfg.data_dir ? corp_cfg.data_dir : "-");
	return cat;
}

/* " trace=ID" when the line's event has one, else "". */
static const char *
trace(json_t *line, char *buf, size_t len)
{
	json_t *t = json_object_get(json_object_get(line, "event"),
	    "trace_id");

	buf[0] = '\0';
	if (json_is_string(t))
		snprintf(buf, len, " trace=%s", json_string_value(t));
	else if (json_is_integer(t))
		snprintf(buf, len, " trace=%" JSON_INTEGER_FORMAT,
		    json_integer_value(t));
	return buf;
}

static void
mark_failed(json_t *line, const char *msg)
{
	if (corp_json_set(line, "result", json_string("failed")) != 0 ||
	    corp_json_set(line, "error", json_string(msg)) != 0)
		cli_die(CORP_EINTERNAL, "out of memory");
}

/*
 * One line: returns 1 when the line lacked a delivery_id (the stage
 * exits 65 at the end), else 0.
 */
static int
format_line(const struct corp_catalog *cat, json_t *line,
    const char *fallback, unsigned long lineno)
{
	struct corp_err e;
	char tb[160], *text = NULL, *subject = NULL;
	const char *channel;
	json_t *id = json_object_get(line, "delivery_id");
	int plain;

	if (!json_is_integer(id) || json_integer_value(id) <= 0) {
		const char *why = id == NULL || json_is_null(id) ?
		    "missing delivery_id" :
		    "delivery_id must be a positive integer";

		cli_warn("<stdin>:%lu: %s%s", lineno, why,
		    trace(line, tb, sizeof(tb)));
		if (json_object_get(line, "result") == NULL)
			mark_failed(line, why);
		return 1;
	}
	if (json_object_get(line, "result") != NULL)
		return 0;	/* failed or retry upstream: pass it on */
	channel = json_string_value(json_object_get(line, "channel"));
	plain = channel != NULL && strcmp(channel, "email") == 0;
	if (corp_render_delivery(cat, line, fallback, plain, &text,
	    plain ? &subject : NULL, &e) != 0) {
		if (e.code == CORP_EINTERNAL)
			cli_fail(&e);
		cli_warn("delivery %" JSON_INTEGER_FORMAT ": %s%s",
		    json_integer_value(id), e.msg, trace(line, tb, sizeof(tb)));
		mark_failed(line, e.msg);
		return 0;
	}
	if (corp_json_set(line, "text", json_string(text)) != 0 ||
	    (subject != NULL &&
	    corp_json_set(line, "subject", json_string(subject)) != 0))
		cli_die(CORP_EINTERNAL, "out of memory");
	free(text);
	free(subject);
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
	struct corp_err e;
	const char *fallback = "en";
	char **files;
	json_t *line;
	int ch, nfiles = 0, bad = 0, r;

	cli_synopsis = synopsis;
	cli_init(&argc, &argv);
	if ((files = calloc((size_t)argc + 1, sizeof(*files))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1)
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
	cat = load(files, nfiles);

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
		    corp_jsonl_lineno(in));
		cli_out(line);
		json_decref(line);
	}
	corp_jsonl_close(in);
	corp_catalog_free(cat);
	free(files);
	cli_exit(bad ? CORP_EINVAL : 0);
}
