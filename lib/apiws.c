/* apiws.c -- see apiws.h. */
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "api.h"
#include "apiws.h"
#include "event.h"
#include "eventlog.h"
#include "names.h"

void
corp_apiws_free(struct corp_apiws *c)
{
	free(c->login);
	json_decref(c->topics);
	memset(c, 0, sizeof(*c));
}

static json_t *
error_frame(const char *msg)
{
	return json_pack("{ss ss}", "type", "error", "error", msg);
}

static int
auth(struct corp_api *api, struct corp_apiws *c, const char *peer,
    json_t *f, int *close_code, struct corp_err *err)
{
	const char *type = json_string_value(json_object_get(f, "type")),
	    *token = json_string_value(json_object_get(f, "token"));
	char *login = NULL;
	long long uid;
	int rc, status;

	if (type == NULL || strcmp(type, "auth") != 0 || token == NULL) {
		*close_code = 4401;
		corp_errf(err, CORP_EFORBIDDEN, "expected "
		    "{\"type\":\"auth\",\"token\":TOKEN} first");
		return CORP_APIWS_CLOSE;
	}
	rc = corp_api_auth_token(api, peer, token, &uid, &login, &status,
	    err);
	if (rc != 0) {
		*close_code = status == 429 ? 4429 : status == 401 ? 4401 :
		    1011;
		return CORP_APIWS_CLOSE;
	}
	c->uid = uid;
	c->login = login;
	return CORP_APIWS_OK;	/* silence: the next frame subscribes */
}

/* {"type":"subscribe","topics":[...],"since":N}: the topics checked by
 * names.c (with its "did you mean"), the position taken. */
static int
subscribe(struct corp_db *db, struct corp_apiws *c, json_t *f,
    json_t **reply, struct corp_err *err)
{
	json_t *t = json_object_get(f, "topics"), *s = json_object_get(f,
	    "since"), *v, *list;
	const char *k;
	long long since = 0, last;
	size_t i;
	int rc;

	json_object_foreach(f, k, v)
		if (strcmp(k, "type") != 0 && strcmp(k, "topics") != 0 &&
		    strcmp(k, "since") != 0)
			return corp_errf(err, CORP_EINVAL, "subscribe: unknown "
			    "field \"%s\"", k);
	if (!json_is_array(t) || json_array_size(t) == 0)
		return corp_errf(err, CORP_EINVAL, "subscribe: \"topics\" must "
		    "be a non-empty array of topics");
	if ((list = json_array()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	json_array_foreach(t, i, v) {
		size_t j;
		json_t *w;
		int seen = 0;

		if ((rc = corp_topic_check(json_string_value(v), err)) != 0) {
			json_decref(list);
			return corp_errprefix(err, "subscribe");
		}
		json_array_foreach(list, j, w)
			seen |= json_equal(v, w);
		if (!seen)
			json_array_append(list, v);
	}
	if (s != NULL && !json_is_null(s) && (!json_is_integer(s) ||
	    (since = json_integer_value(s)) < 0)) {
		json_decref(list);
		return corp_errf(err, CORP_EINVAL, "subscribe: \"since\" must "
		    "be an event id (0: from now on)");
	}
	if (since == 0) {
		if ((rc = corp_event_last_id(db, &last, err)) != 0) {
			json_decref(list);
			return rc;
		}
		since = last;
	}
	json_decref(c->topics);
	c->topics = list;
	c->after = since;
	*reply = json_pack("{ss sO sI}", "type", "subscribed", "topics",
	    list, "last_id", (json_int_t)since);
	return 0;
}

int
corp_apiws_frame(struct corp_api *api, struct corp_apiws *c,
    const char *peer, const char *in, size_t len, json_t **reply,
    int *close_code, struct corp_err *err)
{
	json_error_t je;
	json_t *f;
	const char *type;
	int rc;

	*reply = NULL;
	*close_code = 0;
	f = json_loadb(in, len, JSON_REJECT_DUPLICATES, &je);
	if (c->uid == 0) {
		rc = auth(api, c, peer, f, close_code, err);
		json_decref(f);
		return rc;
	}
	if (f == NULL) {
		corp_errf(err, CORP_EINVAL, "frame: line %d column %d: %s",
		    je.line, je.column, je.text);
		goto refuse;
	}
	if (!json_is_object(f)) {
		corp_errf(err, CORP_EINVAL, "frame: expected a JSON object");
		goto refuse;
	}
	type = json_string_value(json_object_get(f, "type"));
	if (type != NULL && strcmp(type, "subscribe") == 0) {
		rc = subscribe(api->db, c, f, reply, err);
		if (rc == CORP_ETEMP || rc == CORP_EINTERNAL) {
			json_decref(f);
			*close_code = 1011;
			return CORP_APIWS_CLOSE;
		}
		if (rc != 0)
			goto refuse;
	} else if (type != NULL && strcmp(type, "ping") == 0)
		*reply = json_pack("{ss}", "type", "pong");
	else if (type != NULL && strcmp(type, "auth") == 0) {
		corp_errf(err, CORP_EINVAL, "already authenticated as %s",
		    c->login);
		goto refuse;
	} else {
		corp_errf(err, CORP_EINVAL, "frame: \"type\" must be "
		    "\"subscribe\" or \"ping\"");
		goto refuse;
	}
	json_decref(f);
	return CORP_APIWS_OK;
refuse:
	json_decref(f);
	*reply = error_frame(err->msg);
	return CORP_APIWS_OK;
}

int
corp_apiws_read(struct corp_db *db, long long uid, long long after,
    long long max, json_t **frames, long long *last, struct corp_err *err)
{
	struct corp_event_filter f;
	json_t *arr, *e, *fr;
	size_t i;
	int rc;

	*frames = NULL;
	memset(&f, 0, sizeof(f));
	f.after = after;
	f.viewer = uid;
	f.limit = max;
	f.topics_only = 1;
	if ((rc = corp_eventlog_list(db, &f, &arr, last, err)) != 0)
		return rc;
	if ((*frames = json_array()) == NULL) {
		json_decref(arr);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	json_array_foreach(arr, i, e) {
		fr = json_pack("{sO sO sO sO}", "id", json_object_get(e,
		    "event_id"), "topic", json_object_get(e, "topic"), "type",
		    json_object_get(e, "event_type"), "data",
		    json_object_get(e, "payload"));
		if (fr == NULL || json_array_append_new(*frames, fr) != 0) {
			json_decref(arr);
			json_decref(*frames);
			*frames = NULL;
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
	}
	json_decref(arr);
	return 0;
}

json_t *
corp_apiws_pick(struct corp_apiws *c, json_t *frames, long long last)
{
	json_t *out = json_array(), *fr, *w;
	const char *topic;
	size_t i, j;

	if (out == NULL)
		return NULL;
	json_array_foreach(frames, i, fr) {
		topic = json_string_value(json_object_get(fr, "topic"));
		json_array_foreach(c->topics, j, w)
			if (topic != NULL && strcmp(json_string_value(w),
			    topic) == 0) {
				json_array_append(out, fr);
				break;
			}
	}
	c->after = last;
	return out;
}
