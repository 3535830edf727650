/*
 * cli.h -- what every corp-* main() shares: the common options, the
 * error and usage conventions, checked output.  This is the only code
 * besides each cmd/corp-*.c that prints or exits.
 */
#ifndef CORP_CLI_H
#define CORP_CLI_H

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
extern const char *cli_synopsis;
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
void	cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	cli_warnerr(const struct corp_err *);

/* Open the database or die with the library's reason. */
struct corp_db *cli_db(int flags);

/* Print one JSON line; EPIPE ends the program quietly with 0 unless
 * cli_on_epipe was set, any other failure dies with 1. */
void	cli_out(json_t *);
/* Print every element of array, then drop the array. */
void	cli_out_all(json_t *array);
/* Same as cli_out, but returns -1 on EPIPE instead of exiting (for stages that
 * must clean up, such as pending releasing its leases). */
int	cli_out_try(json_t *);
/* Close stdout, checked; exit with code. */
__attribute__((noreturn)) void cli_exit(int code);

/* Bounded numbers and other arguments; die with 64 on bad input. */
long long cli_num(const char *s, long long min, long long max,
	    const char *what);
long long cli_duration(const char *s, const char *what);
time_t	cli_time(const char *s, const char *what);

/*
 * getopt_long(3) that never prints getopt's own message (it names the
 * verb, not the program) and never returns '?' or ':': an unknown
 * option, a missing value or a value given to a flag ends the program
 * with a "corp-x: ..." line and the synopsis on stderr, exit 64.
 */
struct option;
int	cli_getopt(int argc, char **argv, const char *optstring,
	    const struct option *longopts, int *longindex);

/* Verb dispatch: "corp-x VERB ...". */
struct cli_verb {
	const char	*name;
	int		(*fn)(int, char **);
};
__attribute__((noreturn)) void cli_dispatch(int argc, char **argv,
	    const struct cli_verb *);

#endif
