/*
 * fmtline.h -- format one delivery line (DESIGN 6): what corp-fmt does to
 * each line of its input and corp-deliver run to each row it claims.
 * One implementation, so the pipe and the loop send the same text.
 */
#ifndef CORP_FMTLINE_H
#define CORP_FMTLINE_H

#include <stddef.h>
#include <jansson.h>

struct corp_catalog;
struct corp_err;

/* Catalog layers: later ones override earlier ones key by key. */
enum { CORP_LAYER_SHARE = 1, CORP_LAYER_DATA = 2, CORP_LAYER_ARGS = 3 };

/*
 * Load the catalogs in lookup order: SHARE_DIR/i18n, DATA_DIR/i18n, then
 * files (nfiles of them).  No entry at all is CORP_EINTERNAL naming both
 * directories.
 */
int	corp_fmt_catalog(struct corp_catalog **, char *const *files,
	    int nfiles, struct corp_err *);

/* What corp_fmt_line did to a line. */
enum corp_fmt_outcome {
	CORP_FMT_TEXT = 0,	/* "text" (and "subject") added */
	CORP_FMT_PASSED,	/* it had a "result": passed on untouched */
	CORP_FMT_FAILED,	/* the line cannot render: marked failed, err
				   says why */
	CORP_FMT_NOID,		/* no usable delivery_id: marked failed unless
				   it had a result; invalid input */
	CORP_FMT_HELD		/* a configuration error (catalog key,
				   placeholder): marked retry, not attempted,
				   retry_after CORP_HOLD_RETRY_AFTER,
				   error_class "config"; err says why, the
				   same text for every line of one cause */
};

/* Seconds a line held for a configuration error waits before it is
 * claimed again. */
#define CORP_HOLD_RETRY_AFTER	60

/*
 * Format line in place: "text" is Telegram HTML, or for the email channel
 * plain text plus "subject".  Returns 0 with *outcome set, or
 * CORP_EINTERNAL (out of memory).  For FAILED, NOID and HELD, err holds
 * the message to report (without the trace); a caller reports FAILED and
 * NOID per line and HELD once per distinct message (DESIGN 12).
 */
int	corp_fmt_line(const struct corp_catalog *, json_t *line,
	    const char *fallback_lang, int *outcome, struct corp_err *);

/*
 * A line when the catalogs could not be loaded (why: the error, naming
 * the file, e.g. one that fails the ownership rule): held as a
 * configuration error (CORP_FMT_HELD, error why), so that the stage
 * still passes every line on and no row waits out its lease; a decided
 * line and one without a usable id as corp_fmt_line.
 */
int	corp_fmt_line_held(json_t *line, const char *why, int *outcome,
	    struct corp_err *);

/* " trace=ID" when the line's event has a trace id, else "". */
const char *corp_line_trace(json_t *line, char *buf, size_t len);

#endif
