/*
 * execcmd.h -- the exec transport: commands named by the operator in
 * DATA_DIR/exec.conf ("NAME=/absolute/path" per line, # comments; the
 * file must not be readable or writable by group or others: the
 * commands run with corp's privileges).  A bind only picks a NAME.
 */
#ifndef CORP_EXECCMD_H
#define CORP_EXECCMD_H

#include <signal.h>
#include <stddef.h>

struct corp_cmd;
struct corp_err;
struct corp_sendres;

/* The command of NAME (fresh allocation); CORP_ENOTFOUND when none,
 * CORP_EFORBIDDEN when exec.conf's mode is unsafe. */
int	corp_exec_lookup(const char *name, char **path, struct corp_err *);
/* The same, with the descriptors of the file judged (corp_exec_open) in
 * *cmd, for corp_exec_run and corp_exec_capture; the caller closes them
 * (corp_cmd_close). */
int	corp_exec_lookup_fd(const char *name, char **path, struct corp_cmd *,
	    struct corp_err *);
/* Every command name, in file order, NULL-terminated (free with
 * corp_exec_names_free); CORP_ENOTFOUND when there is no exec.conf. */
int	corp_exec_names(char ***names, struct corp_err *);
void	corp_exec_names_free(char **);

/*
 * Run cmd (from corp_exec_lookup_fd: the file judged; path is its
 * name, argv[0] and in messages) with fexecve(3), with no arguments and
 * no shell (a "#!ENV NAME" script: NAME's file judged, by its
 * descriptor, the script as /dev/fd/N; fsutil.h), in its own process group (a script's readable descriptor
 * opened again for each run, so that it is read from the start),
 * input on its stdin; wait at most timeout_ms, then kill the group.
 * Exit 0: sent, provider_id = the first line of stdout; 75: retry;
 * anything else: failed; the error is stderr's first line.  A timeout
 * is retry.  The command dies with the caller (PR_SET_PDEATHSIG
 * SIGKILL); a caller that itself dies with its parent (a corp-deliver
 * run worker) kills the command's group as soon as that parent is gone
 * (retry, orphaned set), rather than waiting for the deadline.
 */
/*
 * Stopping a command on a signal (issue 16b item 4): a tool that runs
 * commands has its SIGTERM, SIGINT and SIGHUP handler set
 * corp_exec_interrupt to the signal's number while corp_exec_running is
 * set (cmd/cli.c cli_exec_signals).  The run in progress then sends its
 * command's process group SIGTERM, waits at most CORP_EXEC_TERM_MS for
 * the command to exit, sends the group SIGKILL, reaps the command and
 * reports interrupted (corp_exec_run: retry, "exec: PATH: interrupted
 * by signal N; killed"); no run starts while it is set.
 */
extern volatile sig_atomic_t corp_exec_interrupt, corp_exec_running;
#define CORP_EXEC_TERM_MS	2000

void	corp_exec_run(const struct corp_cmd *, const char *path,
	    const char *input, size_t len, long long timeout_ms,
	    struct corp_sendres *);

/*
 * Run path as corp_exec_run does and keep what it said: at most max_out
 * bytes of stdout in out (NUL-terminated; truncated set when there was
 * more), the first line of stderr in error, the wait status.  -1 (error
 * set) when it could not be started.  The caller frees out.
 */
struct corp_exec_out {
	char	*out;
	size_t	 len;
	int	 truncated, timedout, status;
	int	 orphaned;	/* killed: the caller dies with its parent
				 * (PR_SET_PDEATHSIG) and the parent is gone */
	int	 interrupted;	/* killed: corp_exec_interrupt's signal */
	char	 error[256];
};
int	corp_exec_capture(const struct corp_cmd *, const char *path,
	    const char *input, size_t len, long long timeout_ms, size_t max_out,
	    struct corp_exec_out *);

#endif
