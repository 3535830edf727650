/*
 * corp-tg -- the Telegram bot side of binding (DESIGN 6, corp-tg.1):
 * poll (getUpdates), cgi (the webhook, spooling updates) and process
 * (the spool).  Both ways a batch of updates goes through
 * corp_tgupdate_apply in one transaction with its effects (and,
 * polling, the new offset); the spool's files are lib/tgspool.c's;
 * replies are sent from tg_outbox after the commit.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "http.h"
#include "ratelimit.h"
#include "settings.h"
#include "telegram.h"
#include "tgbot.h"
#include "tgreply.h"
#include "tgspool.h"
#include "tgupdate.h"

enum { O_ONCE = 1, O_TIMEOUT, O_ALLOWHTTP, O_MAXWAIT };

static const struct cli_opt opts[] = {
	{ O_ONCE, "once", NULL, "one getUpdates round, its replies, a summary; exit" },
	{ O_TIMEOUT, "timeout", "SECONDS", "long-poll timeout (default 30)",
	    CLI_NUM, 0, 300 },
	{ O_ALLOWHTTP, "allow-http", NULL, "accept an http:// Bot API URL "
	    "(tests)" },
	{ O_MAXWAIT, "max-wait", "DURATION", "wait at most this long for "
	    "reply slots (default 5s)", CLI_DURATION },
	{ 0 }
};

/* getUpdates asks for at most this many at once (Telegram's maximum). */
#define POLL_LIMIT	100
/* While replies wait for their slot, a long poll lasts at most this. */
#define PENDING_TIMEOUT	1

static struct {
	int		 once, allow_http, timeout_set;
	long long	 timeout;	/* seconds */
	long long	 max_wait_ms;
} opt = { 0, 0, 0, 30, 5000 };

/* getUpdates' limit now: lowered while answers do not fit. */
static int poll_limit = POLL_LIMIT;

static struct {
	struct corp_db		*db;
	struct corp_tg_ctx	 ctx;
	struct corp_http	*send;
	struct corp_rl		*rl;
	char			*token;
	char			 bot[17];
} tg;

static struct corp_tg_counts stats;

static volatile sig_atomic_t stopping, in_wait;

static void
onsig(int sig)
{
	(void)sig;
	/* Nothing is uncommitted during the long poll: leave at once. */
	if (in_wait)
		_exit(0);
	stopping = 1;
}

/* The options into opt (cli_main has checked which the verb takes). */
static void
parse(const struct cli_args *a)
{
	opt.once = cli_has(a, O_ONCE);
	opt.timeout = cli_int(a, O_TIMEOUT, opt.timeout);
	opt.timeout_set = cli_has(a, O_TIMEOUT);
	opt.allow_http = cli_has(a, O_ALLOWHTTP);
	opt.max_wait_ms = cli_int(a, O_MAXWAIT, opt.max_wait_ms / 1000) *
	    1000;
}

/* What poll and process share: token, database, catalogs, sender. */
static void
setup(void)
{
	struct corp_http_opts ho = { 0, 10000, 30000, NULL, 0 };
	const char *api = corp_cfg.telegram_api;
	struct corp_err e;
	long long max_pause;

	if (corp_url_check(api, CORP_URL_HTTP, opt.allow_http,
	    "CORP_TELEGRAM_API", CORP_EUSAGE, &e) != 0)
		cli_usage("%s", e.msg);
	if (corp_tg_token(&tg.token, &e) != 0 ||
	    corp_tg_bot_id(tg.token, tg.bot, &e) != 0)
		cli_fail(&e);
	tg.db = cli_db(0);
	if (corp_tgupdate_ctx_init(tg.db, &tg.ctx, &e) != 0)
		cli_fail(&e);
	ho.allow_http = opt.allow_http;
	ho.ca_file = corp_cfg.ca_file;
	if (corp_http_open(&tg.send, &ho, &e) != 0)
		cli_fail(&e);
	if (!corp_cfg.rate_limit_off && corp_rl_open(&tg.rl, cli_rl_store(),
	    "telegram", tg.token, 30, corp_cfg.rate_margin, &e) != 0)
		cli_fail(&e);
	if (tg.rl != NULL) {
		if (corp_setting_duration(tg.db, "telegram.max_pause",
		    &max_pause, &e) != 0)
			cli_fail(&e);
		corp_rl_max_pause(tg.rl, max_pause * 1000);
	}
}

static void
teardown(void)
{
	corp_rl_close(tg.rl);
	corp_http_close(tg.send);
	corp_tgupdate_ctx_free(&tg.ctx);
	corp_db_close(tg.db);
	free(tg.token);
}

/*
 * Send the outbox.  A reply whose slot is further away than max_wait_ms
 * stays pending: poll passes 0, so that reading updates never waits on
 * a reply's pacing.
 */
static void
flush(long long max_wait_ms)
{
	struct corp_err e;

	if (corp_tgreply_flush(tg.db, tg.send, corp_cfg.telegram_api,
	    tg.token, tg.bot, tg.rl, max_wait_ms, &stats, &e) != 0)
		cli_fail(&e);
}

static void
warn(void *arg, const char *msg)
{
	(void)arg;
	cli_warn("%s", msg);
}

/* Returns the number of files set aside as not an update. */
static int
process_spool(void)
{
	struct corp_err e;
	int nbad;

	if (corp_tgspool_process(tg.db, &tg.ctx, tg.bot, &stopping, &stats,
	    warn, NULL, &nbad, &e) != 0)
		cli_fail(&e);
	return nbad;
}

static void
summary(void)
{
	json_t *o;

	if ((o = corp_tgupdate_counts_json(&stats)) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	cli_out(o);
	json_decref(o);
}

static int
cmd_process(const struct cli_args *a)
{
	int nbad;

	parse(a);
	setup();
	nbad = process_spool();
	flush(opt.max_wait_ms);
	teardown();
	summary();
	return nbad > 0 ? CORP_EINVAL : 0;
}

/* ---- poll ---------------------------------------------------------- */

/* getUpdates with the stored offset, its limit fitted to the answers. */
static int
get_updates(struct corp_http *h, long long off, int timeout, json_t **arr,
    char **raw, size_t *rawlen, struct corp_err *e)
{
	int rc;

	in_wait = timeout > 0;
	*raw = NULL;
	if (stopping) {
		in_wait = 0;
		*arr = json_array();
		return 0;
	}
	rc = corp_tg_get_updates_fit(h, corp_cfg.telegram_api, tg.token, off,
	    timeout, &poll_limit, arr, raw, rawlen, warn, NULL, e);
	in_wait = 0;
	return rc;
}

/*
 * The one update at offset OFF that jansson cannot read (RAW, its
 * answer's bytes): refused from its bytes, its codes burnt, and the
 * offset moved by one -- every id skipped is either absent or that
 * update (corp-tg.1, Poison updates).
 */
static void
refuse_unreadable(long long off, const char *raw, size_t len,
    struct corp_err *e)
{
	char why[sizeof(e->msg)];

	/* e: the getUpdates refusal, "... cannot be read (jansson's
	 * words)", cleaned by telegram.c. */
	snprintf(why, sizeof(why), "%s", e->msg);
	cli_warn("%s; the update at offset %lld refused and skipped, its "
	    "link codes burnt", why, off);
	stats.polled++;
	stats.refused++;
	if (corp_tgupdate_refuse_raw(tg.db, &tg.ctx, raw, len, why, tg.bot,
	    off >= 0 && off < LLONG_MAX ? off + 1 : -1, e) != 0)
		cli_fail(e);
	if (off < 0)
		cli_die(CORP_EINVAL, "telegram: getUpdates: no offset is "
		    "stored yet: no offset can pass the unreadable update "
		    "(see corp-tg(1) CAVEATS)");
}

/* One getUpdates call and its batch; returns the corp code of the call. */
static int
poll_once(struct corp_http *h, int timeout, struct corp_err *e)
{
	json_t *arr, *v;
	json_t **u;
	long long off, id, max = -1, next;
	size_t i, n, unusable = 0, rawlen = 0;
	char *raw;
	int rc;

	if ((rc = corp_tgupdate_offset_get(tg.db, tg.bot, &off, e)) != 0)
		return rc;
	if ((rc = get_updates(h, off, timeout, &arr, &raw, &rawlen, e)) != 0)
		return rc;
	if (raw != NULL) {
		refuse_unreadable(off, raw, rawlen, e);
		free(raw);
		return 0;
	}
	n = json_array_size(arr);
	/* A short answer: the backlog is read, full batches fit again. */
	if (n < (size_t)poll_limit)
		poll_limit = POLL_LIMIT;
	if (n == 0) {
		json_decref(arr);
		return 0;
	}
	if ((u = calloc(n, sizeof(*u))) == NULL)
		cli_die(CORP_EINTERNAL, "out of memory");
	json_array_foreach(arr, i, v) {
		u[i] = v;
		id = json_integer_value(json_object_get(v, "update_id"));
		if (!json_is_integer(json_object_get(v, "update_id")) ||
		    id < 0) {
			unusable++;
			continue;
		}
		/*
		 * An id beyond 2^53 - 1 (Telegram's never are) is refused
		 * as a poison update by the handler, and the offset moves
		 * exactly past it: jansson reads it as a 64-bit integer,
		 * never a double.  Only the largest 64-bit integer has no
		 * offset after it: never a wrapped one.
		 */
		if (id == LLONG_MAX)
			cli_die(CORP_EINVAL, "telegram: getUpdates: update_id "
			    "%lld is the largest 64-bit integer: no offset "
			    "can pass it; Telegram forgets an update after "
			    "24 hours (see corp-tg(1) CAVEATS)", id);
		if (id > max)
			max = id;
	}
	stats.polled += (long long)n;
	/*
	 * The offset moves past every update, refused ones included.  One
	 * without a usable id counts for none itself: the next offset is
	 * past the largest usable id and, when the batch holds such an
	 * update, never below the offset asked with plus the updates
	 * answered (getUpdates answers the lowest ids from the offset on,
	 * so none outside the batch lies below it): every such batch
	 * moves the offset (corp-tg.1).
	 */
	next = max >= 0 ? max + 1 : -1;
	if (unusable > 0 && off >= 0 && off <= LLONG_MAX - (long long)n &&
	    off + (long long)n > next)
		next = off + (long long)n;
	cli_debug("poll: %zu updates, next offset %lld", n, next);
	rc = corp_tgupdate_apply(tg.db, &tg.ctx, u, n, tg.bot, next, NULL,
	    &stats, warn, NULL, e);
	free(u);
	json_decref(arr);
	if (rc != 0)
		cli_fail(e);
	if (next < 0)
		cli_die(CORP_EINVAL, "telegram: getUpdates: no update of the "
		    "answer has a usable update_id and no offset is stored "
		    "yet: no offset can pass them (see corp-tg(1) CAVEATS)");
	return 0;
}

static int
cmd_poll(const struct cli_args *a)
{
	struct corp_http_opts ho = { 0, 10000, 0, NULL, 0 };
	struct corp_http *h;
	struct corp_err e;
	long long backoff = 1000;
	int fd, rc, timeout;

	parse(a);
	setup();
	if ((rc = corp_tgupdate_lock("poll", tg.bot, 0, &fd, &e)) != 0 &&
	    rc != CORP_ETEMP)
		cli_fail(&e);
	if (rc != 0)
		cli_die(CORP_ETEMP, "another corp-tg poll is running for this "
		    "bot (DATA_DIR/tg-poll-%s.lock is held)", tg.bot);
	ho.allow_http = opt.allow_http;
	ho.ca_file = corp_cfg.ca_file;
	ho.total_ms = (long)(opt.timeout + 15) * 1000;
	if (corp_http_open(&h, &ho, &e) != 0)
		cli_fail(&e);
	corp_http_body_max(h, CORP_TG_UPDATES_MAX);
	signal(SIGTERM, onsig);
	signal(SIGINT, onsig);
	if (!opt.once)
		cli_log_timed();	/* a loop (corp.7 Errors) */
	process_spool();
	flush(0);
	while (!stopping) {
		/* --once answers at once unless --timeout was given. */
		timeout = opt.once && !opt.timeout_set ? 0 : (int)opt.timeout;
		/* Replies waiting for their slot: come back for them soon. */
		if (stats.replies_pending > 0 && timeout > PENDING_TIMEOUT)
			timeout = PENDING_TIMEOUT;
		rc = poll_once(h, timeout, &e);
		if (rc == CORP_ECONFLICT)
			cli_die(CORP_ETEMP, "%s (another poller, or a webhook "
			    "is set for this bot)", e.msg);
		if (rc != 0 && (opt.once || rc != CORP_ETEMP))
			cli_fail(&e);
		if (rc != 0) {
			/* Telegram or the network is down: wait, bounded. */
			cli_warnerr(&e);
			corp_sleep_ms(backoff);
			backoff = backoff * 2 > 60000 ? 60000 : backoff * 2;
			continue;
		}
		backoff = 1000;
		flush(0);
		if (opt.once)
			break;
		if (corp_db_schema_check(tg.db, &e) != 0)
			cli_fail(&e);
	}
	corp_http_close(h);
	teardown();
	close(fd);
	if (opt.once)
		summary();
	return 0;
}

/* ---- cgi ----------------------------------------------------------- */

static int
cmd_cgi(const struct cli_args *a)
{
	struct corp_tgspool_answer ans;
	struct corp_err e;
	int rc;

	parse(a);
	if (corp_cfg.cgi_method == NULL)
		cli_die(CORP_EUSAGE, "cgi: REQUEST_METHOD is not set; run me "
		    "from a web server as a CGI program");
	rc = corp_tgspool_cgi(corp_cfg.cgi_method, corp_cfg.cgi_tg_secret,
	    corp_cfg.cgi_content_length, stdin, &ans, &e);
	if (ans.status == 0)
		cli_fail(&e);
	if ((rc != 0 || ans.duplicate) && e.msg[0] != '\0')
		cli_warnerr(&e);
	printf("Status: %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n",
	    ans.status, ans.reason);
	if (ans.status == 405)
		printf("Allow: POST\r\n");
	printf("\r\n%s\n", ans.text);
	return rc;
}

#define U(...) (const struct cli_use[]){ __VA_ARGS__, { 0 } }
static const struct cli_verb verbs[] = {
	{ "poll", cmd_poll, "take updates with getUpdates and answer them",
	    NULL, 0, 0, U({ O_ONCE }, { O_TIMEOUT }, { O_ALLOWHTTP }) },
	{ "process", cmd_process, "handle the updates the webhook spooled",
	    NULL, 0, 0, U({ O_ALLOWHTTP }, { O_MAXWAIT }) },
	{ "cgi", cmd_cgi, "the webhook: spool one update (CGI)" },
	{ NULL }
};

static const struct cli_tool tool = { "corp-tg",
	"the Telegram bot side of binding", opts, verbs, CLI_COMMON_ALL };

int
main(int argc, char **argv)
{
	cli_main(&tool, argc, argv);
}
