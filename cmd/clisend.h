/*
 * clisend.h -- the sender options corp-send and corp-deliver run share
 * (corp-send.1, corp-deliver.1 run): one table, so the two usages and
 * man pages cannot drift apart.  Include after cli.h.
 * The ids are fixed (40..50): a tool's own options take 1..39.
 */
#ifndef CORP_CLISEND_H
#define CORP_CLISEND_H

struct corp_cidr;
struct corp_sender_opts;

enum { O_ALLOW_HTTP = 40, O_MAX_WAIT, O_TIMEOUT, O_CONNECT_TIMEOUT, O_ALLOW,
	O_OUT, O_EXEC_TIMEOUT, O_SMTP_URL, O_FROM, O_SMTP_USER, O_MAX_PAUSE };

#define CLI_SENDER_OPTS							\
	{ O_ALLOW_HTTP, "allow-http", NULL,				\
	    "allow http:// to a loopback host (a local fake)" },	\
	{ O_MAX_WAIT, "max-wait", "DURATION",				\
	    "longest wait for a rate-limit slot (5s)", CLI_DURATION },	\
	{ O_TIMEOUT, "timeout", "DURATION",				\
	    "total time of one request (30s)", CLI_DURATION },						\
	{ O_CONNECT_TIMEOUT, "connect-timeout", "DURATION",		\
	    "connection set-up (10s)", CLI_DURATION },			\
	{ O_ALLOW, "allow", "CIDR", "webhook: an address range allowed "	\
	    "(repeatable)", CLI_MULTI },				\
	{ O_OUT, "out", "FILE", "file: the outbox", .comp = CLI_C_FILE },	\
	{ O_EXEC_TIMEOUT, "exec-timeout", "DURATION",			\
	    "exec: time bound of a command (30s)", CLI_DURATION },	\
	{ O_SMTP_URL, "smtp-url", "URL", "email: the server (smtp.conf)" },					\
	{ O_FROM, "from", "ADDRESS", "email: the sender (smtp.conf)" },	\
	{ O_SMTP_USER, "smtp-user", "NAME", "email: the login (smtp.conf)" }

/* The sender options a tool was given, into opt (which holds the
 * defaults, corp_sender_opts_init); --allow ranges into *allow (the
 * caller frees it).  A bad range is a usage error (64). */
void	cli_sender_opts_get(const struct cli_args *, struct corp_sender_opts *,
	    struct corp_cidr **allow);

#endif
