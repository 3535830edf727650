/*
 * corp-api -- seed 004's HTTP API over corp (corp-api.1): one process,
 * libwebsockets for every byte of HTTP, lib/api.c for what a request
 * means, a forked child per started analysis run for its batches.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "cli.h"
#include "analysis.h"
#include "api.h"
#include "apiws.h"
#include "apitls.h"
#include "clock.h"
#include "db.h"
#include "event.h"
#include "fsutil.h"
#include "proposer.h"
#include "text.h"
#include "www.h"

enum { O_LISTEN = 1, O_SOCKET, O_MAXBODY, O_PROPOSER, O_TIMEOUT, O_LEASE,
	O_FAILS, O_WINDOW, O_CERT, O_KEY, O_WSPENDING, O_PEERCONNS,
	O_BODYTIMEOUT, O_TRUSTPROXY };

static const char *const proposers[] = { "builtin", "openai", "exec:",
	NULL };

static const struct cli_opt opts[] = {
	{ O_LISTEN, "listen", "ADDR:PORT", "listen on TCP (PORT 0: any free "
	    "one)" },
	{ O_SOCKET, "socket", "PATH", "listen on a Unix socket",
	    .comp = CLI_C_FILE },
	{ O_MAXBODY, "max-body", "N", "the largest request body in bytes "
	    "(default 1048576)", CLI_NUM, 0, 64LL << 20 },
	{ O_PROPOSER, "proposer", "builtin | exec:NAME | openai", "who "
	    "proposes tasks in started runs (default builtin)",
	    .comp = CLI_C_WORDS, .words = proposers },
	{ O_TIMEOUT, "proposer-timeout", "DURATION", "a batch's time limit "
	    "(default 2m)", CLI_DURATION },
	{ O_LEASE, "lease", "DURATION", "a started run's lease, renewed per "
	    "batch (default 10m)", CLI_DURATION },
	{ O_FAILS, "auth-fails", "N", "failed authentications per address "
	    "and window before 429 (default 10)", CLI_NUM, 1, 1000000 },
	{ O_WINDOW, "auth-window", "DURATION", "the window of --auth-fails "
	    "(default 1m)", CLI_DURATION },
	{ O_CERT, "cert", "FILE", "TLS certificate chain (PEM)",
	    .comp = CLI_C_FILE },
	{ O_KEY, "key", "FILE", "TLS private key (PEM)", .comp = CLI_C_FILE },
	{ O_WSPENDING, "ws-max-pending", "N", "bytes of frames a WebSocket "
	    "client may leave unread before it is dropped (default 1048576)",
	    CLI_NUM, 1024, 1LL << 30 },
	{ O_PEERCONNS, "peer-conns", "N", "connections one TCP peer address "
	    "may hold at once (default 64)", CLI_NUM, 1, 1000000 },
	{ O_BODYTIMEOUT, "body-timeout", "DURATION", "the time a request's "
	    "body may take to come whole (default 1m)", CLI_DURATION },
	{ O_TRUSTPROXY, "trust-proxy", NULL, "believe X-Real-IP from a "
	    "loopback TCP peer (a reverse proxy on this host)" },
	{ 0 }
};

/* One connection's request and answer (libwebsockets' per-session
 * data; a keep-alive connection reuses it, reset per request). */
struct pss {
	int		 started;
	char		 method[8];
	char		*path;
	json_t		*query;
	char		*auth;
	char		*tg_secret;	/* X-Telegram-Bot-Api-Secret-Token */
	char		 peer[64];
	char		*body;
	size_t		 len;
	int		 too_big;
	/* the answer */
	int		 status;
	char		 allow[32];
	long long	 retry_after;
	unsigned char	*out;		/* LWS_PRE + the JSON */
	size_t		 out_len, out_off;
	int		 head_sent, close_after, draining;
	int		 body_pending;	/* a body not all in yet */
	int		 lingering;	/* answered; rest read, dropped */
	int		 answered;	/* the body that may follow is dropped */
	const char	*type;		/* a page's Content-Type; NULL: JSON */
};

static struct corp_api api;
static struct corp_proposer proposer;
static const char *proposer_spec;	/* --proposer, for the workers */
static long long proposer_ms;
static size_t max_body = 1 << 20;
static volatile sig_atomic_t stopping;
static struct lws_context *ctx;
static struct corp_www www;	/* the review and operator pages */
static long long body_timeout_s = 60;	/* --body-timeout */
static long long peer_conns = 64;	/* --peer-conns */
static int trust_proxy;			/* --trust-proxy */
/* The WebSocket wake-ups' state (corp-api.1 "Topics over WebSocket"). */
static int ws_relisten = 1;	/* a new connection: LISTEN, read once */
static int ws_dirty;		/* our own request may have added events */
static int ws_lost;		/* the PostgreSQL connection dropped */
static long long ws_notified;	/* corp_db_data_version's count */

static void
pss_reset(struct pss *s)
{
	free(s->path);
	json_decref(s->query);
	if (s->auth != NULL) {
		explicit_bzero(s->auth, strlen(s->auth));
		free(s->auth);
	}
	if (s->tg_secret != NULL) {
		explicit_bzero(s->tg_secret, strlen(s->tg_secret));
		free(s->tg_secret);
	}
	free(s->body);
	free(s->out);
	memset(s, 0, sizeof(*s));
}

/*
 * The batches of a started run, in a child of its own: the server goes
 * on answering.  No database connection crosses the fork (SQLite's
 * locks are per process): the server closes its own first and opens it
 * again at the next request; the child opens one of its own and keeps
 * none of the server's descriptors.  When the child dies, the run's
 * lease runs out and the next command fails the run ("worker lost",
 * corp-analysis.1).
 */
static void
spawn_worker(struct corp_analysis_job *job, long long run)
{
	struct corp_db *db;
	struct corp_err e;
	pid_t pid;
	int rc;

	corp_db_close(api.db);
	api.db = NULL;
	ws_relisten = 1;
	if ((pid = fork()) == -1) {
		cli_warn("run %lld: no worker (the run fails when its lease "
		    "ends): %s", run, strerror(errno));
		return;
	}
	if (pid != 0)
		return;
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	closefrom(3);
	/*
	 * The proposer's descriptors (an exec command's, judged at start;
	 * openai's connections) went with the server's: set up again here,
	 * its command judged anew, before anything reuses their numbers (a
	 * worker ran fexecve on one of its own pipes: "Permission denied",
	 * every exec proposer failed; fresh-eyes round 17b).  Freeing first
	 * only closes numbers that are closed already.
	 */
	corp_proposer_free(&proposer);
	if ((rc = corp_db_open(&db, 0, &e)) == 0) {
		/* A proposer refused now (its command changed since the
		 * server started) fails the run saying why, not left
		 * running until its lease ends (fresh-eyes round 20a). */
		if ((rc = corp_proposer_init(db, &proposer, proposer_spec,
		    NULL, NULL, proposer_ms, &e)) != 0)
			rc = corp_analysis_abort(db, job, &e);
		else
			rc = corp_analysis_work(db, job, &proposer, &e);
		corp_db_close(db);
	}
	if (rc != 0)
		cli_warn("run %lld: %s", run, e.msg);
	else
		cli_notice("run %lld: completed", run);
	_exit(rc == 0 ? 0 : 1);
}

/* Answer the request in s: the JSON, then ask to write it. */
static void
respond(struct lws *wsi, struct pss *s, struct corp_api_resp *r)
{
	char *txt, lp[64], lm[16], lpath[256], lu[128];
	size_t n;

	s->answered = 1;
	s->status = r->status;
	s->retry_after = r->retry_after;
	snprintf(s->allow, sizeof(s->allow), "%s", r->allow);
	txt = json_dumps(r->body, JSON_COMPACT);
	n = txt != NULL ? strlen(txt) : 0;
	if ((s->out = malloc(LWS_PRE + n + 1)) != NULL && txt != NULL) {
		memcpy(s->out + LWS_PRE, txt, n);
		s->out_len = n;
	} else {
		free(s->out);
		s->out = NULL;
		s->status = 500;
		s->close_after = 1;
	}
	free(txt);
	/* Never the token, never the query: method, path, who, status. */
	cli_notice("%s \"%s %s\" %d %s", corp_text_shown(lp, sizeof(lp),
	    s->peer), corp_text_shown(lm, sizeof(lm), s->method),
	    corp_text_shown(lpath, sizeof(lpath), s->path ? s->path : "-"),
	    s->status, corp_text_shown(lu, sizeof(lu), r->user[0] ? r->user :
	    "-"));
	if (r->note[0] != '\0')
		cli_notice("%s", corp_text_shown(lu, sizeof(lu), r->note));
	json_decref(r->body);
	r->body = NULL;
	lws_callback_on_writable(wsi);
}

static void
respond_error(struct lws *wsi, struct pss *s, int status, const char *msg)
{
	struct corp_api_resp r;

	memset(&r, 0, sizeof(r));
	corp_api_error(&r, status, msg);
	respond(wsi, s, &r);
}

/*
 * GET of one of the pages' paths (www.h): the file from memory, with the
 * strict CSP every answer carries.  No token: the page asks for one and
 * sends it with its API requests.
 */
static void
page(struct lws *wsi, struct pss *s)
{
	const struct corp_www_file *f = corp_www_get(&www, s->path);
	char lp[64], lpath[256];

	if (strcmp(s->method, "GET") != 0) {
		struct corp_api_resp r;

		memset(&r, 0, sizeof(r));
		corp_api_error(&r, 405, "method not allowed");
		snprintf(r.allow, sizeof(r.allow), "GET");
		respond(wsi, s, &r);
		return;
	}
	/* A page takes no parameters, as an API route that lists none
	 * (corp-api.1 PAGES): /?token=... is 400, not served. */
	if (json_object_size(s->query) > 0) {
		const char *k = json_object_iter_key(json_object_iter(
		    s->query));
		char msg[128];

		snprintf(msg, sizeof(msg), "query: %s: unknown parameter "
		    "(this route takes none)", strlen(k) <= 64 ? k :
		    "a parameter");
		respond_error(wsi, s, 400, msg);
		return;
	}
	if (f == NULL) {
		respond_error(wsi, s, 404, "the pages are not installed "
		    "(SHARE_DIR/www; corp-api.1 PAGES)");
		return;
	}
	s->answered = 1;
	s->status = 200;
	s->type = f->type;
	if ((s->out = malloc(LWS_PRE + f->len + 1)) == NULL) {
		respond_error(wsi, s, 500, "out of memory");
		return;
	}
	memcpy(s->out + LWS_PRE, f->body, f->len);
	s->out_len = f->len;
	cli_notice("%s \"GET %s\" 200 -", corp_text_shown(lp, sizeof(lp),
	    s->peer), corp_text_shown(lpath, sizeof(lpath), s->path));
	lws_callback_on_writable(wsi);
}

/* The connection, opened again after a worker's fork closed it. */
static int
db_ready(void)
{
	struct corp_err e;

	if (api.db == NULL && corp_db_open(&api.db, 0, &e) != 0) {
		api.db = NULL;
		cli_warn("%s", e.msg);
		return -1;
	}
	return 0;
}

static void
handle(struct lws *wsi, struct pss *s)
{
	struct corp_api_req q = { s->method, s->path, s->query, s->auth,
	    s->tg_secret, s->peer, s->body, s->len };
	struct corp_api_resp r;

	if (db_ready() != 0) {
		respond_error(wsi, s, 503, "database unavailable");
		return;
	}
	corp_api_handle(&api, &q, &r);
	/* PostgreSQL does not notify a session of its own commits: after
	 * a request that may have written (not a GET), the log is read. */
	if (strcmp(s->method, "GET") != 0)
		ws_dirty = 1;
	if (r.job != NULL) {
		spawn_worker(r.job, r.job_run);
		corp_analysis_job_free(r.job);
	}
	respond(wsi, s, &r);
}

/* A request read whole: a page's path or the API. */
static void
serve(struct lws *wsi, struct pss *s)
{
	if (corp_www_path(s->path))
		page(wsi, s);
	else
		handle(wsi, s);
}

static const char *
method_name(int m)
{
	switch (m) {
	case LWSHUMETH_GET:	return "GET";
	case LWSHUMETH_POST:	return "POST";
	case LWSHUMETH_PUT:	return "PUT";
	case LWSHUMETH_PATCH:	return "PATCH";
	case LWSHUMETH_DELETE:	return "DELETE";
	case LWSHUMETH_OPTIONS:	return "OPTIONS";
	case LWSHUMETH_HEAD:	return "HEAD";
	default:		return NULL;
	}
}

/* A header's value (fresh), or NULL when absent. */
static char *
header(struct lws *wsi, enum lws_token_indexes h)
{
	int n = lws_hdr_total_length(wsi, h);
	char *v;

	if (n <= 0 || (v = malloc((size_t)n + 1)) == NULL)
		return NULL;
	if (lws_hdr_copy(wsi, v, n + 1, h) < 0) {
		free(v);
		return NULL;
	}
	return v;
}

/*
 * The client's address, for the log and the failed-authentication
 * limiter (corp-api.1 "Authentication"): the peer's IP on TCP.  On the
 * Unix socket the peer is the proxy in front, the same for every
 * client, so one client's failures locked every user and Telegram's
 * webhook out (sec-review-17a): there the address is the proxy's
 * X-Real-IP, when it holds one IP address and nothing else (whoever
 * may connect to the socket is a process the operator let in; nginx
 * sets it over whatever the client sent: contrib/corp-api.nginx),
 * shown as "unix:ADDR"; without one, "unix".
 */
static int loopback(const char *);

static void
peer_name(struct lws *wsi, char *buf, size_t len)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char v[INET6_ADDRSTRLEN + 1];
	const char *via = "unix";
	int n;

	lws_get_peer_simple(wsi, buf, len);
	/* --trust-proxy: a reverse proxy on this host, over loopback TCP,
	 * is believed as the socket's is ("proxy:ADDR"); without it every
	 * client of such a proxy was one address to the limiter
	 * (sec-review-21b MEDIUM-2). */
	if (buf[0] != '\0' && (!trust_proxy || !loopback(buf)))
		return;
	if (buf[0] != '\0')
		via = "proxy";
	else
		snprintf(buf, len, "unix");
	n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_X_REAL_IP);
	if (n <= 0 || n >= (int)sizeof(v) || lws_hdr_copy(wsi, v, sizeof(v),
	    WSI_TOKEN_HTTP_X_REAL_IP) != n || (inet_pton(AF_INET, v, bin) != 1 &&
	    inet_pton(AF_INET6, v, bin) != 1))
		return;
	snprintf(buf, len, "%s:%s", via, v);
}

/* A header libwebsockets does not know ("name:", lower case), fresh. */
#define TG_SECRET_HEADER	"x-telegram-bot-api-secret-token:"
static char *
custom_header(struct lws *wsi, const char *name)
{
	int n = lws_hdr_custom_length(wsi, name, (int)strlen(name));
	char *v;

	if (n < 0 || (v = malloc((size_t)n + 1)) == NULL)
		return NULL;
	if (lws_hdr_custom_copy(wsi, v, n + 1, name, (int)strlen(name)) < 0) {
		free(v);
		return NULL;
	}
	return v;
}

/*
 * The query's name=value pieces, decoded by libwebsockets.  The buffer
 * holds the longest piece (the whole query does): a piece longer than a
 * fixed one was dropped with every piece after it, so a filter went
 * unapplied (?state=<1 KiB> answered 200 with every task); an empty
 * piece (?&state=x, ?state=x&) is skipped, not the end.  A name or value that is
 * not UTF-8 (?state=%FF) was dropped the same way (jansson takes none):
 * it is named in bad, for a 400.  So is a name given twice (the last
 * won: a proxy that judged the first saw another request) and a piece
 * without '=' (?state was an unfiltered list; sec-review-17a).
 * libwebsockets 4.1 splits at ';' as at '&' (a %3B is not split) and
 * tells neither apart: both separate (corp-api.1 "Query parameters").
 */
static json_t *
query_of(struct lws *wsi, char *bad, size_t badlen)
{
	json_t *q = json_object(), *v;
	int len = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS), i;
	char *buf, *eq;

	bad[0] = '\0';
	if (q == NULL || (buf = malloc((size_t)len + 1)) == NULL) {
		json_decref(q);
		return NULL;
	}
	for (i = 0; lws_hdr_copy_fragment(wsi, buf, len + 1,
	    WSI_TOKEN_HTTP_URI_ARGS, i) >= 0; i++) {
		/* libwebsockets hands an empty last piece (?state=x&) on
		 * as "/": skipped as the empty ones are. */
		if (buf[0] == '\0' || (strcmp(buf, "/") == 0 &&
		    lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS,
		    i + 1) <= 0))
			continue;
		if ((eq = strchr(buf, '=')) != NULL)
			*eq++ = '\0';
		if ((v = json_string(buf)) == NULL) {
			snprintf(bad, badlen, "query: a parameter's name is "
			    "not UTF-8");
			break;
		}
		json_decref(v);
		/* (The name is UTF-8; a long one is not cut, it could be
		 * cut inside a character.) */
		if (eq == NULL) {
			snprintf(bad, badlen, "query: %s: no '=' (a parameter "
			    "is NAME=VALUE)", strlen(buf) <= 64 ? buf :
			    "a parameter");
			break;
		}
		if (json_object_get(q, buf) != NULL) {
			snprintf(bad, badlen, "query: %s: given twice",
			    strlen(buf) <= 64 ? buf : "a parameter");
			break;
		}
		if ((v = json_string(eq)) == NULL) {
			snprintf(bad, badlen, "query: %s: not UTF-8",
			    strlen(buf) <= 64 ? buf : "a parameter");
			break;
		}
		if (json_object_set_new(q, buf, v) != 0) {
			json_decref(q);
			q = NULL;
			break;
		}
	}
	free(buf);
	return q;
}

/*
 * A header libwebsockets knows, given, even with an empty value (its
 * total length is 0 then, as when it is absent): "Content-Length:" with
 * nothing after it, or "Transfer-Encoding:" whose value was folded onto
 * the next line, was taken for no header and the request ran without
 * the body a proxy may have passed on (sec-review-18b F2).
 */
static int
given(struct lws *wsi, enum lws_token_indexes h)
{
	char c;

	return lws_hdr_total_length(wsi, h) > 0 ||
	    lws_hdr_copy_fragment(wsi, &c, 1, h, 0) == 0;
}

/*
 * Content-Length or Transfer-Encoding spelled so that libwebsockets 4.1
 * keeps it as a header it does not know (lower case, every byte as
 * sent up to the colon), so the request would run without the body a
 * proxy may have passed on (a PUT approve with its defaults):
 * - a blank (SP or HTAB) between the name and its colon (RFC 9112 5.1;
 *   sec-review-17a): "content-length :";
 * - a line folded onto the one before (RFC 9112 5.2's obs-fold: a line
 *   opening with a blank), which libwebsockets reads as a header whose
 *   name opens with the blanks: " content-length:" (sec-review-18b);
 * - a byte no token holds (RFC 9110 5.6.2: a control, a separator, a
 *   byte past ASCII) before or after the name: "transfer-encoding\v:".
 * libwebsockets 4.1 lists no such names and finds one only by its
 * exact spelling (lws_hdr_custom_length), so each spelling below is
 * looked up: runs of 1 to 4 blanks, SP and HTAB mixed, and of only one
 * of them up to 16; any one byte no token holds; runs up to 16 of one
 * of VT, FF, CR, LF or NUL; each after the name or before it, and
 * 1 or 2 blanks on both sides (corp-api.1 "Errors").  What it does not see: a
 * folded line with other text before the name, a line without a colon
 * (libwebsockets joins the next line to its name), other mixes.
 */
#define BLANKS_MIXED	4
#define BLANKS_BOTH	2
#define RUN_MAX		16
enum spell { SPELL_NONE, SPELL_BLANK, SPELL_ODD };

/* RFC 9110 5.6.2's tchar, as libwebsockets keeps a name (lower case). */
static int
tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The i-th spelling of what may stand beside a name, into buf (at
 * least RUN_MAX bytes): its length, or -1 past the last. */
static int
beside(unsigned i, char *buf, enum spell *kind)
{
	static const char runs[] = { ' ', '\t', '\v', '\f', '\r', '\n',
		'\0' };
	unsigned k, j, c;

	*kind = SPELL_BLANK;
	if (i-- == 0) {
		*kind = SPELL_NONE;
		return 0;
	}
	for (k = 1; k <= BLANKS_MIXED; k++) {	/* SP/HTAB, mixed */
		if (i < (1u << k)) {
			for (j = 0; j < k; j++)
				buf[j] = (i >> j) & 1 ? '\t' : ' ';
			return (int)k;
		}
		i -= 1u << k;
	}
	/* One byte repeated, BLANKS_MIXED + 1 (SP, HTAB) or 2 (the others)
	 * to RUN_MAX times. */
	for (j = 0; j < sizeof(runs); j++) {
		k = j < 2 ? BLANKS_MIXED + 1 : 2;
		if (i <= RUN_MAX - k) {
			memset(buf, runs[j], i + k);
			*kind = j < 2 ? SPELL_BLANK : SPELL_ODD;
			return (int)(i + k);
		}
		i -= RUN_MAX - k + 1;
	}
	*kind = SPELL_ODD;			/* one byte */
	for (c = 0; c < 256; c++) {
		if (tchar((int)c) || c == ':' || c == ' ' || c == '\t' ||
		    (c >= 'A' && c <= 'Z'))
			continue;
		if (i-- == 0) {
			buf[0] = (char)c;
			return 1;
		}
	}
	return -1;
}

static const char *
framing_lookalike(struct lws *wsi)
{
	static const char *const names[] = { "content-length",
		"transfer-encoding" };
	/* Before, the longer name, after, the colon (UBSan caught 32). */
	char probe[RUN_MAX + sizeof("transfer-encoding") + RUN_MAX + 1];
	enum spell kb, ka;
	size_t i, nl;
	unsigned b, a;
	int lb, la;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		nl = strlen(names[i]);
		for (b = 0; (lb = beside(b, probe, &kb)) >= 0; b++) {
			memcpy(probe + lb, names[i], nl);
			/* After the name: every spelling when nothing is
			 * before it; none when what is before it is not
			 * 1 or 2 blanks; else 1 or 2 blanks (both sides:
			 * each probe walks every unknown header, and 16 KiB
			 * of them made 4 blanks a side cost 9 ms a
			 * request). */
			for (a = kb == SPELL_NONE ? 1 : 0; (la = beside(a,
			    probe + lb + nl, &ka)) >= 0; a++) {
				if (kb != SPELL_NONE && ka != SPELL_NONE &&
				    (kb != SPELL_BLANK || ka != SPELL_BLANK ||
				    lb > BLANKS_BOTH || la > BLANKS_BOTH))
					break;
				probe[lb + nl + la] = ':';
				if (lws_hdr_custom_length(wsi, probe,
				    (int)(lb + nl + la + 1)) < 0)
					continue;
				if (kb == SPELL_ODD || ka == SPELL_ODD)
					return "a header's name is not a token";
				return kb == SPELL_BLANK ? "a folded header "
				    "line" : "a blank before a header's colon";
			}
		}
	}
	return NULL;
}

/*
 * A client behind the proxy (the socket, or --trust-proxy): its
 * X-Real-IP as the limiter keys it (corp_api_peer_key), from the
 * peer as peer_name shows it; 0 without one (not capped).
 */
static int
proxied_key(const char *peer, char *key, size_t len)
{
	const char *addr;

	if (strncmp(peer, "unix:", 5) == 0)
		addr = peer + 5;
	else if (strncmp(peer, "proxy:", 6) == 0)
		addr = peer + 6;
	else
		return 0;
	corp_api_peer_key(addr, key, len);
	return 1;
}

#define REQUEST_S	10	/* a request's line and headers, from the accept */
#define CAP_MSG	"too many connections from this address (--peer-conns)"

/*
 * The Origin of a WebSocket upgrade, when a browser sent one, must be
 * this server's own: its host[:port] equal to the request's Host (the
 * scheme is not compared: a TLS proxy in front changes it).  Browsers
 * let any page open a WebSocket anywhere, with no CORS check, and a
 * bad token in its auth frame counted against the visitor's address:
 * ten locked out an office (sec-review-22b MEDIUM-1).  No Origin is a
 * client that is no browser: allowed.
 */
static int
origin_foreign(struct lws *wsi)
{
	char *o, *h, *p;
	int foreign = 1;

	if (!given(wsi, WSI_TOKEN_ORIGIN))
		return 0;
	o = header(wsi, WSI_TOKEN_ORIGIN);
	h = header(wsi, WSI_TOKEN_HOST);
	if (o != NULL && h != NULL && (p = strstr(o, "://")) != NULL &&
	    p != o && h[0] != '\0')
		foreign = strcasecmp(p + 3, h) != 0;
	free(o);
	free(h);
	return foreign;
}

/* Sec-WebSocket-Protocol lists corp.v1. */
static int
wants_corp_v1(struct lws *wsi)
{
	char *v = header(wsi, WSI_TOKEN_PROTOCOL), *t, *last;
	int yes = 0;

	if (v == NULL)
		return 0;
	for (t = strtok_r(v, ", \t", &last); t != NULL && !yes;
	    t = strtok_r(NULL, ", \t", &last))
		yes = strcmp(t, "corp.v1") == 0;
	free(v);
	return yes;
}

/*
 * A WebSocket upgrade, judged on its headers before any 101 (corp-api.1
 * "Topics over WebSocket"): 0 to upgrade; -1 not /ws, the Upgrade
 * ignored and the request routed as any other; else the status of the
 * refusal, MSG its error, answered as HTTP by begin() (a refused
 * upgrade was closed with nothing said: sec-review-22b LOW 5).
 */
static int
upgrade_refusal(struct lws *wsi, char *msg, size_t len)
{
	char uri[8], bad[128];
	json_t *q;
	int st = 0;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) != 3 ||
	    lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) != 3 ||
	    strcmp(uri, "/ws") != 0)
		return -1;
	/* No query, as the pages (LOW 4: ?token= worked, silently). */
	if ((q = query_of(wsi, bad, sizeof(bad))) == NULL) {
		snprintf(msg, len, "out of memory");
		return 500;
	}
	if (bad[0] != '\0') {
		snprintf(msg, len, "%s", bad);
		st = 400;
	} else if (json_object_size(q) > 0) {
		const char *k = json_object_iter_key(json_object_iter(q));

		snprintf(msg, len, "query: %s: unknown parameter (this route "
		    "takes none)", strlen(k) <= 64 ? k : "a parameter");
		st = 400;
	}
	json_decref(q);
	if (st != 0)
		return st;
	if (origin_foreign(wsi)) {
		snprintf(msg, len, "Origin: not this server's (a WebSocket "
		    "from another site's page is refused)");
		return 403;
	}
	if (!wants_corp_v1(wsi)) {
		snprintf(msg, len, "Sec-WebSocket-Protocol: corp.v1 required");
		return 400;
	}
	return 0;
}

/* A refused upgrade, for begin() (called next, in the same call of
 * libwebsockets', with the request as HTTP). */
static const struct lws *upg_wsi;
static int upg_status;
static char upg_msg[160];

static int	peer_claim(struct lws *, const char *, const char *);

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE to websocket: IN its Upgrade
 * value, emptied to refuse (libwebsockets then serves the request as
 * HTTP/1.1, as for h2c below). */
static int
upgrade(struct lws *wsi, char *in)
{
	char peer[64], key[64];
	int st = upgrade_refusal(wsi, upg_msg, sizeof(upg_msg));

	if (st == 0) {
		peer_name(wsi, peer, sizeof(peer));
		if (!proxied_key(peer, key, sizeof(key)) ||
		    peer_claim(wsi, key, peer) == 0) {
			/* the auth frame's deadline from now on */
			lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL);
			return 0;
		}
		st = 429;
		snprintf(upg_msg, sizeof(upg_msg), "%s", CAP_MSG);
	}
	*in = '\0';
	if (st > 0) {
		upg_wsi = wsi;
		upg_status = st;
	}
	return 0;
}

static int	admit(struct lws *, struct pss *);

static int
begin(struct lws *wsi, struct pss *s, const char *in)
{
	const char *m, *why;
	char *uri, *cl;
	int ulen, mi;
	long long n;
	char bad[128];

	pss_reset(s);
	s->started = 1;
	/* Every answer ends its connection (corp-api.1 "Connections"):
	 * libwebsockets 4.1 spins for good on a request with a body read
	 * from what a client pipelined behind another (one unauthenticated
	 * packet took the server down: sec-review-11).  Closing after each
	 * answer drops whatever was pipelined behind it, unread. */
	s->close_after = 1;
	mi = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	m = method_name(mi);
	snprintf(s->method, sizeof(s->method), "%s", m ? m : "?");
	peer_name(wsi, s->peer, sizeof(s->peer));
	s->path = strdup(in != NULL ? in : "/");
	s->query = query_of(wsi, bad, sizeof(bad));
	s->auth = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	s->tg_secret = custom_header(wsi, TG_SECRET_HEADER);
	if (s->path == NULL || s->query == NULL) {
		respond_error(wsi, s, 500, "out of memory");
		return 0;
	}
	if (upg_wsi == wsi) {		/* a WebSocket upgrade refused */
		upg_wsi = NULL;
		respond_error(wsi, s, upg_status, upg_msg);
		return 0;
	}
	/* --peer-conns behind the proxy, per X-Real-IP (sec-review-22b
	 * MEDIUM-2: the proxy is one peer, and was not capped). */
	{
		char key[64];

		if (proxied_key(s->peer, key, sizeof(key)) &&
		    peer_claim(wsi, key, s->peer) != 0) {
			respond_error(wsi, s, 429, CAP_MSG);
			return 0;
		}
	}
	if (m == NULL) {
		respond_error(wsi, s, 405, "method not allowed");
		return 0;
	}
	if (bad[0] != '\0') {
		respond_error(wsi, s, 400, bad);
		return 0;
	}
	if ((why = framing_lookalike(wsi)) != NULL) {
		respond_error(wsi, s, 400, why);
		return 0;
	}
	/* libwebsockets 4.1 hands no chunked request body on: refused,
	 * rather than read as an empty one, and judged first: with a
	 * Content-Length beside it (RFC 9112 6.3: Transfer-Encoding wins,
	 * a proxy would read chunks where this read the length: request
	 * smuggling; sec-review-13b) it is 400, whatever the length. */
	if (given(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING)) {
		/* An empty one is no coding RFC 9112 knows (a value folded
		 * onto the next line, which a proxy may read as chunked). */
		if (lws_hdr_total_length(wsi,
		    WSI_TOKEN_HTTP_TRANSFER_ENCODING) == 0)
			respond_error(wsi, s, 400, "Transfer-Encoding: empty");
		else if (given(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH))
			respond_error(wsi, s, 400, "both Content-Length and "
			    "Transfer-Encoding");
		else
			respond_error(wsi, s, 411, "a request body needs "
			    "Content-Length (no chunked bodies)");
		return 0;
	}
	if (given(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH)) {
		char c2[32];

		/* Two Content-Length lines, equal or not: libwebsockets
		 * keeps both as fragments of one header (sec-review-21b
		 * LOW 4: "not a number" for two equal ones). */
		if (lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
		    1) > 0 || lws_hdr_copy_fragment(wsi, c2, sizeof(c2),
		    WSI_TOKEN_HTTP_CONTENT_LENGTH, 1) >= 0) {
			respond_error(wsi, s, 400, "Content-Length: given "
			    "twice");
			return 0;
		}
		/* RFC 9110's 1*DIGIT, all of it (empty, a NUL inside, a sign
		 * or a leading zero: 400), as corp-tg cgi reads
		 * CONTENT_LENGTH. */
		int bad_cl = (cl = header(wsi,
		    WSI_TOKEN_HTTP_CONTENT_LENGTH)) == NULL ||
		    corp_plain_decimal(cl, (size_t)lws_hdr_total_length(wsi,
		    WSI_TOKEN_HTTP_CONTENT_LENGTH), LLONG_MAX, &n);

		free(cl);
		if (bad_cl != 0) {
			respond_error(wsi, s, 400, "Content-Length: not a "
			    "number");
			return 0;
		}
		/* A body on a method that takes none: refused, not read
		 * and half parsed (sec-review-21b LOW 5). */
		if (n > 0 && mi != LWSHUMETH_POST && mi != LWSHUMETH_PUT &&
		    mi != LWSHUMETH_PATCH) {
			char msg[40];

			snprintf(msg, sizeof(msg), "%s takes no body",
			    s->method);
			respond_error(wsi, s, 400, msg);
			return 0;
		}
		if ((unsigned long long)n > max_body) {
			/* Refused before a byte of it is read. */
			respond_error(wsi, s, 413, "request body too large");
			return 0;
		}
		if (n > 0) {
			s->body_pending = 1;
			return admit(wsi, s);	/* the body comes next */
		}
	} else if (mi == LWSHUMETH_POST || mi == LWSHUMETH_PUT ||
	    mi == LWSHUMETH_PATCH) {
		/* A method that takes a body, and no Content-Length seen:
		 * libwebsockets 4.1 may have hidden one (a line without a
		 * colon, or a header named as the start of one it knows,
		 * takes the next line into its name), and the body a proxy
		 * passed on would go unread, the action run with its
		 * defaults (sec-review-18b F2).  RFC 9110 8.6: a client
		 * sends Content-Length: 0 for none; 411 otherwise. */
		respond_error(wsi, s, 411, "Content-Length required (0 for "
		    "no body)");
		return 0;
	}
	serve(wsi, s);
	return 0;
}

/*
 * A request with a body, judged on its headers before a byte of the
 * body is read (sec-review-21b MEDIUM-1: an unknown route or no token
 * waited for the body, so anyone could hold connections trickling
 * one): its route, method and credential (corp_api_admit), a page's
 * method.  Admitted, the body has --body-timeout to come whole.
 */
static int
admit(struct lws *wsi, struct pss *s)
{
	struct corp_api_req q = { s->method, s->path, s->query, s->auth,
	    s->tg_secret, s->peer, NULL, 0 };
	struct corp_api_resp r;

	if (corp_www_path(s->path)) {
		page(wsi, s);		/* not a GET: 405 */
		return 0;
	}
	if (db_ready() != 0) {
		respond_error(wsi, s, 503, "database unavailable");
		return 0;
	}
	if (corp_api_admit(&api, &q, &r) != 0) {
		respond(wsi, s, &r);
		return 0;
	}
	lws_set_timer_usecs(wsi, body_timeout_s * LWS_US_PER_SEC);
	return 0;
}

static int
body(struct pss *s, const void *in, size_t len)
{
	char *b;

	if (s->answered || s->too_big || len == 0)
		return 0;
	if (s->len + len > max_body) {
		s->too_big = 1;
		return 0;
	}
	if ((b = realloc(s->body, s->len + len + 1)) == NULL)
		return -1;
	memcpy(b + s->len, in, len);
	s->body = b;
	s->len += len;
	return 0;
}

/*
 * The answer is out and the connection ends, but when it was given on
 * the headers the body may still be coming: closed with unread bytes,
 * the socket sends a reset, which can reach the client before it read
 * the answer (Python's http.client saw ECONNRESET, not the 401).  The
 * rest of the body is read and dropped, as nginx's lingering_close
 * does, for at most LINGER_MS; closed when it is all in.
 */
#define LINGER_MS	2000
static int
linger(struct lws *wsi, struct pss *s)
{
	if (!s->body_pending || s->lingering)
		return -1;
	s->lingering = 1;
	lws_set_timer_usecs(wsi, LINGER_MS * LWS_US_PER_MS);
	return 0;
}

static int
write_some(struct lws *wsi, struct pss *s)
{
	unsigned char hb[LWS_PRE + 1024], *p = hb + LWS_PRE, *end = hb +
	    sizeof(hb) - 1;
	char ra[24];
	size_t n;
	int last, h1 = lws_get_network_wsi(wsi) == wsi;

	if (s->out == NULL)
		return -1;
	if (s->draining) {
		/* The answer is written; closed once libwebsockets has
		 * sent what it kept (TLS), not cut short. */
		if (!lws_partial_buffered(wsi))
			return linger(wsi, s);
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (!s->head_sent) {
		if (lws_add_http_common_headers(wsi, (unsigned)s->status,
		    s->type ? s->type : "application/json", s->out_len, &p,
		    end))
			return -1;
		/* (The CSP, nosniff, no-referrer and no-store headers come
		 * with the status line: the vhost's, every_answer.) */
		if (s->retry_after > 0) {
			snprintf(ra, sizeof(ra), "%lld", s->retry_after);
			if (lws_add_http_header_by_name(wsi, (const unsigned
			    char *)"retry-after:", (const unsigned char *)ra,
			    (int)strlen(ra), &p, end))
				return -1;
		}
		if (s->allow[0] != '\0' && lws_add_http_header_by_name(wsi,
		    (const unsigned char *)"allow:", (const unsigned char *)
		    s->allow, (int)strlen(s->allow), &p, end))
			return -1;
		/* (HTTP/2: a stream of a connection that stays; no
		 * Connection header there, it would be a protocol error.) */
		if (s->close_after && h1 && lws_add_http_header_by_token(wsi,
		    WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
		    &p, end))
			return -1;
		if (lws_finalize_write_http_header(wsi, hb + LWS_PRE, &p, end))
			return -1;
		s->head_sent = 1;
		lws_callback_on_writable(wsi);
		return 0;
	}
	n = s->out_len - s->out_off;
	if (n > 16384)
		n = 16384;
	last = s->out_off + n == s->out_len;
	if (lws_write(wsi, s->out + LWS_PRE + s->out_off, n, last ?
	    LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	s->out_off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (s->close_after && h1) {
		s->draining = 1;
		if (!lws_partial_buffered(wsi))
			return linger(wsi, s);
		lws_callback_on_writable(wsi);
		return 0;
	}
	s->started = 0;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/*
 * Every answer: the pages' CSP (www.h), no sniffing, no referrer, no
 * framing, no caching.  Given to libwebsockets as the vhost's canned
 * headers, which lws_add_http_header_status (4.1.6, header.c) puts
 * after every status line it writes: ours, and the HTML 403 it
 * answers itself before any code of ours runs (an unknown method, a
 * target not starting with '/', an Upgrade it does not know; corp-api.1
 * "Request headers"; sec-review-21b LOW 3).
 */
static const struct lws_protocol_vhost_options every_answer[] = {
	{ &every_answer[1], NULL, "content-security-policy:", CORP_WWW_CSP },
	{ &every_answer[2], NULL, "x-content-type-options:", "nosniff" },
	{ &every_answer[3], NULL, "referrer-policy:", "no-referrer" },
	{ NULL, NULL, "cache-control:", "no-store" },
};

/*
 * --peer-conns: the connections of each TCP peer address (keyed as the
 * limiter keys it, corp_api_peer_key: an IPv6 one by its /64) open at
 * once; one more is closed at accept, nothing read (sec-review-21b
 * MEDIUM-1: one peer held every descriptor).  The Unix socket's peer is
 * the proxy: not counted.  libwebsockets tells the address at accept
 * (FILTER_NETWORK_CONNECTION) and creates the connection's wsi right
 * after (WSI_CREATE), where the entry is tied to it; WSI_DESTROY lets it
 * go.
 */
struct conn_peer {
	char		 key[64];
	long long	 n;
	long long	 logged_ms;	/* its last refusal line */
	unsigned long long refused;	/* refusals since that line */
};
static struct conn_peer *cpeers;
static size_t ncpeers;
static size_t cpeer_pending;		/* index + 1, between the two */

/* The connections counted, by wsi (libwebsockets sets a wsi's opaque
 * user data itself after WSI_CREATE: not there). */
struct conn_of {
	const struct lws	*wsi;
	size_t			 slot;
};
static struct conn_of *conns_of;
static size_t nconns_of, conns_of_cap;

static void	peer_bind(struct lws *);

/* KEY's entry: its own (kept with its last refusal line while no
 * other address needs the place), else a free one; SIZE_MAX: none. */
static size_t
peer_slot(const char *key)
{
	struct conn_peer *np;
	size_t i, slot = SIZE_MAX;

	for (i = 0; i < ncpeers; i++) {
		if (strcmp(cpeers[i].key, key) == 0)
			return i;
		if (cpeers[i].n == 0 && slot == SIZE_MAX)
			slot = i;
	}
	if (slot == SIZE_MAX) {
		if ((np = reallocarray(cpeers, ncpeers + 1,
		    sizeof(*np))) == NULL)
			return SIZE_MAX;
		cpeers = np;
		slot = ncpeers++;
	}
	memset(&cpeers[slot], 0, sizeof(cpeers[slot]));
	snprintf(cpeers[slot].key, sizeof(cpeers[slot].key), "%s", key);
	return slot;
}

/* A connection refused at --peer-conns: one line per address a minute
 * at most, with the count since its last (sec-review-22b MEDIUM-2: the
 * refusals were not logged, and an outage could not be told). */
static void
peer_refused(struct conn_peer *p, const char *shown)
{
	long long now = corp_mono_ms();
	char lp[64];

	p->refused++;
	if (p->logged_ms != 0 && now - p->logged_ms < 60000)
		return;
	cli_notice("%s: %llu connection%s refused: %lld open, the most one "
	    "address may hold (--peer-conns; at most one such line a minute)",
	    corp_text_shown(lp, sizeof(lp), shown), p->refused,
	    p->refused == 1 ? "" : "s", p->n);
	p->refused = 0;
	p->logged_ms = now;
}

/* Count WSI against KEY (a proxied client's X-Real-IP): -1 when that
 * address holds --peer-conns already (refused, logged, not counted). */
static int
peer_claim(struct lws *wsi, const char *key, const char *shown)
{
	size_t i;

	for (i = 0; i < nconns_of; i++)
		if (conns_of[i].wsi == wsi)
			return 0;	/* counted already */
	if ((i = peer_slot(key)) == SIZE_MAX)
		return 0;		/* out of memory: not counted */
	if (cpeers[i].n >= peer_conns) {
		peer_refused(&cpeers[i], shown);
		return -1;
	}
	cpeer_pending = i + 1;
	peer_bind(wsi);
	return 0;
}

static int
peer_accept(void *args)
{
	const struct lws_filter_network_conn_args *f = args;
	char addr[INET6_ADDRSTRLEN], key[64];
	size_t i;

	cpeer_pending = 0;
	if (f == NULL)
		return 0;
	if (f->cli_addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    &f->cli_addr)->sin_addr, addr, sizeof(addr));
	else if (f->cli_addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    &f->cli_addr)->sin6_addr, addr, sizeof(addr));
	else
		return 0;		/* the Unix socket */
	if (trust_proxy && loopback(addr))
		return 0;		/* the proxy: judged on X-Real-IP */
	corp_api_peer_key(addr, key, sizeof(key));
	if ((i = peer_slot(key)) == SIZE_MAX)
		return 1;
	if (cpeers[i].n >= peer_conns) {
		peer_refused(&cpeers[i], addr);
		return 1;		/* closed by libwebsockets */
	}
	cpeer_pending = i + 1;
	return 0;
}

static void
peer_bind(struct lws *wsi)
{
	struct conn_of *n;
	size_t cap;

	if (cpeer_pending == 0)
		return;
	if (nconns_of == conns_of_cap) {
		cap = conns_of_cap ? conns_of_cap * 2 : 64;
		if ((n = reallocarray(conns_of, cap, sizeof(*n))) == NULL) {
			cpeer_pending = 0;
			return;		/* not counted */
		}
		conns_of = n;
		conns_of_cap = cap;
	}
	conns_of[nconns_of].wsi = wsi;
	conns_of[nconns_of++].slot = cpeer_pending - 1;
	cpeers[cpeer_pending - 1].n++;
	cpeer_pending = 0;
}

static void
peer_unbind(struct lws *wsi)
{
	size_t i;

	for (i = 0; i < nconns_of; i++)
		if (conns_of[i].wsi == wsi) {
			cpeers[conns_of[i].slot].n--;
			conns_of[i] = conns_of[--nconns_of];
			return;
		}
}

/* --cert and --key, parsed at start; in the SSL_CTX once listening. */
static struct corp_apitls tls;
static struct corp_err tls_err;

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct pss *s = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return begin(wsi, s, in);
	case LWS_CALLBACK_HTTP_BODY:
		return body(s, in, len);
	case LWS_CALLBACK_TIMER:
		if (s == NULL || !s->started)
			return -1;	/* no request within REQUEST_S */
		if (s->lingering)
			return -1;
		/* --body-timeout: the body did not come whole in time. */
		if (s->answered)
			return 0;
		{
			char lp[64], lm[16], lpath[256];

			cli_notice("%s \"%s %s\" closed: the body did not "
			    "come within %llds", corp_text_shown(lp, sizeof(lp),
			    s->peer), corp_text_shown(lm, sizeof(lm), s->method),
			    corp_text_shown(lpath, sizeof(lpath), s->path ? s->path :
			    "-"), body_timeout_s);
		}
		return -1;
	case LWS_CALLBACK_RAW_ADOPT:
		/*
		 * CONNECT: libwebsockets 4.1 turns the connection into a
		 * raw socket (server.c, WSI_TOKEN_CONNECT) and calls here,
		 * nothing of HTTP left to answer with; it stayed open with
		 * no timeout (sec-review-21b MEDIUM-1).  Closed at once.
		 */
		{
			char peer[64], lp[64];

			lws_get_peer_simple(wsi, peer, sizeof(peer));
			cli_notice("%s \"CONNECT\" closed: not served",
			    corp_text_shown(lp, sizeof(lp), peer[0] ? peer : "unix"));
		}
		return 1;
	case LWS_CALLBACK_RAW_RX:
		return -1;
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		return peer_accept(user);	/* in: the descriptor */
	case LWS_CALLBACK_WSI_CREATE:
		peer_bind(wsi);
		/* A request's line and headers within REQUEST_S of the
		 * accept, TLS or not: libwebsockets 4.1 gives a TLS
		 * connection its timeout_secs (30 s) once the handshake is
		 * done, 3 times the plain one (sec-review-22b LOW 1). */
		lws_set_timer_usecs(wsi, REQUEST_S * LWS_US_PER_SEC);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (upg_wsi == wsi)
			upg_wsi = NULL;
		peer_unbind(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL);
		s->body_pending = 0;
		if (s->lingering)
			return -1;	/* answered; the rest is in */
		if (s->answered)
			return 0;	/* refused on its headers */
		if (s->too_big) {
			s->close_after = 1;
			respond_error(wsi, s, 413, "request body too large");
		} else
			serve(wsi, s);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (s == NULL || s->out == NULL)
			return 0;
		return write_some(wsi, s);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return 1;	/* a WebSocket without protocol corp.v1 */
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/*
		 * No HTTP/2 (corp-api.1): libwebsockets 4.1 has no option
		 * against an "Upgrade: h2c" on a plain listener and bounds
		 * no HTTP/2 header block (sec-review-12a).  in is the
		 * Upgrade header's value in its header table, and it goes
		 * on to compare that very string with "websocket" and
		 * "h2c" once this returns 0 (roles/http/server/server.c):
		 * emptied, neither matches and the request is served as
		 * the HTTP/1.1 request it also is, as RFC 9110 lets a
		 * server ignore an Upgrade.  tests/0944 holds it to that.
		 */
		if (in != NULL && strcasecmp(in, "h2c") == 0)
			*(char *)in = '\0';
		else if (in != NULL && strcasecmp(in, "websocket") == 0)
			return upgrade(wsi, in);
		return 0;
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		/* user: the vhost's SSL_CTX; the certificate and key go in
		 * from memory (apitls.h), libwebsockets was given no path. */
		if (tls.cert != NULL && corp_apitls_use(&tls, user,
		    &tls_err) != 0)
			return 1;
		return 0;
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (s != NULL)
			pss_reset(s);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}


/* ---- topics over WebSocket (corp-api.1) ------------------------------ */

#define WS_AUTH_MS	10000	/* the auth frame's deadline */
#define WS_POLL_MS	200	/* SQLite: the log's last id read this often */
#define WS_NOTIFY_MS	50	/* PostgreSQL: notifications taken this often */
#define WS_PAGE		256	/* events examined per client and read */
#define WS_IN_MAX	65536	/* the largest client message */
#define WS_STALL_MS	5000	/* over the cap and not reading: dropped */
#define WS_SNDBUF	65536	/* SO_SNDBUF of a WebSocket (Linux doubles it) */

/* A frame waiting to be written: LWS_PRE bytes, then the JSON. */
struct frame {
	struct frame	*next;
	size_t		 len;
	unsigned char	 buf[];
};

/* One WebSocket connection (libwebsockets' per-session data). */
struct wss {
	struct wss	*next, **prevp;	/* every open connection */
	struct lws	*wsi;
	struct corp_apiws c;
	char		 peer[64];
	long long	 opened_ms;
	long long	 progress_ms;	/* when a frame was last taken */
	struct frame	*head, *tail;
	size_t		 pending;	/* bytes of frames not yet written */
	char		*in;		/* the message being received */
	size_t		 in_len;
	int		 close_code, dead;
	char		 close_msg[120];
};

static struct wss *conns;
static size_t ws_max_pending = 1 << 20;
static long long log_last;		/* the log's last id, as last read */
static lws_sorted_usec_list_t ws_sul;

static void
ws_queue_free(struct wss *w)
{
	struct frame *f;

	while ((f = w->head) != NULL) {
		w->head = f->next;
		free(f);
	}
	w->tail = NULL;
	w->pending = 0;
}

/* Drop a client that leaves its frames unread: its memory goes now, the
 * connection at the loop's next turn (no close frame: it reads none). */
static void
ws_drop(struct wss *w)
{
	char lp[64];

	cli_warn("%s \"GET /ws\" dropped %s: more than %zu bytes of frames "
	    "unread", corp_text_shown(lp, sizeof(lp), w->peer), w->c.login ?
	    w->c.login : "-", ws_max_pending);
	ws_queue_free(w);
	w->dead = 1;
	lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static int
ws_send(struct wss *w, json_t *o)
{
	struct frame *f;
	char *txt;
	size_t n;

	if (w->dead)
		return 0;
	if ((txt = json_dumps(o, JSON_COMPACT)) == NULL)
		return -1;
	n = strlen(txt);
	if ((f = malloc(sizeof(*f) + LWS_PRE + n)) == NULL) {
		free(txt);
		return -1;
	}
	f->next = NULL;
	f->len = n;
	memcpy(f->buf + LWS_PRE, txt, n);
	free(txt);
	if (w->tail != NULL)
		w->tail->next = f;
	else
		w->head = f;
	w->tail = f;
	if (w->head == w->tail)		/* the first one waiting */
		w->progress_ms = corp_mono_ms();
	w->pending += n;
	lws_callback_on_writable(w->wsi);
	return 0;
}

/* Close w with code and message at its next write. */
static void
ws_close(struct wss *w, int code, const char *msg)
{
	w->close_code = code;
	/* A close frame carries at most 123 bytes of reason. */
	strlcpy(w->close_msg, msg, sizeof(w->close_msg));
	lws_callback_on_writable(w->wsi);
}

/*
 * One tick's reads, by (user, position): the clients of one user that
 * stand at one event id (most of them, once caught up) share a read.
 */
#define WS_READS 32
struct ws_read {
	long long	 uid, after;
	int		 spaces;
	struct corp_apiws_batch b;
};
static struct ws_read reads[WS_READS];
static size_t nreads;

static void
ws_reads_clear(void)
{
	while (nreads > 0)
		corp_apiws_batch_free(&reads[--nreads].b);
}

/* Queue w's events past its position (read outside any transaction;
 * written later, by the loop). */
static void
ws_feed(struct wss *w)
{
	struct corp_err e;
	struct ws_read *r = NULL, one;
	json_t *frames, *f;
	size_t i;

	if (w->dead || w->close_code || w->c.topics == NULL)
		return;
	/* Over the cap: nothing more is read for w until it drains (its
	 * position stays, so nothing is skipped). */
	if (w->pending > ws_max_pending)
		return;
	if (db_ready() != 0)
		return;
	for (i = 0; i < nreads; i++)
		if (reads[i].uid == w->c.uid && reads[i].after == w->c.after &&
		    reads[i].spaces == w->c.spaces)
			r = &reads[i];
	if (r == NULL) {
		r = nreads < WS_READS ? &reads[nreads] : &one;
		r->uid = w->c.uid;
		r->after = w->c.after;
		r->spaces = w->c.spaces;
		if (corp_apiws_read(api.db, r->uid, r->after, WS_PAGE,
		    r->spaces, &r->b, &e) != 0) {
			cli_warn("websocket %s: %s (tried again)", w->c.login,
			    e.msg);
			return;
		}
		if (r != &one)
			nreads++;
	}
	frames = corp_apiws_pick(&w->c, &r->b);
	if (r == &one)
		corp_apiws_batch_free(&one.b);
	if (frames == NULL) {
		ws_close(w, 1011, "out of memory");
		return;
	}
	json_array_foreach(frames, i, f)
		if (ws_send(w, f) != 0) {
			ws_close(w, 1011, "out of memory");
			break;
		}
	json_decref(frames);
}

/*
 * Whether the log may have moved since the last tick.  SQLite: always
 * (the tick polls).  PostgreSQL: another session's NOTIFY came (taken
 * from the socket without a query, the call of corp-event tail
 * --follow), our own request ran, or the connection is new (LISTEN
 * issued now: read once for what committed before it).  A connection
 * that fails is closed: the ticks poll until one opens again.
 */
static int
ws_woken(void)
{
	struct corp_err e;
	long long v;
	int fresh = ws_relisten;

	if (!corp_db_is_pg(api.db)) {
		api.ws.wake = "poll";
		return 1;
	}
	if (corp_db_data_version(api.db, &v, &e) != 0) {
		cli_warn("websocket: %s: polling the log until reconnected",
		    e.msg);
		corp_db_close(api.db);
		api.db = NULL;
		ws_relisten = ws_lost = 1;
		api.ws.wake = "poll";
		return 0;
	}
	if (fresh && ws_lost) {
		cli_notice("websocket: connected again: listening");
		ws_lost = 0;
	}
	ws_relisten = 0;
	api.ws.wake = "notify";
	if (fresh || ws_dirty || v != ws_notified) {
		if (!fresh)
			api.ws.notifications += v != ws_notified;
		ws_notified = v;
		ws_dirty = 0;
		return 1;
	}
	return 0;
}

/* The connection for the ticks: opened again after a worker's fork or a
 * drop (warned once per drop, not once per tick). */
static int
ws_db(void)
{
	struct corp_err e;

	if (api.db != NULL)
		return 0;
	if (corp_db_open(&api.db, 0, &e) != 0) {
		api.db = NULL;
		if (!ws_lost)
			cli_warn("websocket: %s: polling the log until "
			    "reconnected", e.msg);
		ws_lost = ws_relisten = 1;
		api.ws.wake = "poll";
		return -1;
	}
	return 0;
}

/* Every tick: the auth deadlines, then, while someone is subscribed and
 * the log may have moved (ws_woken), the log's last id and each
 * subscriber's new events.  On PostgreSQL the notifications are taken
 * at every tick, subscribers or not, so none pile up unread. */
static void
ws_tick(lws_sorted_usec_list_t *sul)
{
	struct corp_err e;
	struct wss *w;
	long long now = corp_mono_ms();
	int subscribed = 0, woken = 0;

	(void)sul;
	for (w = conns; w != NULL; w = w->next) {
		if (w->c.uid == 0 && !w->close_code &&
		    now - w->opened_ms >= WS_AUTH_MS)
			ws_close(w, 4401, "no {\"type\":\"auth\"} frame within "
			    "10 s");
		/* More than the cap waiting, and not a frame taken for
		 * WS_STALL_MS: a client that does not read. */
		if (!w->dead && w->pending > ws_max_pending &&
		    now - w->progress_ms >= WS_STALL_MS)
			ws_drop(w);
		subscribed |= w->c.topics != NULL && !w->dead;
	}
	if (subscribed)
		api.ws.ticks++;
	if ((subscribed ? ws_db() : api.db != NULL ? 0 : -1) == 0)
		woken = ws_woken();
	if (subscribed && woken && ws_db() == 0) {
		api.ws.log_reads++;
		if (corp_event_last_id(api.db, &log_last, &e) != 0)
			cli_warn("websocket: %s (tried again)", e.msg);
		else
			for (w = conns; w != NULL; w = w->next)
				if (w->c.topics != NULL && w->c.after <
				    log_last)
					ws_feed(w);
		ws_reads_clear();
	}
	lws_sul_schedule(ctx, 0, &ws_sul, ws_tick, (api.ws.wake != NULL &&
	    strcmp(api.ws.wake, "notify") == 0 ? WS_NOTIFY_MS : WS_POLL_MS) *
	    LWS_US_PER_MS);
}

static void
ws_message(struct wss *w)
{
	struct corp_err e;
	json_t *reply = NULL;
	int code;

	if (db_ready() != 0) {
		ws_close(w, 1011, "database unavailable");
		return;
	}
	if (corp_apiws_frame(&api, &w->c, w->peer, w->in, w->in_len, &reply,
	    &code, &e) == CORP_APIWS_CLOSE) {
		ws_close(w, code, e.msg);
		return;
	}
	if (reply != NULL) {
		int subscribed = json_object_get(reply, "last_id") != NULL;

		if (ws_send(w, reply) != 0)
			ws_close(w, 1011, "out of memory");
		json_decref(reply);
		/* A replay (since) starts now, not at the next tick. */
		if (subscribed) {
			ws_feed(w);
			ws_reads_clear();
		}
	}
}

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct wss *w = user;
	struct frame *f;
	int fd, sndbuf = WS_SNDBUF;
	char uri[16];
	char *b;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* Only GET /ws is upgraded. */
		if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
		    strcmp(uri, "/ws") != 0)
			return 1;
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		memset(w, 0, sizeof(*w));
		w->wsi = wsi;
		/* The kernel's send buffer of a WebSocket is fixed, not
		 * grown to megabytes per client by autotuning: what a
		 * client leaves unread waits in the queue the cap sees. */
		fd = lws_get_socket_fd(wsi);
		if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
		    sizeof(sndbuf)) != 0)
			cli_warn("websocket: SO_SNDBUF: %s", strerror(errno));
		w->opened_ms = corp_mono_ms();
		peer_name(wsi, w->peer, sizeof(w->peer));
		if ((w->next = conns) != NULL)
			conns->prevp = &w->next;
		w->prevp = &conns;
		conns = w;
		api.ws.clients++;
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (w->close_code || w->dead)
			return 0;
		if (lws_frame_is_binary(wsi)) {
			ws_close(w, 1003, "text frames only");
			return 0;
		}
		if (w->in_len + len > WS_IN_MAX) {
			ws_close(w, 1009, "message too large");
			return 0;
		}
		if ((b = realloc(w->in, w->in_len + len + 1)) == NULL)
			return -1;
		memcpy(b + w->in_len, in, len);
		w->in = b;
		w->in_len += len;
		if (lws_is_final_fragment(wsi) &&
		    lws_remaining_packet_payload(wsi) == 0) {
			ws_message(w);
			free(w->in);
			w->in = NULL;
			w->in_len = 0;
		}
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (w->dead)
			return 0;
		if ((f = w->head) != NULL) {
			/* libwebsockets keeps what the socket does not
			 * take and calls again: the frames wait here
			 * instead, where the cap sees them. */
			if (lws_send_pipe_choked(wsi)) {
				lws_callback_on_writable(wsi);
				return 0;
			}
			if (lws_write(wsi, f->buf + LWS_PRE, f->len,
			    LWS_WRITE_TEXT) < (int)f->len)
				return -1;
			w->head = f->next;
			if (w->head == NULL)
				w->tail = NULL;
			w->pending -= f->len;
			w->progress_ms = corp_mono_ms();
			free(f);
			if (w->head == NULL && w->c.after < log_last) {
				ws_feed(w);	/* a replay goes on */
				ws_reads_clear();
			}
			if (w->head != NULL || w->close_code)
				lws_callback_on_writable(wsi);
			return 0;
		}
		if (w->close_code) {
			lws_close_reason(wsi, (enum lws_close_status)
			    w->close_code, (unsigned char *)w->close_msg,
			    strlen(w->close_msg));
			return -1;
		}
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (w->prevp != NULL) {
			if ((*w->prevp = w->next) != NULL)
				w->next->prevp = w->prevp;
			w->prevp = NULL;
			api.ws.clients--;
		}
		ws_queue_free(w);
		free(w->in);
		corp_apiws_free(&w->c);
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{ "http", callback, sizeof(struct pss), 0, 0, NULL, 0 },
	{ "corp.v1", ws_callback, sizeof(struct wss), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (ctx != NULL)
		lws_cancel_service(ctx);
}

/*
 * libwebsockets' lines, at most LWS_LOG_MAX in a second of the monotonic
 * clock (corp-api.1): a peer can make it complain once per frame or per
 * header (sec-review-12a: 383k lines in 8 s from one connection).  The
 * lines past the cap are counted and said in one line once their second
 * is over: by the next line, the timer set at the first dropped one, or
 * the exit.
 */
#define LWS_LOG_MAX	20
static long long lwslog_sec = -1;
static unsigned lwslog_shown;
static unsigned long long lwslog_dropped;
static lws_sorted_usec_list_t lwslog_sul;

static void
lws_log_flush(void)
{
	if (lwslog_dropped > 0)
		cli_warn("libwebsockets: %llu lines suppressed (more than %d "
		    "a second)", lwslog_dropped, LWS_LOG_MAX);
	lwslog_dropped = 0;
}

static void
lws_log_timer(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	if (corp_mono_ms() / 1000 != lwslog_sec)
		lws_log_flush();
}

static void
lws_log(int level, const char *line)
{
	long long sec = corp_mono_ms() / 1000;

	(void)level;
	if (sec != lwslog_sec) {
		lws_log_flush();
		lwslog_sec = sec;
		lwslog_shown = 0;
	}
	if (lwslog_shown < LWS_LOG_MAX) {
		lwslog_shown++;
		cli_warn("libwebsockets: %.*s", (int)strcspn(line, "\n"),
		    line);
		return;
	}
	if (lwslog_dropped++ == 0 && ctx != NULL)
		lws_sul_schedule(ctx, 0, &lwslog_sul, lws_log_timer,
		    1100 * LWS_US_PER_MS);
}

/* ADDR:PORT, [V6]:PORT: the address and the port, split at the last
 * colon (libwebsockets reads the address). */
static void
listen_addr(const char *spec, char **addr, int *port)
{
	const char *c = strrchr(spec, ':'), *es = NULL;
	char *a;

	if (c == NULL || c == spec)
		cli_usage("--listen: expected ADDR:PORT");
	*port = (int)strtonum(c + 1, 0, 65535, &es);
	if (es != NULL)
		cli_usage("--listen: port '%s' is %s", c + 1, es);
	if ((a = strndup(spec, (size_t)(c - spec))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	if (a[0] == '[' && a[strlen(a) - 1] == ']') {
		memmove(a, a + 1, strlen(a));
		a[strlen(a) - 1] = '\0';
	}
	*addr = a;
}

/* A numeric loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104):
 * judged on the parsed address; a name or an interface is not one. */
static int
loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

/*
 * A numeric --listen address bound once, here, and let go: an address
 * not on this host or a port in use stops corp-api with the reason
 * before libwebsockets is started (which would only log the first, and
 * leaks on the way out of the second).  libwebsockets' bind judges the
 * rest (an interface name) and the race: it fails the context then.
 */
static void
listen_check(const char *spec, const char *addr, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, en;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else
		return;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		cli_die(CORP_EINTERNAL, "socket: %s", strerror(errno));
	/* as libwebsockets does: a port in TIME_WAIT is not in use */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		en = errno;
		close(fd);
		cli_die(CORP_EINTERNAL, "cannot listen on %s: %s", spec,
		    strerror(en));
	}
	close(fd);
}

/*
 * What is at the --socket path may go only when it is a stale socket of
 * the running user's: a socket (lstat: never a link's target), owned by
 * the euid, that nobody listens on (connect: ECONNREFUSED).  Anything
 * else stays, and corp-api stops naming it.
 */
static void
stale_socket(const char *shown, const char *path)
{
	struct sockaddr_un sun;
	struct stat sb;
	int fd, r, en;

	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return;
		cli_die(CORP_EINTERNAL, "--socket %s: %s", shown,
		    strerror(errno));
	}
	if (!S_ISSOCK(sb.st_mode))
		cli_die(CORP_EFORBIDDEN, "--socket %s: exists and is not a "
		    "socket; corp-api replaces only a stale socket of its "
		    "own: remove it or choose another path", shown);
	if (sb.st_uid != geteuid())
		cli_die(CORP_EFORBIDDEN, "--socket %s: a socket of uid %lu, "
		    "not of the running user; remove it or choose another "
		    "path", shown, (unsigned long)sb.st_uid);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		cli_die(CORP_EUSAGE, "--socket %s: path too long", shown);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		cli_die(CORP_EINTERNAL, "socket: %s", strerror(errno));
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	en = errno;
	close(fd);
	if (r == 0)
		cli_die(CORP_EINTERNAL, "--socket %s: in use (a server "
		    "listens on it)", shown);
	if (en != ECONNREFUSED)
		cli_die(CORP_EINTERNAL, "--socket %s: %s", shown,
		    strerror(en));
	if (unlink(path) != 0 && errno != ENOENT)
		cli_die(CORP_EINTERNAL, "--socket %s: %s", shown,
		    strerror(errno));
}

/*
 * The --socket path with its directory pinned: the directory is walked
 * and opened once, here, and every later use (the stale check,
 * libwebsockets' bind and its unlink at exit) goes through
 * /proc/self/fd/N/NAME, so a directory on the way swapped for a link
 * meanwhile cannot turn the unlink at exit onto another file
 * (fresh-eyes round 8).  The walk (corp_dir_walk, as corp-send file
 * --out's) refuses a directory another user may write unless it is a
 * sticky one root owns: there nobody else can rename our socket and put
 * a link in its place (fresh-eyes round 9).  The directory stays open
 * for the life of the server.
 */
static char *
pin_socket(const char *sock)
{
	const char *slash = strrchr(sock, '/'), *base;
	struct sockaddr_un sun;
	struct corp_err e;
	char *dir, *pinned = NULL;
	int dfd, rc;

	base = slash != NULL ? slash + 1 : sock;
	if (*base == '\0')
		cli_usage("--socket %s: names a directory, not a socket", sock);
	if ((dir = slash == NULL ? strdup(".") : slash == sock ? strdup("/") :
	    strndup(sock, (size_t)(slash - sock))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	rc = corp_dir_walk(dir, &dfd, &e);
	free(dir);
	if (rc == CORP_ENOTFOUND)	/* cannot listen there: 1 */
		cli_die(CORP_EINTERNAL, "--socket %s: %s", sock, e.msg);
	if (rc != 0) {
		corp_errprefix(&e, "--socket %s", sock);
		cli_fail(&e);
	}
	if (asprintf(&pinned, "/proc/self/fd/%d/%s", dfd, base) < 0)
		cli_die(CORP_EINTERNAL, "out of memory");
	/* libwebsockets 4.1 only logs a name too long and serves on,
	 * listening nowhere (sec-review-12a): judged here, before any
	 * file is touched or the ready line is printed. */
	if (strlen(pinned) >= sizeof(sun.sun_path))
		cli_die(CORP_EUSAGE, "--socket %s: the name '%s' is too "
		    "long for a Unix socket (at most %zu bytes after the "
		    "last '/')", sock, base, sizeof(sun.sun_path) - 1 -
		    (strlen(pinned) - strlen(base)));
	return pinned;
}

static int
cmd_serve(const struct cli_args *a)
{
	struct lws_context_creation_info info;
	struct corp_err e;
	const char *sock = cli_str(a, O_SOCKET), *p = cli_str(a, O_PROPOSER);
	char *addr = NULL, *pinned = NULL;
	long long timeout_s = cli_int(a, O_TIMEOUT, 120);
	json_t *ready;
	mode_t mask;
	int port = 0;

	if (cli_has(a, O_CERT) != cli_has(a, O_KEY))
		cli_usage("--cert and --key go together");
	/* Every request's bearer token passes through this process's
	 * memory, and so may the TLS key: no core, no ptrace (corp.7). */
	corp_secret_guard();
	if (timeout_s < 1)
		cli_usage("--proposer-timeout must be at least 1s");
	api.lease_s = cli_int(a, O_LEASE, 600);
	if (api.lease_s <= timeout_s)
		cli_usage("--lease must be longer than --proposer-timeout");
	api.auth_fails = (int)cli_int(a, O_FAILS, 10);
	api.auth_window_ms = cli_int(a, O_WINDOW, 60) * 1000;
	if (api.auth_window_ms < 1000)
		cli_usage("--auth-window must be at least 1s");
	max_body = (size_t)cli_int(a, O_MAXBODY, 1 << 20);
	ws_max_pending = (size_t)cli_int(a, O_WSPENDING, 1 << 20);
	peer_conns = cli_int(a, O_PEERCONNS, 64);
	body_timeout_s = cli_int(a, O_BODYTIMEOUT, 60);
	if (body_timeout_s < 1)
		cli_usage("--body-timeout must be at least 1s");
	trust_proxy = cli_has(a, O_TRUSTPROXY);
	/* It is about loopback TCP peers: on the socket it would change
	 * nothing, and an operator who gave it thinks it does. */
	if (trust_proxy && sock != NULL)
		cli_usage("--trust-proxy is for --listen on loopback behind a "
		    "reverse proxy: on --socket X-Real-IP is always believed");
	if (sock == NULL)
		listen_addr(cli_str(a, O_LISTEN), &addr, &port);
	if (sock == NULL && !cli_has(a, O_CERT) && !loopback(addr))
		cli_usage("--listen %s: plain HTTP on an address that is not "
		    "loopback would carry bearer tokens in clear; give --cert "
		    "and --key, or use --socket PATH or 127.0.0.1 / [::1] "
		    "behind a reverse proxy", cli_str(a, O_LISTEN));
	/* The TLS key is a secret: judged as one, and the process keeps
	 * it out of core dumps and /proc from then on.  The key and the
	 * certificate are read from the descriptors judged and parsed
	 * now; libwebsockets gets them from memory, never a path (it would
	 * load a KEY.upd planted beside the key: fresh-eyes round 9). */
	if (cli_has(a, O_KEY) && corp_apitls_load(&tls, cli_str(a, O_CERT),
	    cli_str(a, O_KEY), &e) != 0)
		cli_fail(&e);
	api.db = cli_db(0);
	/* The proposer is checked now, not in the first run's worker. */
	proposer_spec = p ? p : "builtin";
	proposer_ms = timeout_s * 1000;
	if (corp_proposer_init(api.db, &proposer, proposer_spec, NULL,
	    NULL, proposer_ms, &e) != 0)
		cli_fail(&e);
	api.proposer = proposer.name;
	/* The pages: served when installed; a directory that fails the
	 * ownership rule stops corp-api (77), as a catalog's would. */
	if (corp_www_load(&www, NULL, &e) != 0) {
		if (e.code != CORP_ENOTFOUND)
			cli_fail(&e);
		cli_warn("the pages are not served: %s", e.msg);
		corp_www_free(&www);
	}
	/* A stale socket of an earlier server goes; any other file stays. */
	if (sock != NULL) {
		pinned = pin_socket(sock);
		stale_socket(sock, pinned);
	} else
		listen_check(cli_str(a, O_LISTEN), addr, port);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);	/* workers are reaped by the kernel */
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	lws_set_log_level(LLL_ERR, lws_log);
	memset(&info, 0, sizeof(info));
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	info.timeout_secs = 30;
	info.keepalive_timeout = 30;
	/*
	 * The request line and headers as libwebsockets keeps them
	 * (corp-api.1 "Request headers"): room for a proxy's cookies.
	 * Past it, its parser closes the connection unanswered and calls
	 * nothing of ours before the socket is shut (4.1.6, parsers.c
	 * lws_pos_in_bounds -> LPR_FAIL -> lws_read_h1 bail): no 431 can
	 * be written.  One such buffer per connection still in its
	 * headers.
	 */
	info.max_http_header_data = 16384;
	info.server_string = "corp-api";
	info.headers = every_answer;
	/* A listener that cannot be made fails lws_create_context rather
	 * than leaving a server that listens nowhere (sec-review-12a). */
	info.options |= LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if (sock != NULL) {
		info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
		info.iface = pinned;
		/*
		 * The socket is made 0660 by bind() itself (the umask
		 * below), never changed by name after: libwebsockets
		 * (4.1 to 4.4) chowns and chmods it by path when uid and
		 * gid are both nonzero, and a link swapped in after the
		 * bind would be followed (fresh-eyes round 9).  gid 0
		 * with uid -1 is "neither" to it, and it changes no
		 * group or user either.
		 */
		info.gid = 0;
	} else {
		/*
		 * libwebsockets 4.1 binds its IPv6 socket to the wildcard
		 * when iface is an IPv4 address (fresh-eyes round 6): an
		 * IPv4 address gets an IPv4 socket, so the bind is exactly
		 * that address.
		 */
		struct in_addr v4;

		if (inet_pton(AF_INET, addr, &v4) == 1)
			info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
		info.iface = addr;
		info.port = port;
	}
	if (cli_has(a, O_CERT)) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		    LWS_SERVER_OPTION_CREATE_VHOST_SSL_CTX;
		/* HTTP/1.1 only (corp-api.1): libwebsockets 4.1 bounds no
		 * HTTP/2 header block (sec-review-12a). */
		info.alpn = "http/1.1";
	}
	mask = umask(0117);
	ctx = lws_create_context(&info);
	umask(mask);
	if (ctx == NULL) {
		if (tls_err.code != 0)
			cli_fail(&tls_err);
		cli_die(CORP_EINTERNAL, "cannot listen on %s", sock ? sock :
		    cli_str(a, O_LISTEN));
	}
	corp_apitls_free(&tls);	/* the SSL_CTX holds its own references */
	if (sock == NULL)
		port = lws_get_vhost_listen_port(lws_get_vhost_by_name(ctx,
		    "default"));
	ready = sock ? json_pack("{ss}", "socket", sock) :
	    json_pack("{ss si}", "address", addr, "port", port);
	cli_out(ready);
	json_decref(ready);
	if (fflush(stdout) == EOF)
		cli_die(CORP_EINTERNAL, "stdout: %s", strerror(errno));
	lws_sul_schedule(ctx, 0, &ws_sul, ws_tick, WS_POLL_MS * LWS_US_PER_MS);
	cli_log_timed();	/* serving: a loop (corp.7 Errors) */
	cli_debug("serving on %s", sock ? sock : cli_str(a, O_LISTEN));
	while (!stopping && lws_service(ctx, 0) >= 0)
		;
	{
		struct lws_context *c = ctx;

		ctx = NULL;	/* lws_log's timer: no longer there */
		lws_context_destroy(c);
	}
	free(cpeers);
	free(conns_of);
	lws_log_flush();
	corp_proposer_free(&proposer);
	corp_www_free(&www);
	if (api.db != NULL)
		corp_db_close(api.db);
	free(addr);
	free(pinned);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "", cmd_serve, "serve the API until SIGTERM", NULL, 0, 0,
	    U({ O_LISTEN, CLI_REQ, 1 }, { O_SOCKET, 0, 1 }, { O_MAXBODY },
	    { O_PROPOSER }, { O_TIMEOUT }, { O_LEASE }, { O_FAILS },
	    { O_WINDOW }, { O_CERT }, { O_KEY }, { O_WSPENDING },
	    { O_PEERCONNS }, { O_BODYTIMEOUT }, { O_TRUSTPROXY }) },
	{ NULL }
};

static const struct cli_tool tool = { "corp-api",
	"seed 004's HTTP API over corp, with bearer tokens", opts, verbs,
	CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
