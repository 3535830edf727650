/*
 * run_opts.h -- the options of "corp-deliver run", one table for both
 * programs that parse them: corp-deliver (its run verb, for -h and
 * --cli-spec; it execs corp-deliver-run) and corp-deliver-run.  So
 * corp-deliver.1 run, corp-deliver-run.1, `corp-deliver run -h` and
 * `corp-deliver-run -h` cannot drift apart (tests/0990-cli.t).  Include
 * after cli.h and clisend.h; a tool's own options start at
 * O_RUN_NEXT.
 */
#ifndef CORP_RUN_OPTS_H
#define CORP_RUN_OPTS_H

enum { O_CHANNEL = 1, O_ONCE, O_MAX, O_UNTIL_EMPTY, O_WORKER, O_BATCH,
	O_LEASE, O_CONCURRENCY, O_INFLIGHT, O_RUN_NEXT };

/* --batch: a text, bounded by each verb (run 1..10000, ack 1..100000). */
#define RUN_OPTS							\
	{ O_CHANNEL, "channel", "C", "the channel",			\
	    .comp = CLI_C_CHANNEL },					\
	{ O_ONCE, "once", NULL, "run: one claim, then exit" },		\
	{ O_MAX, "max", "N", "run: exit after N rows", CLI_NUM },	\
	{ O_UNTIL_EMPTY, "until-empty", NULL,				\
	    "run: exit when nothing is due" },				\
	{ O_WORKER, "worker", "ID", "lease as worker ID: one live process "	\
	    "per ID, its old leases given back" },			\
	{ O_BATCH, "batch", "N", "rows per claim (run, 100) or acks per "	\
	    "transaction (ack, 256)" },					\
	{ O_LEASE, "lease", "DURATION", "how long a claim is leased (120s)",	\
	    CLI_DURATION },						\
	{ O_CONCURRENCY, "concurrency", "K", "run: K loops at once, each "	\
	    "with its own connection", CLI_NUM, 1, 32 },		\
	{ O_INFLIGHT, "inflight", "N", "run: telegram and webhook requests "	\
	    "in flight per loop (1)", CLI_NUM, 1, 64 },			\
	CLI_SENDER_OPTS

#define RUN_USES							\
	{ O_CHANNEL, CLI_REQ }, { O_ONCE }, { O_MAX }, { O_UNTIL_EMPTY },	\
	{ O_WORKER }, { O_BATCH }, { O_LEASE }, { O_CONCURRENCY },	\
	{ O_INFLIGHT },							\
	{ O_MAX_WAIT }, { O_ALLOW_HTTP }, { O_ALLOW }, { O_TIMEOUT },	\
	{ O_CONNECT_TIMEOUT }, { O_EXEC_TIMEOUT }, { O_OUT },		\
	{ O_SMTP_URL }, { O_FROM }, { O_SMTP_USER }

#define RUN_SUMMARY	"the delivery loop: claim, format, send, ack"

#endif
