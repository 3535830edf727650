/*
 * execfd.c -- an exec command is judged on the path as written and the
 * file judged is the file run (fsutil.h corp_exec_open, execcmd.h;
 * issue 16, round 3 item 1).  The swap a racing attacker would make
 * between the check and the exec is made here, deterministically,
 * between corp_exec_open and corp_exec_capture.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "execcmd.h"
#include "fsutil.h"
#include "tap.h"

static char dir[64];

static void
script(const char *name, const char *word)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		exit(99);
	fprintf(f, "#!/bin/sh\necho %s\n", word);
	fclose(f);
	chmod(path, 0755);
}

/* Write TEXT to PATH with MODE; exits 99 (the harness failed) when it
 * cannot. */
static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL || fputs(text, f) < 0 ||
	    fclose(f) != 0 || chmod(path, mode) != 0)
		exit(99);
}

/* What the command behind fd printed, "" when it could not be run. */
static char *
run(const struct corp_cmd *c, const char *shown)
{
	static char buf[300];
	struct corp_exec_out r;

	buf[0] = '\0';
	if (corp_exec_capture(c, shown, "", 0, 10000, 200, &r) == 0 &&
	    WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
		snprintf(buf, sizeof(buf), "%s", r.out);
	else
		snprintf(buf, sizeof(buf), "(%s)", r.error);
	free(r.out);
	return buf;
}

int
main(void)
{
	struct corp_err e;
	char link[128], tmp[128], pub[128], want[1200], a[128], b[128];
	struct corp_cmd c, c2;

	/* /tmp is sticky and root's: its entries are judged. */
	snprintf(dir, sizeof(dir), "/tmp/corp-execfd.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 99;
	script("a", "A");
	script("b", "B");
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	snprintf(link, sizeof(link), "%s/cmd", dir);
	snprintf(tmp, sizeof(tmp), "%s/cmd.new", dir);
	if (symlink("a", link) != 0)
		return 99;

	is_int(corp_exec_open(link, &c, &e), 0, "a link in a safe "
	    "directory to a safe script is judged safe");
	/* The attacker's move, after the check: the link now names b. */
	if (symlink(b, tmp) != 0 || rename(tmp, link) != 0)
		return 99;
	is_str(run(&c, link), "A\n", "the file run is the file judged "
	    "(the link swapped after the check is not followed)");
	corp_cmd_close(&c);
	is_int(corp_exec_open(link, &c2, &e), 0, "judged again");
	is_str(run(&c2, link), "B\n", "a fresh check runs what the link "
	    "names now");
	corp_cmd_close(&c2);

	/* A link kept in a directory others may write: refused, naming
	 * the directory, though its target is safe. */
	snprintf(pub, sizeof(pub), "%s/pub", dir);
	mkdir(pub, 0777);
	chmod(pub, 0777);
	snprintf(tmp, sizeof(tmp), "%s/pub/cmd", dir);
	if (symlink(a, tmp) != 0)
		return 99;
	is_int(corp_exec_open(tmp, &c, &e), CORP_EFORBIDDEN,
	    "a link in a world-writable directory: 77");
	snprintf(want, sizeof(want), "exec command %s: %s: world-writable "
	    "(mode 777); chmod go-w %s", tmp, pub, pub);
	is_str(e.msg, want, "names the directory that holds the link");
	/* A link that leads through such a directory: its target walked. */
	snprintf(tmp, sizeof(tmp), "%s/via", dir);
	if (symlink("pub/../a", tmp) != 0)
		return 99;
	is_int(corp_exec_open(tmp, &c, &e), CORP_EFORBIDDEN,
	    "a link whose target passes through it: 77");
	snprintf(want, sizeof(want), "exec command %s: %s: world-writable "
	    "(mode 777); chmod go-w %s", tmp, pub, pub);
	is_str(e.msg, want, "  names it as the link spells it");
	chmod(pub, 0755);
	is_int(corp_exec_open(tmp, &c, &e), 0, "fixed: passes");
	if (c.fd >= 0) {
		is_str(run(&c, tmp), "A\n", "  and runs a");
		corp_cmd_close(&c);
	}
	/* In a sticky directory only the link's owner may swap it: a
	 * link someone else owns is refused (needs root to make). */
	if (geteuid() == 0) {
		char sticky[128];

		snprintf(sticky, sizeof(sticky), "%s/st", dir);
		mkdir(sticky, 0755);
		chmod(sticky, 01777);
		snprintf(tmp, sizeof(tmp), "%s/st/cmd", dir);
		if (symlink(a, tmp) != 0 || lchown(tmp, 65534, 65534) != 0)
			return 99;
		/* Root's sticky directories alone are exempt: chown root. */
		is_int(corp_exec_open(tmp, &c, &e), CORP_EFORBIDDEN,
		    "a link another user owns in a sticky directory: 77");
		ok(strstr(e.msg, "/st/cmd: owned by ") != NULL,
		    "  names the link and its owner: %s", e.msg);
		if (lchown(tmp, 0, 0) != 0)
			return 99;
		is_int(corp_exec_open(tmp, &c, &e), 0, "  root's: passes");
		if (c.fd >= 0)
			corp_cmd_close(&c);
	} else
		printf("# not root: a link cannot be given away; skipped\n");
	/* A script's #! interpreter runs with corp's rights: it is walked
	 * the same way (sec-review-4 item 2). */
	{
		char ev[96], in[96], sc[96], line[300];
		FILE *f;
		int i;

		snprintf(ev, sizeof(ev), "%s/evil", dir);
		mkdir(ev, 0777);
		chmod(ev, 0777);
		snprintf(in, sizeof(in), "%s/evil/interp", dir);
		if (symlink("/bin/sh", in) != 0)
			return 99;
		snprintf(sc, sizeof(sc), "%s/s", dir);
		snprintf(line, sizeof(line), "#!  %s -e\necho S\n", in);
		if ((f = fopen(sc, "w")) == NULL || fputs(line, f) < 0 ||
		    fclose(f) != 0)
			return 99;
		chmod(sc, 0755);
		is_int(corp_exec_open(sc, &c, &e), CORP_EFORBIDDEN,
		    "a script whose #! interpreter lies in a world-writable "
		    "directory: 77");
		snprintf(want, sizeof(want), "exec command %s: %s: #! "
		    "interpreter %s: %s: world-writable (mode 777); chmod "
		    "go-w %s", sc, sc, in, ev, ev);
		is_str(e.msg, want, "  names the script, the interpreter and "
		    "the fix");
		chmod(ev, 0755);
		is_int(corp_exec_open(sc, &c, &e), 0, "fixed: passes");
		if (c.fd >= 0) {
			is_str(run(&c, sc), "S\n", "  and runs");
			corp_cmd_close(&c);
		}
		/* A relative interpreter is looked up from the cwd. */
		if ((f = fopen(sc, "w")) == NULL || fputs("#!sh\n", f) < 0 ||
		    fclose(f) != 0)
			return 99;
		is_int(corp_exec_open(sc, &c, &e), CORP_EFORBIDDEN,
		    "a relative #! interpreter: 77");
		snprintf(want, sizeof(want), "exec command %s: %s: #! "
		    "interpreter sh: not an absolute path", sc, sc);
		is_str(e.msg, want, "  says so");
		/* Nested interpreters (wrappers named as interpreters are,
		 * sh1..sh6): judged to the kernel's depth (a
		 * chain of 5 scripts runs, a 6th is ELOOP). */
		for (i = 1; i <= 6; i++) {
			snprintf(tmp, sizeof(tmp), "%s/sh%d", dir, i);
			if (i == 1)
				snprintf(line, sizeof(line), "#!/bin/sh\n");
			else
				snprintf(line, sizeof(line), "#!%s/sh%d\n", dir,
				    i - 1);
			if ((f = fopen(tmp, "w")) == NULL ||
			    fputs(line, f) < 0 || fclose(f) != 0)
				return 99;
			chmod(tmp, 0755);
		}
		snprintf(tmp, sizeof(tmp), "%s/sh5", dir);
		is_int(corp_exec_open(tmp, &c, &e), 0, "a chain of five "
		    "scripts: passes");
		if (c.fd >= 0) {
			is_str(run(&c, tmp), "", "  and runs");
			corp_cmd_close(&c);
		}
		snprintf(tmp, sizeof(tmp), "%s/sh6", dir);
		is_int(corp_exec_open(tmp, &c, &e), CORP_EFORBIDDEN,
		    "six: 77, as the kernel's ELOOP");
		ok(strstr(e.msg, "a chain of more than 5 scripts") != NULL,
		    "  says so: %s", e.msg);
		snprintf(tmp, sizeof(tmp), "%s/sh1", dir);
		snprintf(line, sizeof(line), "#!%s/none\n", dir);
		if ((f = fopen(tmp, "w")) == NULL || fputs(line, f) < 0 ||
		    fclose(f) != 0)
			return 99;
		/* The script is there: no command "not installed yet",
		 * a bad #! line (sec-review-9 item 9). */
		is_int(corp_exec_open(tmp, &c, &e), CORP_EFORBIDDEN,
		    "a missing interpreter: 77");
		snprintf(want, sizeof(want), "exec command %s: %s: #! "
		    "interpreter %s/none: no such file; install it, or name "
		    "one that is there", tmp, tmp, dir);
		is_str(e.msg, want, "  names it");
		/* env runs what its argument names: only "#!ENV NAME", a
		 * bare command name (sec-review-5 item 1). */
		{
			static const char *const bad[] = {
				"/usr/bin/env /tmp/e/interp",
				"/usr/bin/env -S PATH=/tmp/e interp",
				"/usr/bin/env -i sh",
				"/usr/bin/env -u X sh",
				"/usr/bin/env -- sh",
				"/usr/bin/env X=1 sh",
				"/usr/bin/env sh -e",
				"/usr/bin/env ./interp",
				"/usr/bin/env e/interp",
				"/usr/bin/env",
				"DIR/myenv /tmp/e/interp",
			};
			size_t k;

			snprintf(tmp, sizeof(tmp), "%s/myenv", dir);
			if (symlink("/usr/bin/env", tmp) != 0)
				return 99;
			snprintf(tmp, sizeof(tmp), "%s/sh1", dir);
			for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
				char l2[200];

				if (strncmp(bad[k], "DIR", 3) == 0)
					snprintf(l2, sizeof(l2), "%s%s", dir,
					    bad[k] + 3);
				else
					snprintf(l2, sizeof(l2), "%s", bad[k]);
				snprintf(line, sizeof(line), "#!%s\necho E\n",
				    l2);
				if ((f = fopen(tmp, "w")) == NULL ||
				    fputs(line, f) < 0 || fclose(f) != 0)
					return 99;
				is_int(corp_exec_open(tmp, &c, &e),
				    CORP_EFORBIDDEN, "#!%s: 77", l2);
				snprintf(want, sizeof(want), "exec command "
				    "%s: %s: #! line \"#!%s\": env runs",
				    tmp, tmp, l2);
				ok(strncmp(e.msg, want, strlen(want)) == 0,
				    "  names the line: %s", e.msg);
			}
			if ((f = fopen(tmp, "w")) == NULL ||
			    fputs("#!/usr/bin/env  sh \necho E\n", f) < 0 ||
			    fclose(f) != 0)
				return 99;
			is_int(corp_exec_open(tmp, &c, &e), 0,
			    "#!/usr/bin/env sh: passes");
			if (c.fd >= 0) {
				is_str(run(&c, tmp), "E\n", "  and runs");
				corp_cmd_close(&c);
			}
		}
	}
	/* perl reads descriptor N of /dev/fd/N itself (sec-review-10
	 * item 3): the descriptor of a script is readable, and each run
	 * reads it from the start, as a proposer runs one descriptor
	 * many times. */
	if (access("/usr/bin/perl", X_OK) == 0) {
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s/p", dir);
		if ((f = fopen(tmp, "w")) == NULL || fputs("#!/usr/bin/perl\n"
		    "print qq(P\\n);\n", f) < 0 || fclose(f) != 0)
			return 99;
		chmod(tmp, 0755);
		is_int(corp_exec_open(tmp, &c, &e), 0, "a perl script: "
		    "passes");
		ok(c.fd >= 0 && !(fcntl(c.fd, F_GETFL) & O_PATH), "  its "
		    "descriptor can be read");
		if (c.fd >= 0) {
			is_str(run(&c, tmp), "P\n", "  and runs");
			is_str(run(&c, tmp), "P\n", "  and runs again, from "
			    "the start");
			corp_cmd_close(&c);
		}
		snprintf(tmp, sizeof(tmp), "%s/a", dir);
		is_int(corp_exec_open(tmp, &c, &e), 0, "a sh script: passes");
		if (c.fd >= 0) {
			is_str(run(&c, tmp), "A\n", "  and runs");
			is_str(run(&c, tmp), "A\n", "  and again");
			corp_cmd_close(&c);
		}
	} else
		printf("# no /usr/bin/perl: skipped\n");
	is_int(corp_exec_open("/bin/true", &c, &e), 0, "a binary: passes");
	ok(c.fd >= 0 && (fcntl(c.fd, F_GETFL) & O_PATH), "  its descriptor is "
	    "O_PATH (it need not be readable)");
	if (c.fd >= 0) {
		is_str(run(&c, "/bin/true"), "", "  and runs");
		corp_cmd_close(&c);
	}
	/*
	 * "#!/usr/bin/env NAME": corp runs NAME's file as judged, by its
	 * descriptor, as env would (argv[0] NAME, the script /dev/fd/N);
	 * env does not look NAME up again.  The swap a racing attacker
	 * would make between the judgement and env's lookup (round 16)
	 * is made here: NAME on the PATH then names another program.
	 */
	{
		static char pathv[2400], *envv[2];
		char pbin[128], sh[160], shnew[1300], sc[160], body[1300];

		snprintf(pbin, sizeof(pbin), "%s/pbin", dir);
		snprintf(sh, sizeof(sh), "%s/sh", pbin);
		snprintf(shnew, sizeof(shnew), "%s/sh.new", pbin);
		snprintf(sc, sizeof(sc), "%s/viaenv", dir);
		snprintf(pathv, sizeof(pathv), "PATH=%s:/usr/bin:/bin", pbin);
		envv[0] = pathv;
		envv[1] = NULL;
		corp_cfg.child_env = envv;
		if (mkdir(pbin, 0755) != 0 || symlink("/bin/sh", sh) != 0)
			return 99;
		put(sc, "#!/usr/bin/env sh\necho \"$0\" | cut -c1-8\n", 0755);
		is_int(corp_exec_open(sc, &c, &e), 0, "#!/usr/bin/env sh: "
		    "passes");
		ok(c.ifd >= 0 && strcmp(c.iname, "sh") == 0, "  sh's file "
		    "kept, named sh");
		/* The attacker's move: sh on the PATH is now another
		 * program, one that would say so (a wrapper script named
		 * as an interpreter, sh9, which corp would accept). */
		snprintf(want, sizeof(want), "%s/sh9", pbin);
		put(want, "#!/bin/sh\necho A\n", 0755);
		if (symlink(want, shnew) != 0 || rename(shnew, sh) != 0)
			return 99;
		is_str(run(&c, sc), "/dev/fd/\n", "  the sh judged runs the "
		    "script as /dev/fd/N, not what sh names now");
		corp_cmd_close(&c);
		ok(c.fd == -1 && c.ifd == -1, "  both descriptors closed");
		/* Judged again, the new sh (a wrapper script, its own #!
		 * judged) is what runs: env would have run it the first
		 * time. */
		is_int(corp_exec_open(sc, &c, &e), 0, "judged again: passes");
		is_str(run(&c, sc), "A\n", "  and runs what sh names now");
		corp_cmd_close(&c);
		/* A wrapper found by env sees the path it was found at as
		 * its $0, as under env: shims (pyenv's) pick what to run
		 * by their own name. */
		put(shnew, "#!/bin/sh\necho \"$0\"\n", 0755);
		if (rename(shnew, sh) != 0)
			return 99;
		is_int(corp_exec_open(sc, &c, &e), 0, "a wrapper named sh on "
		    "the PATH: passes");
		snprintf(want, sizeof(want), "%s\n", sh);
		is_str(run(&c, sc), want, "  and sees its own path as $0");
		corp_cmd_close(&c);
		/* env passes over a NAME it cannot run for the next entry's:
		 * NAME must be runnable, and every entry is judged, those
		 * after NAME's too (fresh-eyes round 17b). */
		snprintf(want, sizeof(want), "%s/pbin0", dir);
		snprintf(shnew, sizeof(shnew), "%s/sh", want);
		if (mkdir(want, 0755) != 0)
			return 99;
		put(shnew, "#!/bin/sh\necho not runnable\n", 0644);
		snprintf(pathv, sizeof(pathv), "PATH=%s:%s", want, pbin);
		is_int(corp_exec_open(sc, &c, &e), CORP_EFORBIDDEN, "NAME not "
		    "executable on the PATH: 77");
		ok(strstr(e.msg, "cannot be run (not executable") != NULL,
		    "  says so: %s", e.msg);
		corp_cmd_close(&c);
		snprintf(pathv, sizeof(pathv), "PATH=%s:%s/nosuch", pbin, dir);
		is_int(corp_exec_open(sc, &c, &e), CORP_EFORBIDDEN, "a missing "
		    "PATH entry after NAME's: 77");
		ok(strstr(e.msg, "nosuch, which does not exist") != NULL,
		    "  names it: %s", e.msg);
		corp_cmd_close(&c);
		corp_cfg.child_env = NULL;
		/* A wrapper is an interpreter by its name as a program is: a
		 * script named otherwise (bzmore, perldoc) does something
		 * else with the script's path. */
		snprintf(want, sizeof(want), "%s/pager", dir);
		put(want, "#!/bin/sh\necho paged\n", 0755);
		snprintf(body, sizeof(body), "#!%s\necho ran\n", want);
		put(sc, body, 0755);
		is_int(corp_exec_open(sc, &c, &e), CORP_EFORBIDDEN, "a wrapper "
		    "script named pager as the interpreter: 77");
		ok(strstr(e.msg, "pager is not an interpreter corp runs") !=
		    NULL, "  says so: %s", e.msg);
		corp_cmd_close(&c);
	}
	/* A script straight in a directory others may make names in,
	 * even a sticky one: python puts the script's directory before
	 * its standard library (another user's /tmp/json.py). */
	{
		char st[64] = "/tmp/corp-execfd-direct.XXXXXX";
		int sfd;

		if ((sfd = mkstemp(st)) < 0 || write(sfd, "#!/bin/sh\n", 10)
		    != 10 || fchmod(sfd, 0755) != 0)
			return 99;
		close(sfd);
		is_int(corp_exec_open(st, &c, &e), CORP_EFORBIDDEN, "a script "
		    "in /tmp itself: 77");
		ok(strstr(e.msg, "a script in /tmp, a directory others may "
		    "make names in") != NULL, "  says so: %s", e.msg);
		corp_cmd_close(&c);
		unlink(st);
	}
	/* Loops end. */
	snprintf(tmp, sizeof(tmp), "%s/loop", dir);
	if (symlink("loop", tmp) != 0)
		return 99;
	is_int(corp_exec_open(tmp, &c, &e), CORP_EFORBIDDEN, "a link loop: "
	    "77");
	snprintf(tmp, sizeof(tmp), "%s/none", dir);
	is_int(corp_exec_open(tmp, &c, &e), CORP_ENOTFOUND, "missing: "
	    "not found");
	is_int(corp_exec_open(dir, &c, &e), CORP_EFORBIDDEN, "a directory: "
	    "77");
	snprintf(want, sizeof(want), "rm -rf '%s'", dir);
	if (system(want) != 0)
		return 99;
	return done_testing();
}
