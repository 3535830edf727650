/* execcmd.c -- see execcmd.h. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "clock.h"
#include "execcmd.h"
#include "fsutil.h"
#include "send.h"

#define KEEP	4096	/* bytes of stdout/stderr kept */

int
corp_exec_lookup(const char *name, char **path, struct corp_err *err)
{
	struct stat st;
	char *conf, *buf, *line, *next, *eq;
	int rc, lineno = 0;

	*path = NULL;
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
			corp_errf(err, rc, "no exec command \"%s\" (no file "
			    "%s)", name, conf);
		free(conf);
		return rc;
	}
	rc = corp_errf(err, CORP_ENOTFOUND, "no exec command \"%s\" in %s",
	    name, conf);
	for (line = buf; line != NULL; line = next) {
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
		if (strcmp(line, name) != 0)
			continue;
		if (*eq != '/')
			rc = corp_errf(err, CORP_EINVAL, "%s:%d: the command "
			    "must be an absolute path", conf, lineno);
		else if ((*path = strdup(eq)) == NULL)
			rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		else
			rc = 0;
		break;
	}
	free(buf);
	free(conf);
	return rc;
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

int
corp_exec_capture(const char *path, const char *input, size_t len,
    long long timeout_ms, size_t max_out, struct corp_exec_out *r)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	char ebuf[KEEP], tmp[4096];
	size_t elen = 0, off = 0;
	long long deadline = corp_mono_ms() + timeout_ms, left;
	int status = 0, i;
	struct pollfd pfd[3];
	pid_t pid;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	if ((r->out = malloc(max_out + 1)) == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return -1;
	}
	r->out[0] = '\0';
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
	    pipe2(er, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		snprintf(r->error, sizeof(r->error), "exec: %s",
		    strerror(errno));
		for (i = 0; i < 2; i++) {
			if (in[i] >= 0) close(in[i]);
			if (out[i] >= 0) close(out[i]);
			if (er[i] >= 0) close(er[i]);
		}
		return -1;
	}
	if (pid == 0) {
		char *argv[2];

		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(er[1], 2);
		argv[0] = (char *)path;
		argv[1] = NULL;
		execv(path, argv);
		dprintf(2, "cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);	/* either side may win the race */
	close(in[0]);
	close(out[1]);
	close(er[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (len == 0) {
		close(in[1]);
		in[1] = -1;
	}
	for (;;) {
		pfd[0].fd = in[1];
		pfd[0].events = POLLOUT;
		pfd[1].fd = out[0];
		pfd[1].events = POLLIN;
		pfd[2].fd = er[0];
		pfd[2].events = POLLIN;
		if (in[1] < 0 && out[0] < 0 && er[0] < 0)
			break;
		if ((left = deadline - corp_mono_ms()) <= 0) {
			r->timedout = 1;
			break;
		}
		if (poll(pfd, 3, left > 1000 ? 1000 : (int)left) < 0 &&
		    errno != EINTR)
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
		for (i = 1; i < 3; i++) {
			int *fd = i == 1 ? &out[0] : &er[0];
			char *b = i == 1 ? r->out : ebuf;
			size_t *bl = i == 1 ? &r->len : &elen;
			size_t cap = i == 1 ? max_out : KEEP;

			if (*fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(*fd, tmp, sizeof(tmp));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				close(*fd);
				*fd = -1;
				continue;
			}
			if (i == 1 && (size_t)n > cap - *bl)
				r->truncated = 1;
			if (*bl < cap) {
				size_t k = (size_t)n < cap - *bl ?
				    (size_t)n : cap - *bl;

				memcpy(b + *bl, tmp, k);
				*bl += k;
			}
		}
	}
	r->out[r->len] = '\0';
	if (in[1] >= 0) close(in[1]);
	if (out[0] >= 0) close(out[0]);
	if (er[0] >= 0) close(er[0]);
	if (r->timedout)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!r->timedout)
		kill(-pid, SIGKILL);	/* leftovers of the group */
	first_line(ebuf, elen, r->error, sizeof(r->error));
	r->status = status;
	return 0;
}

void
corp_exec_run(const char *path, const char *input, size_t len,
    long long timeout_ms, struct corp_send_res *res)
{
	struct corp_exec_out r;
	const char *msg;
	int status;

	corp_send_res_init(res);
	if (corp_exec_capture(path, input, len, timeout_ms, KEEP, &r) != 0) {
		corp_send_set(res, CORP_SEND_RETRY, "%s", r.error);
		res->attempted = 0;
		free(r.out);
		return;
	}
	status = r.status;
	msg = r.error;
	if (r.timedout)
		corp_send_set(res, CORP_SEND_RETRY, "exec: %s: no answer "
		    "within %lld s; killed", path, timeout_ms / 1000);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		first_line(r.out, r.len, res->provider_id,
		    sizeof(res->provider_id));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == CORP_ETEMP)
		corp_send_set(res, CORP_SEND_RETRY, "%s", msg[0] ? msg :
		    "exec: exit 75");
	else if (WIFEXITED(status))
		corp_send_set(res, CORP_SEND_FAILED, "%s", msg[0] ? msg :
		    "exec: non-zero exit");
	else
		corp_send_set(res, CORP_SEND_FAILED, "exec: killed by "
		    "signal %d", WTERMSIG(status));
	if (!r.timedout && WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
	    !msg[0])
		snprintf(res->error, sizeof(res->error), "exec: exit %d",
		    WEXITSTATUS(status));
	free(r.out);
}
