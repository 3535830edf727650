/*
 * faultvfs.h -- a test-only SQLite VFS that makes the Nth write, sync or
 * open fail (DESIGN 10; HACKING, CORP_TEST_VFS).
 *
 * It lives in tests/fault/faultvfs.c and is linked only into the test
 * builds of the programs (make check: $(B)/test/bin, the same objects
 * plus this one; tests/lib.sh use_test_bins), never into what make
 * install ships.  lib/ reaches it through weak symbols: in a program
 * without it they are NULL, and CORP_TEST_VFS is refused (64).  With
 * it, corp_db_open() calls corp_test_vfs_install() only when
 * CORP_TEST_VFS is set, and then opens the database through the
 * "corp-fault" VFS, a shim over the default (unix) one.
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

/* What it defines: corp_test_vfs_install and corp_test_vfs_check,
 * declared (weak) for lib in lib/testvfs.h. */
#include "testvfs.h"

#endif
