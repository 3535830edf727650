/* pushsend.c -- see pushsend.h. */
#include <sys/socket.h>
#include <sys/types.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "corp.h"
#include "binds.h"
#include "clock.h"
#include "db.h"
#include "http.h"
#include "jsonl.h"
#include "netaddr.h"
#include "pushsub.h"
#include "ratelimit.h"
#include "pushsend.h"
#include "sendres.h"
#include "settings.h"
#include "webpush.h"

struct corp_pushsend {
	struct corp_webpush_vapid	*vapid;
	char				*subject;
};

int
corp_pushsend_open(struct corp_pushsend **pp, const char *pem, size_t len,
    const char *subject, struct corp_err *err)
{
	struct corp_pushsend *p;
	struct corp_err e;
	int rc;

	*pp = NULL;
	if (subject == NULL || *subject == '\0')
		return corp_errf(err, CORP_ECONFIG, "no VAPID subject (set "
		    "config push.subject: mailto:ADDRESS or an https URL)");
	if (corp_webpush_subject_check(subject, &e) != 0)
		return corp_errf(err, CORP_ECONFIG, "push.subject: %s",
		    e.msg);
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->subject = strdup(subject)) == NULL) {
		free(p);
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	}
	if ((rc = corp_webpush_vapid_load(pem, len, &p->vapid, &e)) != 0) {
		corp_pushsend_close(p);
		return corp_errf(err, rc == CORP_EINVAL ? CORP_ECONFIG : rc,
		    "secrets/vapid.pem: %s (corp-settings push keygen)",
		    e.msg);
	}
	*pp = p;
	return 0;
}

void
corp_pushsend_close(struct corp_pushsend *p)
{
	if (p == NULL)
		return;
	corp_webpush_vapid_free(p->vapid);
	free(p->subject);
	free(p);
}

void
corp_push_headers(const char *priority, long *ttl, const char **urgency)
{
	*ttl = 86400;
	*urgency = "normal";
	if (priority == NULL)
		return;
	if (strcmp(priority, "urgent") == 0)
		*urgency = "high";
	else if (strcmp(priority, "broadcast") == 0) {
		*urgency = "low";
		*ttl = 43200;
	}
}

/* The payload with body cut to n bytes (plus "..." when cut). */
static char *
payload_dump(json_t *line, const char *body, size_t n, int cut)
{
	json_t *ev = json_object_get(line, "event"), *id, *url, *o;
	const char *title = json_string_value(json_object_get(line,
	    "subject"));
	char *b, *s, tag[32];

	if ((b = malloc(n + 4)) == NULL)
		return NULL;
	memcpy(b, body, n);
	strcpy(b + n, cut ? "\xe2\x80\xa6" : "");
	id = json_object_get(ev, "event_id");
	if (json_is_integer(id))
		snprintf(tag, sizeof(tag), "%lld",
		    (long long)json_integer_value(id));
	else
		tag[0] = '\0';
	url = json_object_get(json_object_get(ev, "links"), "task");
	o = json_pack("{s:s, s:s, s:O, s:s}", "title", title ? title : "",
	    "body", b, "url", json_is_string(url) ? url : json_null(),
	    "tag", tag);
	free(b);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

int
corp_push_payload(json_t *line, char **out, size_t *len,
    struct corp_err *err)
{
	const char *body = json_string_value(json_object_get(line, "text"));
	size_t n, over, total;
	char *s;

	*out = NULL;
	if (body == NULL)
		return corp_errf(err, CORP_EINVAL, "not rendered (missing "
		    "corp-fmt?)");
	n = strlen(body);
	if ((s = payload_dump(line, body, n, 0)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	while ((total = strlen(s)) > CORP_WEBPUSH_PLAIN_MAX) {
		free(s);
		/* The escaped form is at least as long: cut by the excess
		 * (and room for the ellipsis), then back to a character
		 * boundary; again if escapes still overflow. */
		over = total - CORP_WEBPUSH_PLAIN_MAX + 3;
		if (over >= n) {
			/* The title alone does not fit. */
			return corp_errf(err, CORP_EINVAL, "push payload: "
			    "the title does not fit in %d bytes",
			    CORP_WEBPUSH_PLAIN_MAX);
		}
		n -= over;
		while (n > 0 && ((unsigned char)body[n] & 0xc0) == 0x80)
			n--;
		if ((s = payload_dump(line, body, n, 1)) == NULL)
			return corp_errf(err, CORP_EINTERNAL,
			    "out of memory");
	}
	*out = s;
	*len = total;
	return 0;
}

/* One subscription's outcome. */
enum { SUB_SENT, SUB_GONE, SUB_RETRY, SUB_FAILED };

static int
send_one(struct corp_pushsend *p, struct corp_http *h, json_t *sub,
    size_t idx, const char *plain, size_t plen, json_t *line,
    struct corp_sendres *one)
{
	struct corp_webpush_sub ws;
	struct corp_http_resp r;
	struct corp_down down;
	struct corp_err e, e2;
	long long downpause = CORP_DOWN_FIRST;
	unsigned char *body = NULL;
	size_t blen;
	char *auth = NULL, *origin = NULL, *hauth = NULL, httl[32],
	    hurg[32];
	const char *hdr[6], *urgency;
	long ttl;
	int rc, out = SUB_FAILED;

	memset(&r, 0, sizeof(r));
	memset(&down, 0, sizeof(down));
	corp_sendres_init(one);
	if (corp_webpush_sub_parse(sub, CORP_WEBPUSH_ALLOW_HTTP, &ws,
	    &e) != 0) {
		one->attempted = 0;
		corp_sendres_set(one, CORP_SEND_FAILED, "push subscription %zu: "
		    "%s", idx, e.msg);
		return SUB_FAILED;
	}
	if (corp_webpush_origin(ws.endpoint, &origin, &e) != 0)
		origin = NULL;
	if (corp_webpush_encrypt(ws.p256dh, ws.auth, plain, plen, 0, &body,
	    &blen, &e) != 0 ||
	    corp_webpush_vapid_header(p->vapid, ws.endpoint, p->subject,
	    time(NULL), 0, &auth, &e) != 0) {
		one->attempted = 0;
		corp_sendres_set(one, CORP_SEND_FAILED, "push subscription %zu "
		    "(%s): %s", idx, origin ? origin : "?", e.msg);
		goto done;
	}
	corp_push_headers(json_string_value(json_object_get(line,
	    "priority")), &ttl, &urgency);
	snprintf(httl, sizeof(httl), "TTL: %ld", ttl);
	snprintf(hurg, sizeof(hurg), "Urgency: %s", urgency);
	if (corp_asprintf(&hauth, "Authorization: %s", auth) < 0) {
		one->attempted = 0;
		corp_sendres_set(one, CORP_SEND_RETRY, "out of memory");
		out = SUB_RETRY;
		goto done;
	}
	hdr[0] = hauth;
	hdr[1] = httl;
	hdr[2] = hurg;
	hdr[3] = "Content-Encoding: aes128gcm";
	hdr[4] = "Content-Type: application/octet-stream";
	hdr[5] = NULL;
	/* A service that was not reachable pauses, per origin, as the
	 * other senders' endpoints do (ratelimit.h; advisory: a state that
	 * cannot be read lets the request go). */
	if (origin != NULL && corp_down_get("push", origin,
	    (long long)corp_now(), &down, &e) == 0 && down.remaining > 0) {
		one->attempted = 0;
		one->error_class = "unreachable";
		one->retry_after = down.remaining;
		corp_sendres_set(one, CORP_SEND_RETRY, "push subscription %zu "
		    "(%s): %s (unreachable: paused %llds more)", idx, origin,
		    down.error[0] ? down.error : "unreachable",
		    down.remaining);
		out = SUB_RETRY;
		goto done;
	}
	rc = corp_http_post(h, ws.endpoint, hdr, (const char *)body, blen,
	    NULL, ws.auth, &r, &e);
	if (origin != NULL && rc == CORP_ETEMP && r.unreachable) {
		long long pause = CORP_DOWN_FIRST;
		char why[256];

		strlcpy(why, e.msg, sizeof(why));
		(void)corp_down_mark("push", origin, (long long)corp_now(),
		    why, &pause, &e2);
		corp_errf(&e, CORP_ETEMP, "%s (unreachable: paused %llds)",
		    why, pause);
		downpause = pause;
	} else if (origin != NULL && down.known && rc != CORP_ECONFIG)
		(void)corp_down_clear("push", origin, &e2);
	if (rc == CORP_ECONFIG) {	/* the SSRF rule, at connect time */
		corp_sendres_hold(one, "push subscription %zu (%s): %s", idx,
		    origin ? origin : "?", e.msg);
		out = SUB_RETRY;
		goto done;
	}
	if (rc != 0) {
		corp_sendres_set(one, rc == CORP_ETEMP ? CORP_SEND_RETRY :
		    CORP_SEND_FAILED, "push subscription %zu (%s): %s", idx,
		    origin ? origin : "?", e.msg);
		out = rc == CORP_ETEMP ? SUB_RETRY : SUB_FAILED;
		if (rc != CORP_ETEMP)
			one->attempted = 0;
		else if (r.unreachable) {
			one->attempted = 0;
			one->error_class = "unreachable";
			one->retry_after = downpause;
		}
		goto done;
	}
	if (r.status >= 200 && r.status < 300)
		out = SUB_SENT;
	else if (r.status == 404 || r.status == 410) {
		corp_sendres_set(one, CORP_SEND_UNBOUND, "push subscription %zu "
		    "(%s): HTTP %ld, subscription gone", idx,
		    origin ? origin : "?", r.status);
		out = SUB_GONE;
	} else if (r.status == 429 || r.status >= 500) {
		corp_sendres_set(one, CORP_SEND_RETRY, "push subscription %zu "
		    "(%s): HTTP %ld", idx, origin ? origin : "?", r.status);
		one->retry_after = r.retry_after;
		out = SUB_RETRY;
	} else
		corp_sendres_set(one, CORP_SEND_FAILED, "push subscription %zu "
		    "(%s): HTTP %ld", idx, origin ? origin : "?", r.status);
	corp_http_resp_free(&r);
done:
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	if (hauth != NULL) {
		explicit_bzero(hauth, strlen(hauth));
		free(hauth);
	}
	free(body);
	free(origin);
	corp_webpush_sub_free(&ws);
	return out;
}

int
corp_pushsend_line(struct corp_pushsend *p, struct corp_http *h,
    json_t *line, struct corp_sendres *res, struct corp_err *err)
{
	json_t *subs = json_object_get(line, "subscriptions"), *sub, *gone;
	struct corp_sendres one, firstr, firstf;
	struct corp_err e;
	char *plain = NULL;
	size_t plen, i;
	int nsent = 0, nretry = 0, nfail = 0, o, attempted = 0;
	long long ra = -1;

	corp_sendres_init(res);
	corp_sendres_init(&firstr);
	corp_sendres_init(&firstf);
	if (!json_is_array(subs) || json_array_size(subs) == 0) {
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_UNBOUND, "no active push "
		    "subscription");
		return 0;
	}
	if (corp_push_payload(line, &plain, &plen, &e) != 0) {
		res->attempted = 0;
		corp_sendres_set(res, CORP_SEND_FAILED, "%s", e.msg);
		return e.code == CORP_EINTERNAL ? -1 : 0;
	}
	if ((gone = json_array()) == NULL) {
		free(plain);
		corp_errf(err, CORP_EINTERNAL, "out of memory");
		return -1;
	}
	json_array_foreach(subs, i, sub) {
		o = send_one(p, h, sub, i + 1, plain, plen, line, &one);
		attempted |= one.attempted;
		if (o == SUB_SENT)
			nsent++;
		else if (o == SUB_GONE)
			json_array_append(gone, json_object_get(sub,
			    "endpoint"));
		else if (o == SUB_RETRY) {
			if (nretry++ == 0)
				firstr = one;
			if (one.retry_after > ra)
				ra = one.retry_after;
		} else if (nfail++ == 0)
			firstf = one;
		if (o != SUB_SENT && res->error[0] == '\0')
			strlcpy(res->error, one.error, sizeof(res->error));
	}
	free(plain);
	if (nsent > 0) {
		res->result = CORP_SEND_SENT;
		res->error[0] = '\0';
	} else if (nretry > 0) {
		*res = firstr;
		res->retry_after = ra;
		res->attempted = attempted;
		if (attempted)
			res->error_class = NULL;
	} else if (nfail > 0)
		*res = firstf;
	else {
		res->attempted = 1;
		res->result = CORP_SEND_UNBOUND;
	}
	if (json_array_size(gone) > 0 &&
	    json_object_set(line, "push_gone", gone) != 0) {
		json_decref(gone);
		corp_errf(err, CORP_EINTERNAL, "out of memory");
		return -1;
	}
	json_decref(gone);
	return 0;
}

int
corp_push_reachable(const char *endpoint, const struct corp_cidr *allow,
    size_t nallow, struct corp_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char *host = NULL, num[64];
	const char *why;
	size_t n;
	CURLU *u;
	int rc = 0, g;

	if ((u = curl_url()) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		return corp_errf(err, CORP_EINVAL, "push subscription "
		    "\"endpoint\": not a URL with a host");
	}
	n = strlen(host);
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((g = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		rc = corp_errf(err, CORP_ETEMP, "push endpoint host %s: %s",
		    host, gai_strerror(g));
		goto out;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((why = corp_addr_refused(ai->ai_addr, allow, nallow)) ==
		    NULL)
			continue;
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num),
		    NULL, 0, NI_NUMERICHOST) != 0)
			strlcpy(num, "?", sizeof(num));
		rc = corp_errf(err, CORP_EFORBIDDEN, "push endpoint host %s: "
		    "%s is %s %s address (allow it with config "
		    "webhook.allow)", host, num, corp_addr_article(why), why);
		break;
	}
out:
	if (res != NULL)
		freeaddrinfo(res);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static int
add_tx(struct corp_db *db, long long uid, const struct corp_webpush_sub *s,
    json_t **row, struct corp_err *err)
{
	struct corp_stmt *st;
	long long n = 0, now = (long long)corp_now();
	int rc;

	if ((rc = corp_db_prep(db, &st, "SELECT 1 FROM push_subscriptions "
	    "WHERE endpoint = ?1 AND active = 1 AND user_id <> ?2",
	    err)) != 0)
		return rc;
	corp_bind_text(st, 1, s->endpoint);
	corp_bind_int64(st, 2, uid);
	rc = corp_step(st);
	corp_reset(st);
	if (rc == SQLITE_ROW)
		return corp_errf(err, CORP_ECONFLICT, "push endpoint already "
		    "bound to another user (deactivate that bind first)");
	if (rc != SQLITE_DONE)
		return corp_db_fail(db, rc, "read push subscriptions", err);
	if ((rc = corp_db_prep(db, &st, "INSERT INTO push_subscriptions "
	    "(user_id, endpoint, p256dh, auth, active, created_at, "
	    "updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5) "
	    "ON CONFLICT (user_id, endpoint) DO UPDATE SET p256dh = ?3, "
	    "auth = ?4, active = 1, deactivated_by = NULL, updated_at = ?5",
	    err)) != 0)
		return rc;
	corp_bind_int64(st, 1, uid);
	corp_bind_text(st, 2, s->endpoint);
	corp_bind_text(st, 3, s->p256dh);
	corp_bind_text(st, 4, s->auth);
	corp_bind_int64(st, 5, now);
	if ((rc = corp_db_exec(db, st, "write push subscription",
	    err)) != 0 ||
	    (rc = corp_binds_add_tx(db, uid, "push", s->endpoint, row,
	    err)) != 0 ||
	    (rc = corp_pushsub_count(db, uid, &n, err)) != 0)
		return rc;
	if (corp_json_set(*row, "subscriptions", json_integer(n)) != 0)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;
}

/* Bind sub, in one transaction (pushsub.h). */
static int
sub_add(struct corp_db *db, long long uid, const struct corp_webpush_sub *s,
    json_t **row, struct corp_err *err)
{
	int rc;

	*row = NULL;
	if ((rc = corp_db_begin(db, err)) != 0)
		return rc;
	if ((rc = add_tx(db, uid, s, row, err)) != 0 ||
	    (rc = corp_db_commit(db, err)) != 0) {
		corp_db_rollback(db);
		json_decref(*row);
		*row = NULL;
	}
	return rc;
}

int
corp_push_bind(struct corp_db *db, long long uid, const char *text,
    size_t len, const char *name, int allow_http, json_t **row,
    struct corp_err *err)
{
	struct corp_webpush_sub sub;
	struct corp_cidr *allow = NULL;
	size_t nallow = 0;
	char *v = NULL, *p, *tok, *save = NULL;
	int rc;

	*row = NULL;
	if ((rc = corp_webpush_sub_parse_text(text, len, name,
	    allow_http ? CORP_WEBPUSH_ALLOW_HTTP : 0, &sub, err)) != 0) {
		if (rc == CORP_EINVAL && !allow_http &&
		    strstr(err->msg, "must be an https URL") != NULL) {
			size_t n = strlen(err->msg);

			snprintf(err->msg + n, sizeof(err->msg) - n,
			    " (http:// only with --allow-http)");
		}
		return rc;
	}
	if ((rc = corp_setting_get(db, "webhook.allow", &v, err)) != 0)
		goto out;
	for (p = v; (tok = strtok_r(p, ", \t", &save)) != NULL; p = NULL)
		if ((rc = corp_cidr_add(&allow, &nallow, tok, err)) != 0) {
			rc = CORP_ECONFIG;
			corp_errprefix(err, "config webhook.allow");
			goto out;
		}
	if ((rc = corp_push_reachable(sub.endpoint, allow, nallow,
	    err)) != 0 ||
	    (rc = sub_add(db, uid, &sub, row, err)) != 0)
		goto out;
out:
	free(v);
	free(allow);
	corp_webpush_sub_free(&sub);
	return rc;
}
