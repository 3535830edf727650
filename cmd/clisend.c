/*
 * clisend.c -- the sender options of corp-send and corp-deliver run
 * (clisend.h), read from the option table into struct corp_sender_opts.
 */
#include <stddef.h>
#include <stdlib.h>

#include "cli.h"
#include "clisend.h"
#include "corp.h"
#include "db.h"
#include "netaddr.h"
#include "ratelimit.h"
#include "sender.h"

void
cli_sender_opts_get(const struct cli_args *a, struct corp_sender_opts *opt,
    struct corp_cidr **allow)
{
	const char *const *cidr;
	struct corp_err e;
	size_t i, n;

	if (cli_has(a, O_ALLOW_HTTP))
		opt->allow_http = 1;
	if (cli_has(a, O_MAX_WAIT))
		opt->max_wait_ms = cli_int(a, O_MAX_WAIT, 0) * 1000;
	if (cli_has(a, O_TIMEOUT))
		opt->total_ms = (long)cli_int(a, O_TIMEOUT, 0) * 1000;
	if (cli_has(a, O_CONNECT_TIMEOUT))
		opt->connect_ms = (long)cli_int(a, O_CONNECT_TIMEOUT, 0) * 1000;
	if (cli_has(a, O_EXEC_TIMEOUT))
		opt->exec_ms = (long)cli_int(a, O_EXEC_TIMEOUT, 0) * 1000;
	if (cli_has(a, O_OUT))
		opt->out = cli_str(a, O_OUT);
	if (cli_has(a, O_SMTP_URL))
		opt->smtp_url = cli_str(a, O_SMTP_URL);
	if (cli_has(a, O_FROM))
		opt->from = cli_str(a, O_FROM);
	if (cli_has(a, O_SMTP_USER))
		opt->smtp_user = cli_str(a, O_SMTP_USER);
	cidr = cli_multi(a, O_ALLOW, &n);
	for (i = 0; i < n; i++)
		if (corp_cidr_add(allow, &opt->nallow, cidr[i], &e) != 0)
			cli_usage("--allow: %s", e.msg);
	opt->allow = *allow;
	opt->rl_store = cli_rl_store();
}

static struct corp_rl_store *rl_store;

static void
rl_store_free(void)
{
	corp_rl_store_free(rl_store);
	rl_store = NULL;
}

struct corp_rl_store *
cli_rl_store(void)
{
	struct corp_err e;

	if (rl_store != NULL || !corp_db_spec_is_pg(corp_cfg.db))
		return rl_store;
	if (corp_rl_store_db(&rl_store, NULL, &e) != 0)
		cli_fail(&e);
	atexit(rl_store_free);
	return rl_store;
}
