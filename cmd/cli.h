/*
 * cli.h -- what every corp-* main() shares: the common options, the
 * error and usage conventions, checked output.  This is the only code
 * besides each cmd/corp-*.c that prints or exits.
 */
#ifndef CORP_CLI_H
#define CORP_CLI_H

#include <signal.h>
#include <stdio.h>
#include <jansson.h>

#include "corp.h"

#ifndef CORP_VERSION
#define CORP_VERSION "0.1.0"
#endif

struct corp_db;

/*
 * Set the program name, ignore SIGPIPE, umask 077, read the environment,
 * and remove the common options (--db PATH, --data-dir DIR, --now TIME,
 * --version) from argv wherever they stand before "--".
 */
void	cli_init(int *argc, char ***argv);
/* The synopsis printer a tool gives cli_init's callers; see cli_usage. */
/* The usage cli_usage and cli_help print (cmd/clitab.c sets it). */
void	cli_set_usage(const char *);
/* The same, rendered by fn only when cli_usage or cli_help prints it:
 * most runs never do, and rendering cost a process ~0.1 M instructions
 * at start (tests/bench/PROFILE 10). */
void	cli_set_usage_fn(const char *(*fn)(void));
/* Print "why" (if any) and the synopsis to stderr, exit 64; why == NULL
 * and help: synopsis to stdout, exit 0. */
__attribute__((noreturn)) void cli_usage(const char *why, ...)
	__attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void cli_help(void);
/*
 * Called by cli_usage after the reason and synopsis are printed, before
 * the exit (a pipe stage passes its input on: corp-send).  NULL: none.
 */
extern void (*cli_usage_hook)(const char *why);

__attribute__((noreturn)) void cli_die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void cli_fail(const struct corp_err *);
/* A warning (<4> to the journal, corp.7 Errors) and a notice (<6>). */
void	cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	cli_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	cli_warnerr(const struct corp_err *);
/*
 * Verbosity (corp.7): -q/--quiet and -v/--verbose, common options of
 * every tool (the last given counts).  --quiet drops notices, progress
 * lines and the summaries of cli_summary; warnings and errors stay.
 * cli_debug (<7>) prints only with --verbose.  cli_summary: a run's
 * summary line, a warning (warning != 0) or a notice.
 */
void	cli_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	cli_summary(int warning, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	cli_quiet(void);
int	cli_verbose(void);
/*
 * A long-running loop (corp-deliver run, corp-api, ...) calls this as
 * its loop starts: from then on every line on stderr that is not the
 * journal starts with the RFC 3339 UTC time in milliseconds of the fake
 * clock or the real one ("2026-12-07T14:03:05.123Z corp-deliver: ...").
 */
void	cli_log_timed(void);
/*
 * The verbosity flag last given ("--quiet") and, in *value, the word
 * after it or (*eq 1) its "=VALUE"; NULL when no flag was given.
 * clitab.c turns "--quiet 22:00-07:00" into "did you mean --quiet-hours".
 */
const char *cli_flag_misuse(const char **value, int *eq);

/* Open the database or die with the library's reason. */
struct corp_db *cli_db(int flags);
/* The id of the user named login, or die: 65 malformed, 67 unknown
 * (cmd/cliuser.c). */
long long cli_user(struct corp_db *, const char *login);

/* Print one JSON line; EPIPE ends the program quietly with 0 unless
 * cli_on_epipe was set, any other failure dies with 1. */
/*
 * clisig.c: cli_exec_signals makes SIGTERM, SIGINT and SIGHUP stop a
 * running exec command (its process group killed, the run reported
 * interrupted: lib/execcmd.h) and otherwise act as by default;
 * cli_exec_interrupted, once the interrupted run's outcome is out, dies
 * of that signal.
 */
void	cli_exec_signals(void);
void	cli_exec_interrupted(void);
void	cli_out(json_t *);
/* Print every element of array, then drop the array. */
void	cli_out_all(json_t *array);
/* A verb's last words: close db (NULL: none), print o as one JSON line
 * and drop it; returns 0 (the verb's exit code). */
int	cli_done(struct corp_db *db, json_t *o);
/* Same as cli_out, but returns -1 on EPIPE instead of exiting (for stages that
 * must clean up, such as pending releasing its leases). */
int	cli_out_try(json_t *);
/* Close stdout, checked; exit with code. */
__attribute__((noreturn)) void cli_exit(int code);

/*
 * The progress line of long work (cliprogress.c; corp.7 Errors): shown
 * only when standard error is a terminal, "\r"-rewritten:
 * "WHAT: DONE/TOTAL RATE/s ETA T[: FMT...]".  Clear it before any other
 * line on stderr, and at the end.  total: the work known at the start
 * (0: unknown; done counts past it).
 */
struct cli_progress {
	long long	 t0, total, last;	/* last: shown at (ms) */
	int		 tty, shown;
};
void	cli_progress_start(struct cli_progress *, long long total);
void	cli_progress_show(struct cli_progress *, const char *what,
	    long long done, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	cli_progress_clear(struct cli_progress *);
/* cli_progress_show without a tail, at most every 100 ms (and at
 * done == total): for a loop over many quick rows. */
void	cli_progress_tick(struct cli_progress *, const char *what,
	    long long done);
/* Clear whichever progress line is shown (cli.c, before any message:
 * an error that ends the work starts on a clean line). */
void	cli_progress_clear_active(void);

/*
 * A verb that is another program (cliexec.c): exec prog with argv less
 * argv[verb], found beside this program's binary (/proc/self/exe)
 * first, then on PATH; dies with 1 when neither runs.  cli_verb_index:
 * the verb's index in argv, past the common options before it.
 */
__attribute__((noreturn)) void cli_exec_beside(const char *prog, int argc,
	    char **argv, int verb);
int	cli_verb_index(int argc, char **argv);

/* Bounded numbers and other arguments; die with 64 on bad input. */
long long cli_num(const char *s, long long min, long long max,
	    const char *what);
long long cli_duration(const char *s, const char *what);
time_t	cli_time(const char *s, const char *what);

/*
 * The shared input loop (lib/jsonl.h corp_jsonl_loop) with cmd's
 * conventions: a bad line is reported as "corp-X: NAME:LINE:COL: why"
 * (unless the loop has its own bad hook) and counted; a failure of the
 * input or of a callback ends the program through cli_fail.  Returns 0,
 * or CORP_EINVAL (65) when there were bad lines: the rest was done.
 */
struct corp_loop;
int	cli_loop(int argc, char **argv, struct corp_loop *);
/*
 * For an all-or-nothing import: cli_refuse_bad as the loop's bad hook
 * (a line that is not JSON refuses the whole input: 65, "...; nothing
 * imported"), cli_collect as the batch entry point's result function
 * (each result appended to the JSON array arg, printed after commit).
 */
struct corp_jsonl_item;
void	cli_refuse_bad(const struct corp_err *, void *arg);
void	cli_collect(void *arg, const struct corp_jsonl_item *, int rc,
	    const struct corp_err *, json_t *result);

/*
 * One option table per tool (cmd/clitab.c): the tool declares its
 * options once, and each verb which of them it takes, required or in a
 * group; cli_main parses, types and range-checks the values, checks the
 * operands and the required options, and prints the usage (generated
 * from the same table, so -h, the errors, --cli-spec and the man page
 * test, tests/0990-cli.t, cannot drift apart).
 *
 *	corp-X -h | --help | help	the tool's usage, a line per
 *					command and per option (stdout, 0)
 *	corp-X VERB -h			the verb's usage and options; -h
 *					anywhere before "--" does it
 *	corp-X help VERB		the same
 *	corp-X --cli-spec		the table as one JSON object, for
 *					shell completion and the man test
 *
 * Errors (stderr, 64) begin with the tool's name and are followed by
 * the verb's synopsis only:
 *
 *	corp-task: unknown command 'craete' (did you mean 'create'?)
 *	corp-task: unknown option --titel (did you mean --title?)
 *	corp-task: open takes no --title
 *	corp-task: reject needs --reason TEXT
 *	corp-org: move takes one of --parent, --root
 *	corp-task: --if-version: 'x' is invalid (expected 1..N)
 */
struct cli_args;

/*
 * The tables are written positionally and stop after the last field
 * that matters ({ O_AS, "as", "LOGIN", "who acts" }, { O_AS, CLI_REQ }):
 * the rest is zero on purpose, so -Wextra's warning about it is off
 * in the files that include this part.
 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

enum cli_type {
	CLI_STR,	/* the text as given (the default) */
	CLI_FLAG,	/* no value; also any option whose arg is NULL */
	CLI_NUM,	/* strtonum in [min, max]; min == max == 0: an id,
			   1..LLONG_MAX */
	CLI_DURATION,	/* "90s", "1h30m": seconds */
	CLI_TIME,	/* RFC 3339 or +/-DURATION from now: epoch seconds */
	CLI_MULTI	/* repeatable text; max: the most times (0: any) */
};
/* What shell completion offers for the value (issue 21). */
enum cli_comp {
	CLI_C_NONE, CLI_C_FILE, CLI_C_LOGIN, CLI_C_UNIT, CLI_C_CHANNEL,
	CLI_C_ZONE, CLI_C_LANG, CLI_C_EVENT_TYPE, CLI_C_ROLE, CLI_C_WORDS
};

/* Every option of a tool, once. */
struct cli_opt {
	int		 id;	/* the tool's O_*, 1..63 */
	const char	*name;	/* "title" for --title */
	const char	*arg;	/* metavar "TITLE"; NULL: a flag */
	const char	*help;	/* one line for -h */
	enum cli_type	 type;
	long long	 min, max;
	enum cli_comp	 comp;
	/* CLI_C_WORDS: the values completion offers.  CLI_NUM, _DURATION,
	 * _TIME: words taken as they are besides a value ("none"): cli_str
	 * gives the word, cli_int the default. */
	const char *const *words;
};

#define CLI_REQ		0x1	/* required; in a group: one of it is */
#define CLI_ANY		0x2	/* a group whose members may come together
				   ("(--assignee LOGIN | --unit UNIT | both)");
				   without it, at most one of the group */
#define CLI_OPERAND	0x4	/* an alternative to an operand, written in
				   the verb's operands ("NAME (LOGIN |
				   --none)"); the tool checks the pair */
/*
 * An option a verb takes.  group > 0 joins the verb's uses with the
 * same number into one group, rendered where its first member stands:
 * "[a | b]", or "(a | b)" with CLI_REQ; the first member's flags are
 * the group's.
 */
struct cli_use {
	int		 id;
	unsigned	 flags;
	int		 group;
};

#define CLI_VARIANT	0x1	/* another synopsis line of the verb named
				   just before (corp-task create --template):
				   the options are the union of the forms,
				   and the tool checks which form it got */
#define CLI_NEGNUM	0x2	/* "-100" is an operand (a negative chat id),
				   not a cluster of options; before "--"
				   too (corp-msg show) */
struct cli_verb {
	const char	*name;	/* a tool without verbs: one entry "" */
	int		(*fn)(const struct cli_args *);	/* its exit code */
	const char	*summary;	/* one line for -h */
	const char	*operands;	/* "NAME", "TASK", "[FILE]"; NULL: none */
	int		 nmin, nmax;	/* how many operands; nmax -1: any */
	const struct cli_use *uses;	/* {0}-terminated; NULL: none */
	const struct cli_verb *sub;	/* "config get": {NULL}-terminated;
					   fn, operands and uses unused */
	unsigned	 flags;
	const struct cli_list *list;	/* a listing; NULL: not one */
};

#define CLI_COMMON_DB		0x1
#define CLI_COMMON_DATA_DIR	0x2
#define CLI_COMMON_NOW		0x4
#define CLI_COMMON_ALL		0x7
struct cli_tool {
	const char	*name;		/* "corp-org" */
	const char	*summary;
	const struct cli_opt *opts;	/* {0}-terminated */
	const struct cli_verb *verbs;	/* {NULL}-terminated */
	unsigned	 common;	/* the common options it uses (usage) */
};

/* cli_init, the verb, its options and operands, then exit(fn(args)). */
__attribute__((noreturn)) void cli_main(const struct cli_tool *, int argc,
	    char **argv);

/* The verb as typed in full ("add", "config get"). */
const char *cli_verb_name(const struct cli_args *);
int	 cli_has(const struct cli_args *, int id);
/* The value as given; NULL when the option was not. */
const char *cli_str(const struct cli_args *, int id);
/* CLI_NUM, _DURATION (seconds), _TIME (epoch): def when not given or
 * given as one of its words. */
long long cli_int(const struct cli_args *, int id, long long def);
/* CLI_MULTI: every value in order (*n 0 and a NULL list when none). */
const char *const *cli_multi(const struct cli_args *, int id, size_t *n);
int	 cli_nargs(const struct cli_args *);
const char *cli_arg(const struct cli_args *, int i);	/* NULL past end */

/*
 * Listings (issue 21).  A verb with a list takes, besides its own
 * options, --format json|table|tsv, --limit N and --after CURSOR (ids
 * CLI_O_FORMAT.., above every tool's own), shown in its synopsis, -h
 * and --cli-spec like the tool's options.  The tool hands every row to
 * cli_row (or an array to cli_rows) in the listing's order, the same
 * json_t it always printed; cli_row skips the rows up to the cursor,
 * stops printing after the limit, and prints in the chosen format:
 * JSON lines (the default when stdout is not a tty), a table with
 * column widths from the data and times in the operator's zone
 * (clifmt.c; the default on a tty), or TSV.  After the verb returns,
 * cli_main flushes a table and says on stderr when rows were left out:
 *
 *	corp-deliver: dlq: 1000 of 50000 rows shown; --after 1234 for more
 */
struct cli_list {
	/* The field(s) the rows are ordered by, "task_id" or
	 * "user_id,channel"; --after takes their values joined by ':' and
	 * shows the rows whose key is greater (numbers compared as
	 * numbers, text bytewise).  With CLI_L_POS the rows are in
	 * another order (a tree): the rows after the one with that key. */
	const char	*key;
	const char	*arg;		/* --after's metavar: "ID", "LOGIN" */
	unsigned	 flags;
	long long	 deflimit;	/* 0: every row */
};
/* A verb's list: .list = CLI_LIST("task_id", "TASK"). */
#define CLI_LIST(...)	(&(const struct cli_list){ __VA_ARGS__ })
#define CLI_L_POS	0x1
/* The tool's own text is the default when stdout is not a tty (scripts
 * read it): cli_format says CLI_FMT_LEGACY. */
#define CLI_L_LEGACY	0x2
/* The same, on a tty too (config get's bare value). */
#define CLI_L_LEGACY_ALL 0x4
/* --format only (stats: one object, no rows to page). */
#define CLI_L_NOPAGE	0x8

enum { CLI_O_FORMAT = 61, CLI_O_LIMIT, CLI_O_AFTER };
enum cli_fmt { CLI_FMT_JSON, CLI_FMT_TABLE, CLI_FMT_TSV, CLI_FMT_LEGACY };

enum cli_fmt cli_format(const struct cli_args *);
/* The limit for the query: --limit (or the default) plus one, so that
 * the row past it shows there are more; 0: every row. */
long long cli_list_fetch(const struct cli_args *);
/* --after as a number (single numeric key) for a query that pages
 * itself; 0 when not given. */
long long cli_list_after_id(const struct cli_args *);
/* How many rows the listing has after the cursor in all, when the
 * query knows it (dlq): the truncation message says "N of TOTAL". */
void	 cli_list_total(const struct cli_args *, long long total);
/* The rows of arr (stolen) that --after and --limit leave, counted as
 * shown: for a tool printing its own text (CLI_FMT_LEGACY). */
json_t	*cli_page(const struct cli_args *, json_t *arr);
/* One row of a listing, and a whole array of rows (both stolen). */
void	 cli_row(const struct cli_args *, json_t *row);
void	 cli_rows(const struct cli_args *, json_t *array);

struct corp_rl_store;
/*
 * The rate limiter's store (ratelimit.h): the PostgreSQL tables, on a
 * connection of their own, when CORP_DB is PostgreSQL; else NULL, the
 * file of the data directory.  One per process, freed at exit
 * (cmd/clisend.c: corp-send, corp-deliver run, corp-tg).
 */
struct corp_rl_store *cli_rl_store(void);

/*
 * cmd/cliproc.c: K child processes (corp-deliver run --concurrency).
 * child(i, k, sumfd, arg) runs in child i of k (1..k), with SIGTERM on
 * the parent's death and the caller's signal mask, and must not return;
 * it writes one summary line to sumfd (cli_fanout_send: one write,
 * under PIPE_BUF, so lines never mix).  The parent forwards SIGTERM and
 * SIGINT (*stopping), stops the others when a child fails (an exit but
 * 0, 3 and 78), waits for all, gives merge each line, and returns the
 * worst exit code (corp_exit_worse).
 */
#define CLI_FANOUT_MAX	32
int	cli_fanout(int k, volatile sig_atomic_t *stopping,
	    void (*child)(int i, int k, int sumfd, void *), void *arg,
	    int (*merge)(const char *line, void *), void *marg);
void	cli_fanout_send(int fd, const json_t *line);

#endif
