/*
 * faultvfs.h -- a test-only SQLite VFS that makes the Nth write, sync or
 * open fail (DESIGN 10, corp.7 CORP_TEST_VFS).
 *
 * It is compiled into every tool but stays inert: corp_db_open() calls
 * corp_faultvfs_install() only when CORP_TEST_VFS is set, and then opens
 * the database through the "corp-fault" VFS, a shim over the default
 * (unix) one.  Keeping it in the release binaries means the fault tests
 * exercise exactly the code that ships, under every build (ASan too).
 *
 * The spec:
 *
 *	write:N[:ERRNO]	the Nth xWrite fails (EIO: SQLITE_IOERR_WRITE,
 *			ENOSPC: SQLITE_FULL, as the unix VFS reports them)
 *	sync:N[:ERRNO]	the Nth xSync fails (SQLITE_IOERR_FSYNC)
 *	open:N[:ERRNO]	the Nth xOpen fails (SQLITE_CANTOPEN)
 *	count:FILE	nothing fails; at exit FILE gets
 *			"write W sync S open O" (the totals), so a test
 *			knows how far to sweep N
 *
 * N counts from 1 over every file of the process (database, -wal,
 * journals).  One fault per process: after the Nth call everything
 * succeeds again, and the injected errno is what sqlite3_system_errno()
 * reports.
 */
#ifndef CORP_FAULTVFS_H
#define CORP_FAULTVFS_H

struct corp_err;

#define CORP_FAULTVFS_NAME "corp-fault"

/* Parse spec and register the VFS (once); CORP_EUSAGE for a bad spec. */
int	corp_faultvfs_install(const char *spec, struct corp_err *);
/* Only check spec (lib/config.c, at start, whatever the backend). */
int	corp_faultvfs_check(const char *spec, struct corp_err *);

#endif
