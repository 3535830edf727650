/* apiws.c -- see apiws.h. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"
#include "api.h"
#include "apiws.h"
#include "chatspace.h"
#include "event.h"
#include "eventlog.h"
#include "names.h"
#include "text.h"

void
corp_apiws_free(struct corp_apiws *c)
{
	free(c->login);
	json_decref(c->topics);
	memset(c, 0, sizeof(*c));
}

static json_t *
error_frame(char *msg)
{
	corp_text_fit(msg);	/* never cut inside a character: jansson */
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

/*
 * A client's text as an error frame shows it (corp-api.1 "Topics over
 * WebSocket"): at most 64 bytes, cut at a character then "...", with
 * controls, invisible characters and invalid UTF-8 as '?' (the log's
 * rule, text.h).  Echoed raw, a topic wrote a terminal escape to a
 * client's screen, and one past corp_err's 1024 bytes was cut inside a
 * character: jansson refused the message and no error frame came.
 */
#define SHOWN	65

/* corp_topic_check, its error naming t as it may be shown. */
static int
topic_check(const char *t, struct corp_err *err)
{
	char shown[SHOWN];

	if (corp_topic_check(t, err) == 0)
		return 0;
	if (corp_topic_check(corp_text_shown(shown, sizeof(shown), t), err)
	    == 0)	/* no topic holds '?' or is that long: never */
		return corp_errf(err, CORP_EUSAGE, "unknown topic");
	return err->code;
}

/*
 * A space topic, "space:UNIT_ID:TOPIC", that uid may follow: *name gets
 * its canonical spelling (caller's).  Any other string, a unit that
 * does not exist or one uid may not follow: the very error of an
 * unknown topic (names.c), so that nothing is learnt of other units.
 */
static int
space_topic(struct corp_db *db, long long uid, const char *t, json_t **name,
    struct corp_err *err)
{
	struct corp_err e2;
	const char *p, *es = NULL;
	char num[24];
	long long unit;
	size_t n;
	int rc, yes = 0;

	*name = NULL;
	if (t != NULL && strncmp(t, "space:", 6) == 0 &&
	    (p = strchr(t + 6, ':')) != NULL &&
	    (n = (size_t)(p - (t + 6))) > 0 && n < sizeof(num)) {
		memcpy(num, t + 6, n);
		num[n] = '\0';
		unit = strtonum(num, 1, LLONG_MAX, &es);
		if (es == NULL && corp_topic_check(p + 1, &e2) == 0) {
			if ((rc = corp_chatspace_may(db, uid, unit, &yes, err))
			    != 0)
				return rc;
			if (yes) {
				*name = json_sprintf("space:%lld:%s", unit,
				    p + 1);
				return *name == NULL ? corp_errf(err,
				    CORP_EINTERNAL, "out of memory") : 0;
			}
		}
	}
	return topic_check(t, err);
}

/* {"type":"subscribe","topics":[...],"since":N}: the topics checked by
 * names.c (with its "did you mean") or space_topic, the position taken. */
static int
subscribe(struct corp_db *db, struct corp_apiws *c, json_t *f,
    json_t **reply, struct corp_err *err)
{
	json_t *t = json_object_get(f, "topics"), *s = json_object_get(f,
	    "since"), *v, *list;
	const char *k;
	char shown[SHOWN];
	long long since = 0, last;
	size_t i;
	int rc, spaces = 0;

	json_object_foreach(f, k, v)
		if (strcmp(k, "type") != 0 && strcmp(k, "topics") != 0 &&
		    strcmp(k, "since") != 0)
			return corp_errf(err, CORP_EINVAL, "subscribe: unknown "
			    "field \"%s\"", corp_text_shown(shown,
			    sizeof(shown), k));
	if (!json_is_array(t) || json_array_size(t) == 0)
		return corp_errf(err, CORP_EINVAL, "subscribe: \"topics\" must "
		    "be a non-empty array of topics");
	if ((list = json_array()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	json_array_foreach(t, i, v) {
		size_t j;
		json_t *w, *sp = NULL;
		const char *name = json_string_value(v);
		int seen = 0;

		if (name != NULL && strncmp(name, "space:", 6) == 0)
			rc = space_topic(db, c->uid, name, &sp, err);
		else
			rc = topic_check(name, err);
		if (rc != 0) {
			json_decref(list);
			if (rc == CORP_ETEMP || rc == CORP_EINTERNAL)
				return rc;
			return corp_errprefix(err, "subscribe");
		}
		if (sp != NULL)
			spaces = 1;
		json_array_foreach(list, j, w)
			seen |= json_equal(sp ? sp : v, w);
		if (!seen)
			json_array_append(list, sp ? sp : v);
		json_decref(sp);
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
	c->spaces = spaces;
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
		/* jansson quotes the text near the fault, cut anywhere. */
		corp_server_text(je.text);
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

void
corp_apiws_batch_free(struct corp_apiws_batch *b)
{
	json_decref(b->frames);
	json_decref(b->ties);
	memset(b, 0, sizeof(*b));
}

/*
 * The ties of b kept only for the units uid may follow now: the right
 * to a space is judged at every read, as the flat topics' is (a user
 * moved out of the unit, or made inactive, gets no more of its frames).
 */
static int
ties_followed(struct corp_db *db, long long uid, json_t *ties,
    struct corp_err *err)
{
	json_t *seen = json_object(), *u;
	const char *chat;
	void *tmp;
	char k[24];
	int rc = 0, yes;

	if (seen == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	json_object_foreach_safe(ties, tmp, chat, u) {
		snprintf(k, sizeof(k), "%lld",
		    (long long)json_integer_value(u));
		if (json_object_get(seen, k) == NULL) {
			if ((rc = corp_chatspace_may(db, uid,
			    json_integer_value(u), &yes, err)) != 0)
				break;
			if (json_object_set_new(seen, k,
			    json_boolean(yes)) != 0) {
				rc = corp_errf(err, CORP_EINTERNAL,
				    "out of memory");
				break;
			}
		}
		if (!json_is_true(json_object_get(seen, k)))
			json_object_del(ties, chat);
	}
	json_decref(seen);
	return rc;
}

int
corp_apiws_read(struct corp_db *db, long long uid, long long after,
    long long max, int spaces, struct corp_apiws_batch *b,
    struct corp_err *err)
{
	struct corp_event_filter f;
	json_t *arr, *e, *fr;
	size_t i;
	int rc;

	memset(b, 0, sizeof(*b));
	memset(&f, 0, sizeof(f));
	f.after = after;
	f.viewer = uid;
	f.limit = max;
	f.topics_only = 1;
	b->flat = 1;
	/* Spaces: every topic event, each filtered by pick (flat ones by
	 * the same rule, space ones by their chat's tie). */
	if (spaces && ((rc = corp_eventlog_topic_viewer(db, uid, &b->flat,
	    err)) != 0 || (rc = corp_chatspace_map(db, &b->ties, err)) != 0 ||
	    (rc = ties_followed(db, uid, b->ties, err)) != 0)) {
		corp_apiws_batch_free(b);
		return rc;
	}
	if (spaces)
		f.viewer = 0;
	if ((rc = corp_eventlog_list(db, &f, &arr, &b->last, err)) != 0) {
		corp_apiws_batch_free(b);
		return rc;
	}
	if ((b->frames = json_array()) == NULL) {
		json_decref(arr);
		corp_apiws_batch_free(b);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	json_array_foreach(arr, i, e) {
		fr = json_pack("{sO sO sO sO}", "id", json_object_get(e,
		    "event_id"), "topic", json_object_get(e, "topic"), "type",
		    json_object_get(e, "event_type"), "data",
		    json_object_get(e, "payload"));
		if (fr == NULL || json_array_append_new(b->frames, fr) != 0) {
			json_decref(arr);
			corp_apiws_batch_free(b);
			return corp_errf(err, CORP_EINTERNAL, "out of memory");
		}
	}
	json_decref(arr);
	return 0;
}

/* Does subscribed topic w carry frame fr (topic, data.chat_id)? */
static int
carries(const char *w, const char *topic, json_t *fr,
    const struct corp_apiws_batch *b)
{
	const char *t, *ty;
	char k[24];
	json_int_t chat;
	json_t *u;

	if (strncmp(w, "space:", 6) != 0)
		return b->flat && strcmp(w, topic) == 0;
	if (b->ties == NULL || (t = strchr(w + 6, ':')) == NULL ||
	    strcmp(t + 1, topic) != 0)
		return 0;
	/* corp-tg's ingestion.* (posters' ids and names) are for admins
	 * only, on the flat topic: never a space's, which a member follows
	 * (fresh-eyes round 14: a member got ingestion.message_stored). */
	if ((ty = json_string_value(json_object_get(fr, "type"))) != NULL &&
	    strncmp(ty, "ingestion.", 10) == 0)
		return 0;
	chat = json_integer_value(json_object_get(json_object_get(fr, "data"),
	    "chat_id"));
	snprintf(k, sizeof(k), "%lld", (long long)chat);
	if ((u = json_object_get(b->ties, k)) == NULL)
		return 0;
	snprintf(k, sizeof(k), "%lld", (long long)json_integer_value(u));
	return strncmp(w + 6, k, strlen(k)) == 0 && w[6 + strlen(k)] == ':';
}

json_t *
corp_apiws_pick(struct corp_apiws *c, const struct corp_apiws_batch *b)
{
	json_t *out = json_array(), *fr, *w, *cp;
	const char *topic, *name;
	size_t i, j;

	if (out == NULL)
		return NULL;
	json_array_foreach(b->frames, i, fr) {
		topic = json_string_value(json_object_get(fr, "topic"));
		if (topic == NULL)
			continue;
		json_array_foreach(c->topics, j, w) {
			name = json_string_value(w);
			if (!carries(name, topic, fr, b))
				continue;
			if (strcmp(name, topic) == 0)
				json_array_append(out, fr);
			else {
				/* A space's frame: the event under its name. */
				if ((cp = json_copy(fr)) != NULL &&
				    json_object_set(cp, "topic", w) != 0) {
					json_decref(cp);
					cp = NULL;
				}
				if (cp == NULL ||
				    json_array_append_new(out, cp) != 0) {
					json_decref(out);
					return NULL;
				}
			}
			break;
		}
	}
	c->after = b->last;
	return out;
}
