/* cli.c -- see cli.h. */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cli.h"
#include "clock.h"
#include "db.h"
#include "jsonl.h"
#include "text.h"

static const char *cli_synopsis = "";
/* Renders the synopsis when it is printed (cli_set_usage_fn). */
static const char *(*cli_synopsis_fn)(void);
void (*cli_usage_hook)(const char *) = NULL;

/* -q/--quiet (-1), -v/--verbose (1), the last given (corp.7 Verbosity). */
static int verbosity;
/* A long-running loop: lines carry a time off the journal (cli_log_timed). */
static int timed;
/* The flag and the word after it, or the value of "--quiet=VALUE": a
 * tool with an option of that name and more ("--quiet-hours") says
 * "did you mean" (cli_flag_misuse). */
static const char *flag_name, *flag_next, *flag_value;

/*
 * One stderr line, whatever a message holds (a server's text, a file's
 * name, an input line's field, an argument): cleaned by the one cleaner
 * of outside text (text.h corp_server_text: controls, the invisible
 * format characters, bytes of invalid UTF-8 as '?'), so that no message
 * can forge another line, send a terminal an escape sequence or show
 * reordered or hidden text (corp.7, SECURITY).  Other UTF-8 text stays.
 */
static void
vwarnmsg(int level, const char *fmt, va_list ap)
{
	char *m = NULL, lv[CORP_LOGTIMEBUF + 8] = "";

	/* --quiet drops notices, only --verbose shows debug lines. */
	if ((level == LOG_INFO && verbosity < 0) ||
	    (level == LOG_DEBUG && verbosity < 1))
		return;
	/* To the journal: the syslog level, as sd-daemon(3) (corp.7);
	 * elsewhere a loop's line starts with its time (journald stamps
	 * its own). */
	if (corp_cfg.journal)
		snprintf(lv, sizeof(lv), "<%d>", level);
	else if (timed) {
		corp_log_time(lv);
		strlcat(lv, " ", sizeof(lv));
	}
	cli_progress_clear_active();
	if (vasprintf(&m, fmt, ap) < 0) {
		fprintf(stderr, "%s%s: out of memory\n", lv, getprogname());
		return;
	}
	corp_server_text(m);
	fprintf(stderr, "%s%s: %s\n", lv, getprogname(), m);
	free(m);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnmsg(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
cli_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnmsg(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* The error a tool exits on. */
static void
errmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnmsg(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
cli_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnmsg(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
cli_summary(int warning, const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	vwarnmsg(warning ? LOG_WARNING : LOG_INFO, fmt, ap);
	va_end(ap);
}

int
cli_quiet(void)
{
	return verbosity < 0;
}

int
cli_verbose(void)
{
	return verbosity > 0;
}

void
cli_log_timed(void)
{
	timed = 1;
}

void
cli_warnerr(const struct corp_err *e)
{
	cli_warn("%s", e->msg);
}

void
cli_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(code);
}

void
cli_fail(const struct corp_err *e)
{
	errmsg("%s", e->msg[0] ? e->msg : corp_code_name(e->code));
	exit(e->code ? e->code : CORP_EINTERNAL);
}

void
cli_usage(const char *why, ...)
{
	char msg[512] = "";
	va_list ap;

	if (why != NULL) {
		va_start(ap, why);
		vsnprintf(msg, sizeof(msg), why, ap);
		va_end(ap);
		errmsg("%s", msg);
	}
	if (cli_synopsis_fn != NULL)
		cli_synopsis = cli_synopsis_fn();
	fprintf(stderr, "%s", cli_synopsis);
	if (cli_usage_hook != NULL) {
		void (*hook)(const char *) = cli_usage_hook;

		cli_usage_hook = NULL;
		hook(msg[0] ? msg : "a usage error");
	}
	exit(CORP_EUSAGE);
}

void
cli_set_usage(const char *s)
{
	cli_synopsis = s;
	cli_synopsis_fn = NULL;
}

void
cli_set_usage_fn(const char *(*fn)(void))
{
	cli_synopsis_fn = fn;
}

void
cli_help(void)
{
	if (cli_synopsis_fn != NULL)
		cli_synopsis = cli_synopsis_fn();
	fputs(cli_synopsis, stdout);
	cli_exit(0);
}

/* -q, --quiet, -v, --verbose: 1 and the level set, else 0. */
static int
verbosity_flag(const char *opt)
{
	if (strcmp(opt, "-q") == 0 || strcmp(opt, "--quiet") == 0)
		verbosity = -1;
	else if (strcmp(opt, "-v") == 0 || strcmp(opt, "--verbose") == 0)
		verbosity = 1;
	else
		return 0;
	return 1;
}

const char *
cli_flag_misuse(const char **value, int *eq)
{
	*value = flag_value != NULL ? flag_value : flag_next;
	*eq = flag_value != NULL;
	return flag_name;
}

static int
common(const char *opt, const char *val)
{
	static const struct {
		const char *opt, *key;
	} map[] = {
		{ "--db", "db" },
		{ "--data-dir", "data_dir" },
		{ "--now", "now" },
	};
	struct corp_err e;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(opt, map[i].opt) != 0)
			continue;
		if (val == NULL)
			cli_usage("option %s needs a value", opt);
		/* A password in argv is visible to every user (ps). */
		if (strcmp(opt, "--db") == 0 &&
		    corp_db_spec_check(val, "--db", &e) != 0)
			cli_usage("%s", e.msg);
		if (corp_config_set(map[i].key, val, &e) != 0)
			cli_usage("%s: %s", opt, e.msg);
		return 1;
	}
	return 0;
}

void
cli_init(int *argcp, char ***argvp)
{
	struct corp_err e;
	char **argv = *argvp;
	int argc = *argcp, i, j;
	char *eq;

	if (argc > 0 && argv[0] != NULL)
		setprogname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	if (corp_config_load(&e) != 0)
		cli_fail(&e);
	for (i = j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s\n", getprogname(), CORP_VERSION);
			cli_exit(0);
		}
		if (verbosity_flag(argv[i])) {
			/* The first flag followed by a word: a value meant
			 * for --quiet-hours? (clitab.c asks.) */
			if (flag_name == NULL && i + 1 < argc &&
			    argv[i + 1][0] != '-') {
				flag_name = argv[i];
				flag_next = argv[i + 1];
			}
			continue;
		}
		if (strncmp(argv[i], "--", 2) == 0 &&
		    (eq = strchr(argv[i], '=')) != NULL) {
			*eq = '\0';
			if (common(argv[i], eq + 1))
				continue;
			if (strcmp(argv[i], "--quiet") == 0 ||
			    strcmp(argv[i], "--verbose") == 0) {
				flag_name = argv[i];
				flag_value = eq + 1;
				continue;
			}
			*eq = '=';
		} else if (common(argv[i], i + 1 < argc ? argv[i + 1] : NULL)) {
			i++;
			continue;
		}
		argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argcp = j;
	corp_out_init(stdout, 0);
}

struct corp_db *
cli_db(int flags)
{
	struct corp_db *db;
	struct corp_err e;

	if (corp_db_open(&db, flags, &e) != 0)
		cli_fail(&e);
	cli_debug("database %s (%s)", corp_db_path(db),
	    corp_db_is_pg(db) ? "PostgreSQL" : "SQLite");
	return db;
}

int
cli_out_try(json_t *v)
{
	if (corp_out_json(stdout, v) == 0)
		return 0;
	if (errno == EPIPE)
		return -1;
	cli_die(CORP_EINTERNAL, "stdout: %s", strerror(errno ? errno : EIO));
}

void
cli_out(json_t *v)
{
	if (cli_out_try(v) != 0)
		exit(0);
}

void
cli_out_all(json_t *arr)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		cli_out(v);
	json_decref(arr);
}

int
cli_done(struct corp_db *db, json_t *o)
{
	if (db != NULL)
		corp_db_close(db);
	cli_out(o);
	json_decref(o);
	return 0;
}

void
cli_exit(int code)
{
	if (corp_out_close(stdout) != 0) {
		if (errno == EPIPE)
			exit(code);
		cli_die(CORP_EINTERNAL, "stdout: %s",
		    strerror(errno ? errno : EIO));
	}
	exit(code);
}

long long
cli_num(const char *s, long long min, long long max, const char *what)
{
	const char *es;
	long long v;

	v = strtonum(s, min, max, &es);
	if (es != NULL)
		cli_usage("%s: '%s' is %s (expected %lld..%lld)", what, s, es,
		    min, max);
	return v;
}

long long
cli_duration(const char *s, const char *what)
{
	struct corp_err e;
	long long v;

	if (corp_duration_parse(s, &v, &e) != 0)
		cli_usage("%s: %s", what, e.msg);
	return v;
}

time_t
cli_time(const char *s, const char *what)
{
	struct corp_err e;
	time_t t;

	if (corp_when_parse(s, &t, &e) != 0)
		cli_usage("%s: %s", what, e.msg);
	return t;
}

static void
loop_bad(const struct corp_err *e, void *arg)
{
	(void)arg;
	cli_warnerr(e);
}

void
cli_refuse_bad(const struct corp_err *e, void *arg)
{
	(void)arg;
	cli_die(CORP_EINVAL, "%s; nothing imported", e->msg);
}

void
cli_collect(void *arg, const struct corp_jsonl_item *it, int rc,
    const struct corp_err *e, json_t *o)
{
	(void)it;
	(void)rc;
	(void)e;
	if (json_array_append_new(arg, o) != 0)
		cli_die(CORP_EINTERNAL, "out of memory");
}

int
cli_loop(int argc, char **argv, struct corp_loop *l)
{
	struct corp_err e;

	if (l->bad == NULL)
		l->bad = loop_bad;
	if (corp_jsonl_loop(argc, argv, l, &e) != 0)
		cli_fail(&e);
	return l->nbad > 0 ? CORP_EINVAL : 0;
}
