/* execcmd.c -- see execcmd.h. */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "clock.h"
#include "execcmd.h"
#include "text.h"
#include "fsutil.h"
#include "sendres.h"
#include "webhookconf.h"

#define KEEP	4096	/* bytes of stdout/stderr kept */

/*
 * Parse exec.conf, calling fn(name, path, line, arg) for each command
 * until it returns non-zero (then that value).  CORP_ENOTFOUND (message
 * "no file PATH") when there is no file.
 */
static int
conf_each(int (*fn)(const char *, const char *, const char *, int, void *,
    struct corp_err *), void *arg, struct corp_err *err)
{
	struct stat st;
	char *conf, *buf, *line, *next, *eq;
	int rc, lineno = 0;

	if ((rc = corp_data_path(&conf, "exec.conf", err)) != 0)
		return rc;
	if (stat(conf, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		rc = corp_errf(err, CORP_EFORBIDDEN, "%s: mode %03o: "
		    "group or others may use it; chmod 600 it", conf,
		    (unsigned)(st.st_mode & 0777));
		free(conf);
		return rc;
	}
	if ((rc = corp_read_conf(conf, 1024 * 1024, &buf, NULL, err)) != 0) {
		if (rc == CORP_ENOTFOUND)
			corp_errf(err, rc, "no file %s", conf);
		free(conf);
		return rc;
	}
	for (line = buf, rc = 0; rc == 0 && line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			rc = corp_errf(err, CORP_EINVAL, "%s:%d: expected "
			    "NAME=/absolute/path", conf, lineno);
			break;
		}
		*eq++ = '\0';
		/* Every line is judged, not only the one looked up: a
		 * half-parsed file would hold rows for the wrong reason. */
		if (!corp_webhook_name_ok(line)) {
			rc = corp_errf(err, CORP_EINVAL, "%s:%d: '%s' is not "
			    "a command name (1-64 of A-Z a-z 0-9 _ . -, not "
			    "starting with a dot)", conf, lineno, line);
			break;
		}
		if (*eq != '/') {
			rc = corp_errf(err, CORP_EINVAL, "%s:%d: the command "
			    "must be an absolute path", conf, lineno);
			break;
		}
		rc = fn(line, eq, conf, lineno, arg, err);
	}
	free(buf);
	free(conf);
	return rc;
}

struct lookup {
	const char	*name;
	char		*path;
};

static int
lookup_one(const char *name, const char *path, const char *conf, int lineno,
    void *arg, struct corp_err *err)
{
	struct lookup *l = arg;

	(void)conf;
	(void)lineno;
	if (strcmp(name, l->name) != 0 || l->path != NULL)
		return 0;
	if ((l->path = strdup(path)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	return 0;	/* the rest of the file is still judged */
}

int
corp_exec_lookup(const char *name, char **path, struct corp_err *err)
{
	struct corp_cmd cmd;
	int rc;

	if ((rc = corp_exec_lookup_fd(name, path, &cmd, err)) == 0)
		corp_cmd_close(&cmd);
	return rc;
}

int
corp_exec_lookup_fd(const char *name, char **path, struct corp_cmd *cmd,
    struct corp_err *err)
{
	struct lookup l = { name, NULL };
	char *conf;
	int rc;

	*path = NULL;
	cmd->fd = cmd->ifd = -1;
	cmd->iname[0] = cmd->ipath[0] = '\0';
	rc = conf_each(lookup_one, &l, err);
	if (rc != 0) {
		free(l.path);
		l.path = NULL;
	}
	if (rc == 0 && l.path != NULL) {
		/* StrictModes, each time the command is about to be used:
		 * whoever may write it or a directory above it runs code
		 * as corp.  The file judged is the one run: its
		 * descriptor goes to fexecve. */
		if ((rc = corp_exec_open(l.path, cmd, err)) != 0) {
			free(l.path);
			return rc;
		}
		*path = l.path;
		return 0;
	}
	if (rc == CORP_ENOTFOUND)
		corp_errprefix(err, "no exec command \"%s\"", name);
	if (rc != 0)
		return rc;
	if ((rc = corp_data_path(&conf, "exec.conf", err)) != 0)
		return rc;
	rc = corp_errf(err, CORP_ENOTFOUND, "no exec command \"%s\" in %s",
	    name, conf);
	free(conf);
	return rc;
}

struct names {
	char	**v;
	size_t	  n;
};

static int
add_name(const char *name, const char *path, const char *conf, int lineno,
    void *arg, struct corp_err *err)
{
	struct names *ns = arg;
	char **v;

	(void)path;
	(void)conf;
	(void)lineno;
	if ((v = reallocarray(ns->v, ns->n + 2, sizeof(*v))) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	ns->v = v;
	if ((v[ns->n] = strdup(name)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "out of memory");
	v[++ns->n] = NULL;
	return 0;
}

int
corp_exec_names(char ***names, struct corp_err *err)
{
	struct names ns = { NULL, 0 };
	int rc;

	*names = NULL;
	if ((rc = conf_each(add_name, &ns, err)) == 0 && ns.v == NULL &&
	    (ns.v = calloc(1, sizeof(*ns.v))) == NULL)
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
	if (rc != 0) {
		corp_exec_names_free(ns.v);
		return rc;
	}
	*names = ns.v;
	return 0;
}

void
corp_exec_names_free(char **names)
{
	size_t i;

	for (i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

/* The first line of buf, at most 200 bytes, in out. */
static void
first_line(const char *buf, size_t len, char *out, size_t size)
{
	size_t n = 0;

	while (n < len && buf[n] != '\n' && buf[n] != '\r' && buf[n] != '\0')
		n++;
	if (n > 200)
		n = 200;
	if (n >= size)
		n = size - 1;
	memcpy(out, buf, n);
	out[n] = '\0';
}

/*
 * The child's whole environment (corp-send.1 "exec"): what config.c
 * kept of corp's (PATH, HOME, LANG, LC_*, TZ; a default PATH when there
 * was none), then CORP_DATA_DIR, CORP_NOW and CORP_TZ as corp uses them
 * (the effective values, --data-dir and --now included).  Never a
 * secret, never CORP_DB.  NULL when out of memory.
 */
static char **
child_env(void)
{
	static char *home;
	static int home_done;
	struct passwd *pw;
	char **env, **v;
	size_t i, n = 0, cap;
	int path = 0;

	for (v = corp_cfg.child_env; v != NULL && *v != NULL; v++)
		n++;
	cap = n + 6;
	if ((env = calloc(cap, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((env[i] = strdup(corp_cfg.child_env[i])) == NULL)
			goto oom;
		path |= strncmp(env[i], "PATH=", 5) == 0;
	}
	if (!path && (env[n++] = strdup("PATH=/usr/local/bin:/usr/bin:/bin"))
	    == NULL)
		goto oom;
	if (corp_cfg.data_dir != NULL && corp_asprintf(&env[n++],
	    "CORP_DATA_DIR=%s", corp_cfg.data_dir) < 0)
		goto oom;
	if (corp_cfg.now != NULL && corp_asprintf(&env[n++], "CORP_NOW=%s",
	    corp_cfg.now) < 0)
		goto oom;
	if (corp_cfg.tz != NULL && corp_asprintf(&env[n++], "CORP_TZ=%s",
	    corp_cfg.tz) < 0)
		goto oom;
	/*
	 * HOME: the running user's home from the password database, never
	 * corp's own: under su without -, or sudo -E, HOME is another
	 * user's, and zsh (~/.zshenv), python (the user site) and node
	 * (~/.node_modules) run files from it (fresh-eyes round 20a).
	 * None when the user has no entry.  Looked up once a process (a
	 * run sends many lines), not at every tool's start.
	 */
	if (!home_done) {
		home_done = 1;
		if ((pw = getpwuid(geteuid())) != NULL && pw->pw_dir != NULL &&
		    pw->pw_dir[0] == '/' && (home = strdup(pw->pw_dir)) ==
		    NULL) {
			home_done = 0;
			goto oom;
		}
	}
	if (home != NULL && corp_asprintf(&env[n++], "HOME=%s", home) < 0)
		goto oom;
	return env;
oom:
	for (i = 0; i < cap; i++)
		free(env[i]);
	free(env);
	return NULL;
}

static void
env_free(char **env)
{
	char **v;

	for (v = env; v != NULL && *v != NULL; v++)
		free(*v);
	free(env);
}

/* A pollable descriptor that becomes readable when pid exits; -1 when
 * the kernel has none (then the caller polls waitid with a short
 * timeout). */
static int
exit_fd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

volatile sig_atomic_t corp_exec_interrupt, corp_exec_running;

/* Has pid exited?  Leaves it a zombie (WNOWAIT): its process group id
 * stays taken until the caller has killed the group and reaped it. */
static int
exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && si.si_pid == pid;
}

/* Read what fd holds now into b (keeping at most cap, *bl so far): 1
 * when it read something, 0 when nothing is there yet, -1 at end of
 * file or on an error. */
static int
take(int fd, char *b, size_t *bl, size_t cap, int *truncated)
{
	char tmp[4096];
	ssize_t n;
	size_t k;

	n = read(fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	if (truncated != NULL && (size_t)n > cap - *bl)
		*truncated = 1;
	if (*bl < cap) {
		k = (size_t)n < cap - *bl ? (size_t)n : cap - *bl;
		memcpy(b + *bl, tmp, k);
		*bl += k;
	}
	return 1;
}

/*
 * The deadline covers the child's whole life (issue 16.5): reading its
 * output, and waiting for it after it closed its output.  The loop ends
 * when the child has exited (what it wrote is then drained, and what is
 * left of its process group killed) or at the deadline (the group is
 * killed).  Only then is it reaped, so the group id cannot be reused
 * while it is signalled.
 */
/*
 * The descriptor to run for FD (corp_exec_open's): a readable one (a
 * script) gets a description of its own, opened again through /proc
 * from the descriptor judged (no name looked up), kept in *ownp (else
 * -1); *readp: whether it is readable (the child rewinds it, the only
 * thing left to do without /proc).
 */
static int
run_fd(int fd, int *ownp, int *readp)
{
	char fdpath[40];
	int fl;

	*ownp = -1;
	*readp = (fl = fcntl(fd, F_GETFL)) >= 0 && !(fl & O_PATH);
	if (fd < 0 || !*readp)
		return fd;
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	if ((*ownp = open(fdpath, O_RDONLY | O_NOCTTY | O_CLOEXEC)) >= 0)
		return *ownp;
	return fd;
}

/* In the child: FD out of the way of 0, 1 and 2 (a caller started with
 * one of them closed), rewound when readable. */
static int
child_fd(int fd, int readable)
{
	if (fd >= 0 && fd <= 2)
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (fd >= 0 && readable)
		lseek(fd, 0, SEEK_SET);
	return fd;
}

int
corp_exec_capture(const struct corp_cmd *cmd, const char *path,
    const char *input, size_t len, long long timeout_ms, size_t max_out,
    struct corp_exec_out *r)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	int pfd_exit = -1, done = 0, status = 0, i;
	char ebuf[KEEP], **env;
	size_t elen = 0, off = 0;
	long long deadline = corp_mono_ms() + timeout_ms, left;
	struct pollfd pfd[4];
	pid_t pid, self = getpid(), pp = getppid();
	ssize_t n;
	int pdeath = 0, runfd, ownfd, rd, irunfd, cwd = -1;

	memset(r, 0, sizeof(*r));
	/* From here the caller's signal handler leaves the command's
	 * group to us (execcmd.h); one that came before starts none. */
	corp_exec_running = 1;
	if (corp_exec_interrupt) {
		r->interrupted = corp_exec_interrupt;
		snprintf(r->error, sizeof(r->error), "interrupted by signal "
		    "%d", (int)corp_exec_interrupt);
		corp_exec_running = 0;
		return -1;
	}
	if ((r->out = malloc(max_out + 1)) == NULL ||
	    (env = child_env()) == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		corp_exec_running = 0;
		return -1;
	}
	r->out[0] = '\0';
	/*
	 * A script's descriptor is readable (corp_exec_open): perl reads
	 * descriptor N of /dev/fd/N itself, from its offset, so each run
	 * gets a description of its own, opened again through /proc from
	 * the descriptor judged (no name looked up), and a run never
	 * starts where an earlier run of the same descriptor stopped (a
	 * proposer runs its command many times).  Without /proc, the
	 * child rewinds the one it has.
	 */
	runfd = run_fd(cmd->fd, &ownfd, &rd);
	irunfd = cmd->ifd;
	/*
	 * The command's working directory is the data directory (the
	 * operator's, judged; "/" without one), never corp's own: an
	 * interpreter reads files from there by name (pyenv's
	 * .python-version, R's .Rprofile, lua's ./?.lua, php's include
	 * path), and cron's or a shell's directory may be /tmp, where
	 * anyone plants them (fresh-eyes round 17b).
	 */
	if (corp_cfg.data_dir != NULL)
		cwd = open(corp_cfg.data_dir, O_PATH | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
	    pipe2(er, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		snprintf(r->error, sizeof(r->error), "exec: %s",
		    strerror(errno));
		if (ownfd >= 0)
			close(ownfd);
		if (cwd >= 0)
			close(cwd);
		for (i = 0; i < 2; i++) {
			if (in[i] >= 0) close(in[i]);
			if (out[i] >= 0) close(out[i]);
			if (er[i] >= 0) close(er[i]);
		}
		env_free(env);
		corp_exec_running = 0;
		return -1;
	}
	if (pid == 0) {
		char *argv[3], dev[40];

		/* The command dies with the process that runs it (a
		 * corp-deliver run worker killed -9 included); that
		 * process may be gone before prctl: then at once. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
		    getppid() != self)
			_exit(127);
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		runfd = child_fd(runfd, rd);
		irunfd = child_fd(irunfd, 0);
		if ((cwd >= 0 ? fchdir(cwd) : chdir("/")) != 0) {
			dprintf(er[1], "cannot run %s: chdir to the data "
			    "directory: %s\n", path, strerror(errno));
			_exit(127);
		}
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(er[1], 2);
		/* No descriptor of corp's caller reaches the command
		 * (fresh-eyes round 20a: a cron job's or a shell's fd 10):
		 * every one above 2 closes at the exec, but for those the
		 * exec needs, opened again below. */
		if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
			for (i = 3; i < 4096; i++)
				(void)fcntl(i, F_SETFD, FD_CLOEXEC);
		/* The file judged, by its descriptor: never the name again
		 * (a link swapped since is not followed).  A script's
		 * interpreter opens /dev/fd/N, so the descriptor stays open
		 * across this exec. */
		fcntl(runfd, F_SETFD, 0);
		if (irunfd >= 0 || cmd->ipath[0] != '\0') {
			/* "#!ENV NAME": what env would run, as env would
			 * run it (argv[0] NAME, the script as /dev/fd/N),
			 * the file judged (fsutil.h corp_cmd): env never
			 * looks NAME up (corp.7 SECURITY). */
			snprintf(dev, sizeof(dev), "/dev/fd/%d", runfd);
			argv[0] = (char *)cmd->iname;
			argv[1] = dev;
			argv[2] = NULL;
			if (irunfd >= 0)
				fexecve(irunfd, argv, env);
			else
				execve(cmd->ipath, argv, env);
			dprintf(2, "cannot run %s: env's %s: %s\n", path,
			    cmd->iname, strerror(errno));
			_exit(127);
		}
		argv[0] = (char *)path;
		argv[1] = NULL;
		fexecve(runfd, argv, env);
		if (errno == ENOENT)	/* the file is open: /dev/fd */
			dprintf(2, "cannot run %s: its interpreter is "
			    "missing, or /dev/fd is (a script is run by "
			    "descriptor: /dev/fd/N)\n", path);
		else
			dprintf(2, "cannot run %s: %s\n", path,
			    strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);	/* either side may win the race */
	env_free(env);
	if (ownfd >= 0)
		close(ownfd);
	if (cwd >= 0)
		close(cwd);
	pfd_exit = exit_fd(pid);
	close(in[0]);
	close(out[1]);
	close(er[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(er[0], F_SETFL, O_NONBLOCK);
	if (len == 0) {
		close(in[1]);
		in[1] = -1;
	}
	/* A process set to die with its parent (a corp-deliver run
	 * worker) does not wait for its command once that parent is gone:
	 * its SIGTERM breaks the poll, and the command is killed now, not
	 * at the deadline, so that the worker gives its leases back. */
	if (prctl(PR_GET_PDEATHSIG, &pdeath) != 0)
		pdeath = 0;
	while (!done) {
		if ((left = deadline - corp_mono_ms()) <= 0) {
			r->timedout = 1;
			break;
		}
		if (pdeath != 0 && getppid() != pp) {
			r->orphaned = 1;
			break;
		}
		if (corp_exec_interrupt) {
			r->interrupted = corp_exec_interrupt;
			break;
		}
		pfd[0].fd = in[1];
		pfd[0].events = POLLOUT;
		pfd[1].fd = out[0];
		pfd[1].events = POLLIN;
		pfd[2].fd = er[0];
		pfd[2].events = POLLIN;
		pfd[3].fd = pfd_exit;
		pfd[3].events = POLLIN;
		for (i = 0; i < 4; i++)
			pfd[i].revents = 0;
		if (left > 1000)
			left = 1000;
		if (pfd_exit < 0 && left > 20)
			left = 20;	/* no pidfd: look at the child often */
		if (poll(pfd, 4, (int)left) < 0 && errno != EINTR)
			break;
		if (in[1] >= 0 && pfd[0].revents) {
			n = write(in[1], input + off, len - off);
			if (n > 0)
				off += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    off == len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (out[0] >= 0 && pfd[1].revents &&
		    take(out[0], r->out, &r->len, max_out, &r->truncated) < 0) {
			close(out[0]);
			out[0] = -1;
		}
		if (er[0] >= 0 && pfd[2].revents &&
		    take(er[0], ebuf, &elen, KEEP, NULL) < 0) {
			close(er[0]);
			er[0] = -1;
		}
		done = exited(pid);
	}
	/* A signal to the caller: the group gets SIGTERM and a short
	 * while to go, the command (its leader) watched, not reaped. */
	if (r->interrupted && !done) {
		kill(-pid, SIGTERM);
		for (deadline = corp_mono_ms() + CORP_EXEC_TERM_MS;
		    !(done = exited(pid)) && corp_mono_ms() < deadline; ) {
			pfd[0].fd = pfd_exit;
			pfd[0].events = POLLIN;
			(void)poll(pfd, 1, pfd_exit >= 0 ? 100 : 20);
		}
		done = 0;	/* what it wrote then is not its answer */
	}
	/* Its group goes with it: leftovers on exit, everything past the
	 * deadline or after a signal.  The child is not reaped yet, so the
	 * id is ours. */
	kill(-pid, SIGKILL);
	/* What it wrote before exiting is in the pipes: at most a pipe's
	 * buffer each, so a writer outside the group cannot keep us. */
	for (i = 0; done && i < 256 && out[0] >= 0 && take(out[0], r->out,
	    &r->len, max_out, &r->truncated) > 0; i++)
		;
	for (i = 0; done && i < 256 && er[0] >= 0 && take(er[0], ebuf,
	    &elen, KEEP, NULL) > 0; i++)
		;
	r->out[r->len] = '\0';
	if (in[1] >= 0) close(in[1]);
	if (out[0] >= 0) close(out[0]);
	if (er[0] >= 0) close(er[0]);
	if (pfd_exit >= 0) close(pfd_exit);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	first_line(ebuf, elen, r->error, sizeof(r->error));
	r->status = status;
	corp_exec_running = 0;
	return 0;
}

void
corp_exec_run(const struct corp_cmd *cmd, const char *path, const char *input,
    size_t len, long long timeout_ms, struct corp_sendres *res)
{
	struct corp_exec_out r;
	const char *msg;
	int status;

	corp_sendres_init(res);
	if (corp_exec_capture(cmd, path, input, len, timeout_ms, KEEP, &r)
	    != 0) {
		corp_sendres_set(res, CORP_SEND_RETRY, "%s", r.error);
		res->attempted = 0;
		free(r.out);
		return;
	}
	status = r.status;
	msg = r.error;
	if (r.interrupted)
		/* It may have acted: retry, as after a timeout. */
		corp_sendres_set(res, CORP_SEND_RETRY, "exec: %s: "
		    "interrupted by signal %d; killed", path, r.interrupted);
	else if (r.orphaned)
		corp_sendres_set(res, CORP_SEND_RETRY, "exec: %s: killed: the "
		    "process that runs corp's workers is gone", path);
	else if (r.timedout)
		corp_sendres_set(res, CORP_SEND_RETRY, "exec: %s: no answer "
		    "within %lld s; killed", path, timeout_ms / 1000);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		/* The child's words, printable only, as its error is
		 * (corp.7 Untrusted text; fresh-eyes round 13). */
		first_line(r.out, r.len, res->provider_id,
		    sizeof(res->provider_id));
		corp_server_text(res->provider_id);
	}
	else if (WIFEXITED(status) && WEXITSTATUS(status) == CORP_ETEMP)
		corp_sendres_set(res, CORP_SEND_RETRY, "%s", msg[0] ? msg :
		    "exec: exit 75");
	else if (WIFEXITED(status))
		corp_sendres_set(res, CORP_SEND_FAILED, "%s", msg[0] ? msg :
		    "exec: non-zero exit");
	else
		corp_sendres_set(res, CORP_SEND_FAILED, "exec: killed by "
		    "signal %d", WTERMSIG(status));
	if (!r.timedout && !r.orphaned && !r.interrupted &&
	    WIFEXITED(status) && WEXITSTATUS(status) != 0 && !msg[0])
		snprintf(res->error, sizeof(res->error), "exec: exit %d",
		    WEXITSTATUS(status));
	free(r.out);
}
