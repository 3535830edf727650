/*
 * testvfs.h -- the hook of the test-only fault VFS (tests/fault/
 * faultvfs.h, CORP_TEST_VFS).  Weak: the test builds of the programs
 * link tests/fault/faultvfs.c, the shipped ones do not, and there both
 * are NULL (config.c then refuses CORP_TEST_VFS with 64).
 */
#ifndef CORP_TESTVFS_H
#define CORP_TESTVFS_H

struct corp_err;

#define CORP_TEST_VFS_NAME "corp-fault"

/* Parse spec and register the VFS (once); CORP_EUSAGE for a bad spec. */
int	corp_test_vfs_install(const char *spec, struct corp_err *)
	    __attribute__((weak));
/* Only check spec (lib/config.c, at start, whatever the backend). */
int	corp_test_vfs_check(const char *spec, struct corp_err *)
	    __attribute__((weak));

#endif
