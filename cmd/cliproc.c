/*
 * cliproc.c -- K child processes under one parent (cli.h cli_fanout):
 * corp-deliver run --concurrency.  Process wiring stays in cmd/ (it
 * forks, waits and exits); what a child does is the caller's.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corp.h"
#include "cli.h"
#include "deliver.h"

/* The parent waits in sigsuspend for this. */
static void
on_child(int sig)
{
	(void)sig;
}

/*
 * Child i: die with the parent, killed -9 included: SIGTERM, so that the
 * child stops as on the parent's own (its work stored, its locks free
 * for a restart).  The parent may be gone already, before prctl: then
 * stop at once (SIGTERM is blocked until the mask is restored, and
 * nothing is open yet).
 */
__attribute__((noreturn)) static void
start_child(int i, int k, int fd, pid_t ppid, const sigset_t *mask,
    void (*child)(int, int, int, void *), void *arg)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		cli_die(CORP_EINTERNAL, "prctl: %s", strerror(errno));
	if (getppid() != ppid)
		_exit(0);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	child(i, k, fd, arg);
	_exit(CORP_EINTERNAL);		/* child does not return */
}

/* The children's lines, read once all are written: they fit the pipe. */
static void
read_lines(int fd, int (*merge)(const char *, void *), void *marg)
{
	char buf[4096], *acc = NULL, *nl, *p;
	size_t nacc = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			cli_die(CORP_EINTERNAL, "summary pipe: %s",
			    strerror(errno));
		}
		if ((p = realloc(acc, nacc + (size_t)r + 1)) == NULL)
			cli_die(CORP_EINTERNAL, "out of memory");
		acc = p;
		memcpy(acc + nacc, buf, (size_t)r);
		nacc += (size_t)r;
		acc[nacc] = '\0';
	}
	for (p = acc; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		if (merge(p, marg) != 0)
			cli_warn("a child's summary is not JSON: %s", p);
	}
	free(acc);
}

int
cli_fanout(int k, volatile sig_atomic_t *stopping,
    void (*child)(int i, int k, int sumfd, void *), void *arg,
    int (*merge)(const char *line, void *), void *marg)
{
	struct sigaction sa;
	sigset_t block, old;
	pid_t pids[CLI_FANOUT_MAX], pid, self = getpid();
	int fds[2], i, n = 0, live, st, code, worst = 0, told = 0;

	if (k > CLI_FANOUT_MAX)
		k = CLI_FANOUT_MAX;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (pipe2(fds, O_CLOEXEC) != 0)
		cli_die(CORP_EINTERNAL, "pipe: %s", strerror(errno));
	fflush(NULL);
	for (i = 0; i < k && !*stopping; i++) {
		if ((pid = fork()) < 0) {
			cli_warn("fork: %s", strerror(errno));
			worst = corp_exit_worse(worst, CORP_EINTERNAL);
			*stopping = 1;
			break;
		}
		if (pid == 0) {
			close(fds[0]);
			start_child(i + 1, k, fds[1], self, &old, child, arg);
		}
		pids[n++] = pid;
	}
	close(fds[1]);
	for (live = n; live > 0; ) {
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			for (i = 0; i < n; i++) {
				if (pids[i] != pid)
					continue;
				pids[i] = -1;
				live--;
				code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
				worst = corp_exit_worse(worst, code);
				/* 3 and 78 are what a child found in the
				 * rows, not a failure: the others go on. */
				if (code != 0 && code != CORP_EXIT_DLQ &&
				    code != CORP_ECONFIG)
					*stopping = 1;
			}
		if (live == 0)
			break;
		if (*stopping && !told) {
			for (i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGTERM);
			told = 1;
		}
		sigsuspend(&old);
	}
	read_lines(fds[0], merge, marg);
	close(fds[0]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return worst;
}

void
cli_fanout_send(int fd, const json_t *line)
{
	char *s = NULL, *l = NULL;

	if (line != NULL && (s = json_dumps(line, JSON_COMPACT)) != NULL &&
	    corp_asprintf(&l, "%s\n", s) >= 0 &&
	    write(fd, l, strlen(l)) != (ssize_t)strlen(l))
		cli_warn("summary pipe: %s", strerror(errno));
	free(l);
	free(s);
}
