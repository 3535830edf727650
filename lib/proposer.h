/*
 * proposer.h -- what turns a batch of messages into task proposals
 * (DESIGN 8; corp-analysis.1 PROPOSERS; corp-json.5 PROPOSER INPUT AND
 * OUTPUT).  Three kinds:
 *
 *   builtin    in-process and deterministic (corp-analysis.1 states the
 *              rule); needs no network and no key.
 *   exec:NAME  the command NAME of DATA_DIR/exec.conf: the batch JSON on
 *              stdin, one proposal object per stdout line, within the
 *              timeout.
 *   openai     an OpenAI-compatible chat-completions endpoint: POST
 *              URL/v1/chat/completions with response_format json_object,
 *              the answer's choices[0].message.content must be
 *              {"proposals":[...]}.  The key never leaves the request
 *              header (not in messages, not in the database).
 *
 * A failure of the proposer (non-zero exit, timeout, output that is not
 * JSON objects, an HTTP error) is returned as an error: the run fails.
 * The objects it returned are not validated here: a proposal without a
 * title or with a mistyped field is the run's business (an error row).
 */
#ifndef CORP_PROPOSER_H
#define CORP_PROPOSER_H

#include <jansson.h>

#include "fsutil.h"

struct corp_db;
struct corp_err;
struct corp_http;

enum corp_proposer_kind { CORP_PROP_BUILTIN, CORP_PROP_EXEC, CORP_PROP_OPENAI };

struct corp_proposer {
	enum corp_proposer_kind kind;
	char		*name;		/* "builtin", "exec:NAME", "openai" */
	char		*path;		/* exec */
	struct corp_cmd	 cmd;		/* exec: the file judged, for fexecve;
					 * fd -1 when none */
	char		*url, *model, *key;	/* openai */
	long long	 timeout_ms;
	struct corp_http *http;
};

/*
 * Set p up from spec ("builtin", "exec:NAME", "openai"); url and model
 * (NULL: the openai.url / openai.model settings) are for openai, whose
 * key is CORP_OPENAI_KEY or DATA_DIR/secrets/openai_key.
 */
int	corp_proposer_init(struct corp_db *, struct corp_proposer *,
	    const char *spec, const char *url, const char *model,
	    long long timeout_ms, struct corp_err *);
void	corp_proposer_free(struct corp_proposer *);

/* The proposal objects p answers for batch (an array, caller frees). */
int	corp_proposer_run(struct corp_db *, struct corp_proposer *,
	    json_t *batch, json_t **objects, struct corp_err *);

/* For tests and the filter: lower-case ASCII and Cyrillic A-YA/YO in
 * UTF-8 (fresh allocation). */
char	*corp_fold(const char *);
/* Code points of UTF-8 s. */
size_t	corp_utf8_len(const char *);

#endif
