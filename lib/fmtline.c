/* fmtline.c -- see fmtline.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "catalog.h"
#include "fmtline.h"
#include "jsonl.h"
#include "render.h"
#include "text.h"

static int
load_dir(struct corp_catalog *cat, const char *base, int layer,
    struct corp_err *err)
{
	char *dir;
	int rc;

	if (base == NULL)
		return 0;
	if (corp_asprintf(&dir, "%s/i18n", base) < 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	rc = corp_catalog_load_dir(cat, dir, layer, err);
	free(dir);
	return rc;
}

int
corp_fmt_catalog(struct corp_catalog **out, char *const *files, int nfiles,
    struct corp_err *err)
{
	struct corp_catalog *cat;
	int i, rc;

	*out = NULL;
	if ((cat = corp_catalog_new()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if ((rc = load_dir(cat, corp_cfg.share_dir, CORP_LAYER_SHARE,
	    err)) != 0 ||
	    (rc = load_dir(cat, corp_cfg.data_dir, CORP_LAYER_DATA, err)) != 0)
		goto fail;
	for (i = 0; i < nfiles; i++)
		if ((rc = corp_catalog_load_file(cat, files[i],
		    CORP_LAYER_ARGS, err)) != 0)
			goto fail;
	if (corp_catalog_size(cat) == 0) {
		rc = corp_errf(err, CORP_EINTERNAL, "no message catalog in "
		    "%s/i18n nor %s/i18n",
		    corp_cfg.share_dir ? corp_cfg.share_dir : "-",
		    corp_cfg.data_dir ? corp_cfg.data_dir : "-");
		goto fail;
	}
	*out = cat;
	return 0;
fail:
	corp_catalog_free(cat);
	return rc;
}

const char *
corp_line_trace(json_t *line, char *buf, size_t len)
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

/* "error": the reason, cleaned as server text is (text.h): it may quote
 * a template's or an event's text, and people read it in the database. */
static int
set_error(json_t *line, const char *msg)
{
	char *c = strdup(msg);
	int rc;

	if (c == NULL)
		return -1;
	corp_server_text(c);
	rc = corp_json_set(line, "error", json_string(c));
	free(c);
	return rc;
}

static int
mark_failed(json_t *line, const char *msg, struct corp_err *err)
{
	if (corp_json_set(line, "result", json_string("failed")) != 0 ||
	    set_error(line, msg) != 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

/*
 * A configuration error: the row waits for a catalog fix, PENDING and
 * not attempted (the shared contract: corp-fmt.1 "Held lines",
 * corp-json.5 "The formatted line").
 */
static int
mark_held(json_t *line, const char *msg, struct corp_err *err)
{
	if (corp_json_set(line, "result", json_string("retry")) != 0 ||
	    corp_json_set(line, "attempted", json_false()) != 0 ||
	    corp_json_set(line, "retry_after",
	    json_integer(CORP_HOLD_RETRY_AFTER)) != 0 ||
	    corp_json_set(line, "error_class", json_string("config")) != 0 ||
	    set_error(line, msg) != 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

/*
 * What every line gets before it is rendered: 1 with *outcome set when
 * it is decided here (no usable id, or a result upstream), 0 to go on,
 * CORP_EINTERNAL.
 */
static int
fmt_pre(json_t *line, int *outcome, struct corp_err *err)
{
	json_t *id = json_object_get(line, "delivery_id");

	if (!json_is_integer(id) || json_integer_value(id) <= 0) {
		const char *why = id == NULL || json_is_null(id) ?
		    "missing delivery_id" :
		    "delivery_id must be a positive integer";

		*outcome = CORP_FMT_NOID;
		if (json_object_get(line, "result") == NULL &&
		    mark_failed(line, why, err) != 0)
			return CORP_EINTERNAL;
		corp_errf(err, CORP_EINVAL, "%s", why);
		return 1;
	}
	if (json_object_get(line, "result") != NULL) {
		*outcome = CORP_FMT_PASSED;	/* decided upstream */
		return 1;
	}
	return 0;
}

int
corp_fmt_line_held(json_t *line, const char *why, int *outcome,
    struct corp_err *err)
{
	int rc;

	if ((rc = fmt_pre(line, outcome, err)) != 0)
		return rc == 1 ? 0 : rc;
	*outcome = CORP_FMT_HELD;
	if (mark_held(line, why, err) != 0)
		return CORP_EINTERNAL;
	corp_errf(err, CORP_EFORBIDDEN, "%s", why);
	return 0;
}

int
corp_fmt_line(const struct corp_catalog *cat, json_t *line,
    const char *fallback, int *outcome, struct corp_err *err)
{
	struct corp_err e;
	char *text = NULL, *subject = NULL;
	const char *channel;
	int plain, rc;

	if ((rc = fmt_pre(line, outcome, err)) != 0)
		return rc == 1 ? 0 : rc;
	channel = json_string_value(json_object_get(line, "channel"));
	plain = channel != NULL && (strcmp(channel, "email") == 0 ||
	    strcmp(channel, "push") == 0);
	if ((rc = corp_render_delivery(cat, line, fallback, plain, &text,
	    plain ? &subject : NULL, &e)) != 0) {
		if (e.code == CORP_EINTERNAL) {
			*err = e;
			return CORP_EINTERNAL;
		}
		*outcome = rc == CORP_ECONFIG ? CORP_FMT_HELD :
		    CORP_FMT_FAILED;
		if ((rc == CORP_ECONFIG ? mark_held(line, e.msg, err) :
		    mark_failed(line, e.msg, err)) != 0)
			return CORP_EINTERNAL;
		*err = e;
		return 0;
	}
	*outcome = CORP_FMT_TEXT;
	rc = 0;
	if (corp_json_set(line, "text", json_string(text)) != 0 ||
	    (subject != NULL &&
	    corp_json_set(line, "subject", json_string(subject)) != 0))
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	free(text);
	free(subject);
	return rc;
}
