/*
 * jsonl.h -- JSON lines in and out (DESIGN 2, corp-json.5).
 *
 * The reader takes lines of any length from a file descriptor (no fixed
 * buffers), skips blank lines, and parses each with jansson, rejecting
 * duplicate keys, lines over CORP_JSONL_MAX bytes and nesting deeper than
 * CORP_JSONL_DEPTH.  A bad line is reported through err as
 * "NAME:LINE:COLUMN: message" and the reader goes on with the next line.
 *
 * The writer prints compact objects, one per line, in key order as given
 * (so unknown input fields pass through where they were), flushed per
 * line when stdout is a pipe or socket, and every write is checked.
 */
#ifndef CORP_JSONL_H
#define CORP_JSONL_H

#include <stdio.h>
#include <jansson.h>

struct corp_err;
struct corp_jsonl;

#define CORP_JSONL_MAX		(16 * 1024 * 1024)
#define CORP_JSONL_DEPTH	64

/* name is used in messages: "<stdin>" or a file name. */
struct corp_jsonl *corp_jsonl_open(int fd, const char *name);
void	corp_jsonl_close(struct corp_jsonl *);

enum {
	CORP_JSONL_EOF = 0,
	CORP_JSONL_OBJ = 1,	/* *out holds a new reference */
	CORP_JSONL_BAD = 2,	/* err says why; the line was skipped */
	CORP_JSONL_TIMEOUT = 3,	/* no complete line within timeout */
	CORP_JSONL_ERR = -1	/* read error: err says why */
};

/*
 * The next object.  timeout_ms < 0 waits for ever; 0 returns at once
 * when no complete line is buffered or readable.
 */
int	corp_jsonl_next(struct corp_jsonl *, json_t **out, int timeout_ms,
	    struct corp_err *);
/* Line number of the line last returned (1-based). */
unsigned long corp_jsonl_lineno(struct corp_jsonl *);
/* Parse one line's text (no newline) the same way; for tests/fuzzers. */
int	corp_json_parse_line(const char *buf, size_t len, const char *name,
	    unsigned long lineno, json_t **out, struct corp_err *);

/*
 * Output.  corp_out_json() returns 0, or -1 with errno set (EPIPE when
 * the reader went away: the caller stops quietly, DESIGN 2).
 */
int	corp_out_json(FILE *, json_t *);
int	corp_out_pretty(FILE *, json_t *);
/* fflush + fclose of stdout, checked: 0 or -1 with errno. */
int	corp_out_close(FILE *);
/* Flush per line?  Decided once from the stream's file type. */
void	corp_out_init(FILE *, int pretty);

/* Field access with type checks (for input validation). */
int	corp_json_id(json_t *obj, const char *key, long long *out,
	    int required, struct corp_err *);
int	corp_json_str(json_t *obj, const char *key, const char **out,
	    int required, struct corp_err *);
/* Add or replace key on obj; keeps the other fields where they are. */
int	corp_json_set(json_t *obj, const char *key, json_t *val);
json_t	*corp_json_time(time_t);	/* RFC 3339 string or null for 0 */
json_t	*corp_json_idval(long long);	/* integer, or null for <= 0 */
json_t	*corp_json_strval(const char *);	/* string, or null */

#endif
