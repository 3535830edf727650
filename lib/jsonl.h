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

/*
 * The input loop every tool that reads JSON lines uses (mblaze's
 * blaze822_loop is the model): the library reads, the tool hands it a
 * callback.  Input is each name of argv in turn ("-" is stdin), or
 * stdin ("<stdin>") when argc is 0.  Objects are collected into batches
 * and given to each(); a line that is not a JSON object goes to bad()
 * (err says "NAME:LINE:COLUMN: why") and is counted, and the loop goes
 * on.  A batch closes when it holds `batch` objects (0: never, so one
 * batch holds the whole input), at the end of input, and as batch_ms
 * says:
 *
 *	-1	wait for a full batch (or the end)
 *	 0	close it as soon as no complete line is ready: a pipe that
 *		pauses never holds a batch (nor the transaction each() may
 *		open for it) while the loop blocks
 *	 N	close it N ms after its first object arrived
 *
 * pause(), when given, is called once each time the loop is about to
 * block waiting for input, after any batch was closed (corp-send
 * flushes held acks there).  each() may keep an object: it sets the
 * item's obj to NULL (the loop drops the others after each()).
 * A callback returns 0 to go on, CORP_LOOP_STOP to end quietly (stdout
 * gone: the loop returns 0), or a corp code with err set, which ends the
 * loop with that code; the batch being collected is dropped, never
 * given to each(), when input fails (read error, missing file).
 */
struct corp_jsonl_item {
	json_t		*obj;		/* a new reference; each() may take it */
	unsigned long	 lineno;	/* 1-based line in name */
	const char	*name;		/* "<stdin>" or the file name */
	/* With corp_loop.raw: the object's text as read, without the
	 * blanks around it, NUL-terminated (the loop frees it). */
	char		*raw;
	size_t		 rawlen;
};
/* A batch entry point's word on one item (corp_dir_user_import): rc 0
 * and its result, which the callback takes; or the item's refusal. */
typedef void (*corp_result_fn)(void *arg, const struct corp_jsonl_item *,
	    int rc, const struct corp_err *, json_t *result);
struct corp_loop {
	size_t	 batch;		/* objects per each() call; 0: all */
	int	 batch_ms;	/* -1, 0 or N, as above */
	int	(*each)(struct corp_jsonl_item *, size_t n, void *arg,
		    struct corp_err *);
	int	(*pause)(void *arg, struct corp_err *);
	void	(*bad)(const struct corp_err *, void *arg);
	void	*arg;
	int	 raw;		/* keep each object's text (item.raw) */
	unsigned long nitems, nbad;	/* out: objects given, bad lines */
};
#define CORP_LOOP_STOP	(-2)
/* 0 at the end of input, a callback's code, CORP_ENOTFOUND/EFORBIDDEN
 * for a file that cannot be opened, CORP_EINTERNAL ("NAME: read: why"). */
int	corp_jsonl_loop(int argc, char **argv, struct corp_loop *,
	    struct corp_err *);
/* Parse one line's text (no newline) the same way; for tests/fuzzers. */
int	corp_json_parse_line(const char *buf, size_t len, const char *name,
	    unsigned long lineno, json_t **out, struct corp_err *);

/*
 * Output.  corp_out_json() returns 0, or -1 with errno set (EPIPE when
 * the reader went away: the caller stops quietly, DESIGN 2).
 */
int	corp_out_json(FILE *, json_t *);
int	corp_out_pretty(FILE *, json_t *);
/*
 * An object as it was read (corp_jsonl_item.raw) with one string member
 * added before its closing brace, "key":"val", in one write: the line
 * passes on byte for byte, without being printed again from its parse
 * (corp-deliver ack, issue 18).  The caller makes sure the object has
 * no member key yet.  key and val are plain words (no '"', '\\' or
 * control character); EINVAL otherwise, or when raw is not {...}.
 * Compact output only (never under corp_out_init's pretty).
 */
int	corp_out_splice(FILE *, const char *raw, size_t len, const char *key,
	    const char *val);
/*
 * corp_out_json(v) when its last member is key, whose value text is
 * already serialised compact (tlen bytes): that member is printed from
 * text, not serialised again (the event object a claim's lines share,
 * issue 18).  The same bytes as corp_out_json when text is the member's
 * compact serialisation; v is left as it was.  Otherwise (pretty, key
 * not last) corp_out_json(v).
 */
int	corp_out_json_last(FILE *, json_t *v, const char *key,
	    const char *text, size_t tlen);
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
