/*
 * trust.c -- the ownership rule (fsutil.h corp_trust_stat), judged on
 * synthetic stat records: every owner and every write bit.
 */
#include <sys/stat.h>

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "fsutil.h"
#include "tap.h"

static int
judge(uid_t uid, mode_t mode, struct corp_err *e)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_uid = uid;
	st.st_mode = S_IFREG | mode;
	corp_errclear(e);
	return corp_trust_stat("/d/f", &st, e);
}

int
main(void)
{
	struct corp_err e;
	uid_t me = geteuid(), other = me == 0 ? 65534 : 0;
	mode_t m;
	struct passwd *pw;
	char want[128];

	is_int(judge(me, 0600, &e), 0, "mine, 0600");
	is_int(judge(me, 0755, &e), 0, "mine, 0755 (others may read)");
	is_int(judge(0, 0644, &e), 0, "root's, 0644");
	is_int(judge(me, 04700, &e), 0, "setuid bit alone is no write bit");
	/* Every mode with a group or other write bit is refused. */
	for (m = 0; m <= 0777; m++) {
		int rc = judge(me, m, &e);

		if ((m & 022) != 0 && rc != CORP_EFORBIDDEN)
			break;
		if ((m & 022) == 0 && rc != 0)
			break;
	}
	is_int(m, 01000, "all 512 modes: refused exactly when g+w or o+w");
	is_int(judge(me, 0620, &e), CORP_EFORBIDDEN, "group-writable: 77");
	is_str(e.msg, "/d/f: group-writable (mode 620); chmod go-w /d/f",
	    "names the file and the fix");
	is_int(judge(me, 0602, &e), CORP_EFORBIDDEN, "world-writable: 77");
	is_str(e.msg, "/d/f: world-writable (mode 602); chmod go-w /d/f",
	    "world-writable says so");
	is_int(judge(me, 0666, &e), CORP_EFORBIDDEN, "both: 77");
	is_str(e.msg, "/d/f: world-writable (mode 666); chmod go-w /d/f",
	    "both: the worse is named");
	if (me != 0) {
		is_int(judge(other, 0600, &e), 0, "root's file, 0600 (not "
		    "root ourselves)");
		is_int(judge(me + 1, 0600, &e), CORP_EFORBIDDEN,
		    "another user's: 77");
		ok(strstr(e.msg, "not by ") != NULL && strstr(e.msg,
		    "who runs corp, nor root; chown ") != NULL,
		    "says whose it should be: %s", e.msg);
	} else {
		is_int(judge(other, 0600, &e), CORP_EFORBIDDEN,
		    "another user's, 0600: 77");
		pw = getpwuid(other);
		snprintf(want, sizeof(want), "/d/f: owned by %s (uid %u), not "
		    "by root, who runs corp; chown root /d/f", pw != NULL ?
		    pw->pw_name : "65534", (unsigned)other);
		is_str(e.msg, want, "names the owner and the fix");
		is_int(judge(1, 0600, &e), CORP_EFORBIDDEN,
		    "uid 1 is not root: 77");
	}
	return done_testing();
}
