/*
 * clisig.c -- a tool that runs exec commands stops them on SIGTERM,
 * SIGINT and SIGHUP (lib/execcmd.h; corp-send.1, corp-analysis.1).  Its
 * own archive member, linked only into the tools that call it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "execcmd.h"

static void
on_signal(int sig)
{
	/* A command runs: its run kills its group and reports; the
	 * tool dies of the signal after that (cli_exec_interrupted). */
	if (corp_exec_running) {
		corp_exec_interrupt = sig;
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void
cli_exec_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* An ignored signal (nohup) stays ignored. */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

void
cli_exec_interrupted(void)
{
	int sig = corp_exec_interrupt;

	if (sig == 0)
		return;
	(void)fflush(stdout);
	(void)fflush(stderr);
	signal(sig, SIG_DFL);
	raise(sig);
}
