/*
 * corp-api -- seed 004's HTTP API over corp (corp-api.1): one process,
 * libwebsockets for every byte of HTTP, lib/api.c for what a request
 * means, a forked child per started analysis run for its batches.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
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
#include "db.h"
#include "fsutil.h"
#include "proposer.h"
#include "text.h"

enum { O_LISTEN = 1, O_SOCKET, O_MAXBODY, O_PROPOSER, O_TIMEOUT, O_LEASE,
	O_FAILS, O_WINDOW, O_CERT, O_KEY };

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
	int		 head_sent, close_after;
	int		 answered;	/* the body that may follow is dropped */
};

static struct corp_api api;
static struct corp_proposer proposer;
static size_t max_body = 1 << 20;
static volatile sig_atomic_t stopping;
static struct lws_context *ctx;

static void
pss_reset(struct pss *s)
{
	free(s->path);
	json_decref(s->query);
	if (s->auth != NULL) {
		explicit_bzero(s->auth, strlen(s->auth));
		free(s->auth);
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
	if ((pid = fork()) == -1) {
		warn("run %lld: no worker (the run fails when its lease "
		    "ends)", run);
		return;
	}
	if (pid != 0)
		return;
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	closefrom(3);
	if ((rc = corp_db_open(&db, 0, &e)) == 0) {
		rc = corp_analysis_work(db, job, &proposer, &e);
		corp_db_close(db);
	}
	if (rc != 0)
		warnx("run %lld: %s", run, e.msg);
	else
		warnx("run %lld: completed", run);
	_exit(rc == 0 ? 0 : 1);
}

/*
 * A request-derived string as the log may show it: at most 255 bytes
 * (cut at a character's start, then "..."), and cleaned by the one
 * cleaner of outside text (text.h corp_server_text: controls, C1,
 * format characters and bytes of invalid UTF-8 become '?'), so that
 * no client writes escapes or bidi overrides to the operator's terminal.
 */
static const char *
log_text(char *buf, size_t size, const char *src)
{
	size_t n;

	if (snprintf(buf, size, "%s", src) >= (int)size) {
		n = size - 4;
		while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
			n--;
		memcpy(buf + n, "...", 4);
	}
	corp_server_text(buf);
	return buf;
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
	warnx("%s \"%s %s\" %d %s", log_text(lp, sizeof(lp), s->peer),
	    log_text(lm, sizeof(lm), s->method), log_text(lpath,
	    sizeof(lpath), s->path ? s->path : "-"), s->status,
	    log_text(lu, sizeof(lu), r->user[0] ? r->user : "-"));
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

static void
handle(struct lws *wsi, struct pss *s)
{
	struct corp_api_req q = { s->method, s->path, s->query, s->auth,
	    s->peer, s->body, s->len };
	struct corp_api_resp r;
	struct corp_err e;

	if (api.db == NULL && corp_db_open(&api.db, 0, &e) != 0) {
		api.db = NULL;
		warnx("%s", e.msg);
		respond_error(wsi, s, 503, "database unavailable");
		return;
	}
	corp_api_handle(&api, &q, &r);
	if (r.job != NULL) {
		spawn_worker(r.job, r.job_run);
		corp_analysis_job_free(r.job);
	}
	respond(wsi, s, &r);
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

/* The query's name=value pieces, decoded by libwebsockets. */
static json_t *
query_of(struct lws *wsi)
{
	json_t *q = json_object();
	char buf[1024], *eq;
	int i;

	for (i = 0; q != NULL && lws_hdr_copy_fragment(wsi, buf, sizeof(buf),
	    WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
		if ((eq = strchr(buf, '=')) == NULL)
			continue;
		*eq++ = '\0';
		json_object_set_new(q, buf, json_string(eq));
	}
	return q;
}

static int
begin(struct lws *wsi, struct pss *s, const char *in)
{
	const char *m;
	char *uri, *cl;
	int ulen, mi;
	long long n;
	const char *es = NULL;

	pss_reset(s);
	s->started = 1;
	mi = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	m = method_name(mi);
	snprintf(s->method, sizeof(s->method), "%s", m ? m : "?");
	lws_get_peer_simple(wsi, s->peer, sizeof(s->peer));
	if (s->peer[0] == '\0')
		snprintf(s->peer, sizeof(s->peer), "unix");
	s->path = strdup(in != NULL ? in : "/");
	s->query = query_of(wsi);
	s->auth = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (s->path == NULL || s->query == NULL) {
		respond_error(wsi, s, 500, "out of memory");
		return 0;
	}
	if (m == NULL) {
		respond_error(wsi, s, 405, "method not allowed");
		return 0;
	}
	if ((cl = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH)) != NULL) {
		n = strtonum(cl, 0, LLONG_MAX, &es);
		free(cl);
		if (es != NULL) {
			s->close_after = 1;
			respond_error(wsi, s, 400, "Content-Length: not a "
			    "number");
			return 0;
		}
		if ((unsigned long long)n > max_body) {
			/* Refused before a byte of it is read. */
			s->close_after = 1;
			respond_error(wsi, s, 413, "request body too large");
			return 0;
		}
		if (n > 0)
			return 0;	/* the body comes next */
	}
	/* libwebsockets 4.1 hands no chunked request body on: refused,
	 * rather than read as an empty one. */
	if ((cl = header(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING)) != NULL) {
		free(cl);
		s->close_after = 1;
		respond_error(wsi, s, 411, "a request body needs "
		    "Content-Length (no chunked bodies)");
		return 0;
	}
	handle(wsi, s);
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

static int
write_some(struct lws *wsi, struct pss *s)
{
	unsigned char hb[LWS_PRE + 512], *p = hb + LWS_PRE, *end = hb +
	    sizeof(hb) - 1;
	char ra[24];
	size_t n;
	int last;

	if (s->out == NULL)
		return -1;
	if (!s->head_sent) {
		if (lws_add_http_common_headers(wsi, (unsigned)s->status,
		    "application/json", s->out_len, &p, end))
			return -1;
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
		if (s->close_after && lws_add_http_header_by_token(wsi,
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
	if (s->close_after)
		return -1;
	s->started = 0;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

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
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (s->answered)
			return 0;	/* refused on its headers */
		if (s->too_big) {
			s->close_after = 1;
			respond_error(wsi, s, 413, "request body too large");
		} else
			handle(wsi, s);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (s == NULL || s->out == NULL)
			return 0;
		return write_some(wsi, s);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (s != NULL)
			pss_reset(s);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{ "http", callback, sizeof(struct pss), 0, 0, NULL, 0 },
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

static void
lws_log(int level, const char *line)
{
	(void)level;
	fprintf(stderr, "corp-api: libwebsockets: %s", line);
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
 * What is at the --socket path may go only when it is a stale socket of
 * the running user's: a socket (lstat: never a link's target), owned by
 * the euid, that nobody listens on (connect: ECONNREFUSED).  Anything
 * else stays, and corp-api stops naming it.
 */
static void
stale_socket(const char *path)
{
	struct sockaddr_un sun;
	struct stat sb;
	int fd, r, en;

	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return;
		cli_die(CORP_EINTERNAL, "--socket %s: %s", path,
		    strerror(errno));
	}
	if (!S_ISSOCK(sb.st_mode))
		cli_die(CORP_EFORBIDDEN, "--socket %s: exists and is not a "
		    "socket; corp-api replaces only a stale socket of its "
		    "own: remove it or choose another path", path);
	if (sb.st_uid != geteuid())
		cli_die(CORP_EFORBIDDEN, "--socket %s: a socket of uid %lu, "
		    "not of the running user; remove it or choose another "
		    "path", path, (unsigned long)sb.st_uid);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		cli_die(CORP_EUSAGE, "--socket %s: path too long", path);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		cli_die(CORP_EINTERNAL, "socket: %s", strerror(errno));
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	en = errno;
	close(fd);
	if (r == 0)
		cli_die(CORP_EINTERNAL, "--socket %s: in use (a server "
		    "listens on it)", path);
	if (en != ECONNREFUSED)
		cli_die(CORP_EINTERNAL, "--socket %s: %s", path,
		    strerror(en));
	if (unlink(path) != 0 && errno != ENOENT)
		cli_die(CORP_EINTERNAL, "--socket %s: %s", path,
		    strerror(errno));
}

static int
cmd_serve(const struct cli_args *a)
{
	struct lws_context_creation_info info;
	struct corp_err e;
	const char *sock = cli_str(a, O_SOCKET), *p = cli_str(a, O_PROPOSER);
	char *addr = NULL;
	long long timeout_s = cli_int(a, O_TIMEOUT, 120);
	json_t *ready;
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
	if (sock == NULL)
		listen_addr(cli_str(a, O_LISTEN), &addr, &port);
	if (sock == NULL && !cli_has(a, O_CERT) && !loopback(addr))
		cli_usage("--listen %s: plain HTTP on an address that is not "
		    "loopback would carry bearer tokens in clear; give --cert "
		    "and --key, or use --socket PATH or 127.0.0.1 / [::1] "
		    "behind a reverse proxy", cli_str(a, O_LISTEN));
	/* The TLS key is a secret: judged as one, and the process keeps
	 * it out of core dumps and /proc from then on. */
	if (cli_has(a, O_KEY) && corp_trust_secret(cli_str(a, O_KEY), &e) != 0)
		cli_fail(&e);
	api.db = cli_db(0);
	/* The proposer is checked now, not in the first run's worker. */
	if (corp_proposer_init(api.db, &proposer, p ? p : "builtin", NULL,
	    NULL, timeout_s * 1000, &e) != 0)
		cli_fail(&e);
	api.proposer = proposer.name;
	/* A stale socket of an earlier server goes; any other file stays. */
	if (sock != NULL)
		stale_socket(sock);

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
	info.max_http_header_data = 8192;
	info.server_string = "corp-api";
	if (sock != NULL) {
		info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
		info.iface = sock;
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
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cli_str(a, O_CERT);
		info.ssl_private_key_filepath = cli_str(a, O_KEY);
	}
	if ((ctx = lws_create_context(&info)) == NULL)
		cli_die(CORP_EINTERNAL, "cannot listen on %s", sock ? sock :
		    cli_str(a, O_LISTEN));
	if (sock == NULL)
		port = lws_get_vhost_listen_port(lws_get_vhost_by_name(ctx,
		    "default"));
	ready = sock ? json_pack("{ss}", "socket", sock) :
	    json_pack("{ss si}", "address", addr, "port", port);
	cli_out(ready);
	json_decref(ready);
	if (fflush(stdout) == EOF)
		cli_die(CORP_EINTERNAL, "stdout: %s", strerror(errno));
	while (!stopping && lws_service(ctx, 0) >= 0)
		;
	lws_context_destroy(ctx);
	corp_proposer_free(&proposer);
	if (api.db != NULL)
		corp_db_close(api.db);
	free(addr);
	return 0;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "", cmd_serve, "serve the API until SIGTERM", NULL, 0, 0,
	    U({ O_LISTEN, CLI_REQ, 1 }, { O_SOCKET, 0, 1 }, { O_MAXBODY },
	    { O_PROPOSER }, { O_TIMEOUT }, { O_LEASE }, { O_FAILS },
	    { O_WINDOW }, { O_CERT }, { O_KEY }) },
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
