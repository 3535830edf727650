/*
 * corp.h -- the shared core of the corp toolkit: error codes, the error
 * record every library function fills, and the process configuration.
 *
 * Contract: nothing in lib/ prints or exits.  A function that can fail
 * returns a corp code (0 on success) and fills a struct corp_err whose
 * message says what failed and why; cmd/ decides what to tell the user.
 */
#ifndef CORP_H
#define CORP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Exit codes shared by every tool (corp.7, DESIGN 2). */
enum corp_code {
	CORP_OK = 0,
	CORP_EINTERNAL = 1,	/* bug, failed write/fsync/open */
	CORP_EUSAGE = 64,	/* bad command line */
	CORP_EINVAL = 65,	/* invalid input data */
	CORP_ENOTFOUND = 67,	/* unknown user, task, row */
	CORP_ETEMP = 75,	/* busy database, network: retry later */
	CORP_EFORBIDDEN = 77,	/* ACL says no, unsafe secret file */
	CORP_ECONFIG = 78,	/* configuration error: rows held, nothing lost */
	CORP_ECONFLICT = 79	/* wrong state, stale version, duplicate */
};

/*
 * Exit code of the loops (corp-deliver run, corp-pipeline) when rows went
 * to the dead-letter queue during the run (DESIGN 2).  Not a library
 * result code: only cmd/ uses it.
 */
enum {
	CORP_EXIT_DLQ = 3
};

struct corp_err {
	int	code;
	char	msg[1024];
};

/* Fill err (when not NULL) and return code. */
int	corp_errf(struct corp_err *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Prefix an existing message: "what: <old message>". */
int	corp_errprefix(struct corp_err *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	corp_errclear(struct corp_err *);
const char *corp_code_name(int code);

/*
 * "Did you mean": the candidate closest to word by edit distance
 * (Damerau-Levenshtein, optimal string alignment, case-insensitive), if
 * that distance is at most max (2 is the convention) and no other
 * candidate is as close; NULL otherwise.  cands ends with NULL.
 */
const char *corp_suggest(const char *word, const char *const *cands,
	    int max);
/* The edit distance itself (as above), capped at cap + 1. */
int	corp_edit_distance(const char *a, const char *b, int cap);

/*
 * Configuration: read from the environment exactly once, by
 * corp_config_load(), which each main() calls; common options (--db,
 * --data-dir, --now) override it.  Nothing else in corp calls getenv().
 */
struct corp_config {
	char	*db;		/* CORP_DB, default DATA_DIR/corp.db */
	char	*data_dir;	/* CORP_DATA_DIR, default see corp.7 */
	char	*now;		/* CORP_NOW: RFC 3339 instant or +DURATION */
	long	 busy_timeout_ms; /* CORP_BUSY_TIMEOUT (duration), 30s */
	int	 sync_full;	/* CORP_SYNCHRONOUS: full (1) or normal (0) */
	char	*tz;		/* CORP_TZ, default UTC */
	char	*display_tz;	/* TZ if a zone name: times in tables; NULL UTC */
	int	 admin_all;	/* CORP_ADMIN_POLICY=all (1) | none (0) */
	char	*telegram_api;	/* CORP_TELEGRAM_API */
	char	*telegram_token; /* CORP_TELEGRAM_TOKEN (secret) */
	char	*smtp_password;	/* CORP_SMTP_PASSWORD (secret) */
	char	*openai_key;	/* CORP_OPENAI_KEY (secret) */
	char	*ca_file;	/* CORP_CA_FILE */
	double	 rate_margin;	/* CORP_RATE_MARGIN, 0.95 */
	int	 rate_limit_off; /* CORP_RATE_LIMIT=off */
	char	*share_dir;	/* CORP_SHARE_DIR, default PREFIX/share/corp */
	char	*home;		/* HOME, only to derive the data dir */
	int	 journal;	/* stderr is JOURNAL_STREAM's (corp.7 Errors) */
	/* CGI/1.1 (RFC 3875) request variables, for corp-tg cgi only. */
	char	*cgi_method;	/* REQUEST_METHOD */
	char	*cgi_content_length; /* CONTENT_LENGTH, as given */
	char	*cgi_tg_secret;	/* HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN */
	char	*test_vfs;	/* CORP_TEST_VFS: test-only fault VFS spec */
	char	*test_libpq;	/* CORP_TEST_LIBPQ: tests only, lib/pg.c */
	/* "NAME=value" of PATH, HOME, LANG, LC_*, TZ as corp got them,
	 * NULL-terminated: all a child inherits (execcmd.c). */
	char	**child_env;
};

extern struct corp_config corp_cfg;

int	corp_config_load(struct corp_err *);
int	corp_config_set(const char *key, const char *value, struct corp_err *);
/*
 * Add words (after a space) to an environment variable that a program
 * corp runs reads, keeping the user's value: the pager's LESS for corp
 * help (corp(1)).  corp itself never reads the variable.
 */
int	corp_env_append(const char *name, const char *words,
	    struct corp_err *);
/* A bot token as @BotFather gives it, DIGITS:KEY (KEY of A-Z a-z 0-9 _
 * -): the one check of CORP_TELEGRAM_TOKEN and secrets/telegram_token
 * (tgbot.h corp_tg_token), so no token can shape the API's URL. */
int	corp_tg_token_ok(const char *);
/*
 * The data dir.  Wherever it is used it must pass the ownership rule
 * (fsutil.h corp_trust_stat: the running user's or root's, writable by
 * nobody else; CORP_EFORBIDDEN otherwise).  Only corp_data_dir and
 * corp_data_mkpath create it (0700, with missing parents): corp-db init
 * and the writers of files in it.  A reader never does.
 */
int	corp_data_dir(const char **dirp, struct corp_err *);
/* Check the data dir when it exists; 0 when it does not. */
int	corp_data_dir_check(struct corp_err *);
/* "DATA_DIR/name" in a fresh allocation, for reading: the dir is checked
 * when it exists, never created (the caller's open then finds nothing). */
int	corp_data_path(char **out, const char *name, struct corp_err *);
/* The same for a writer: the dir is created when missing. */
int	corp_data_mkpath(char **out, const char *name, struct corp_err *);

/* Memory: abort-free wrappers return NULL and the caller reports. */
char	*corp_strdup(const char *);
int	 corp_asprintf(char **, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
