/* faultvfs.c -- see faultvfs.h.  Test machinery: inert unless installed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "corp.h"
#include "faultvfs.h"

enum { OP_WRITE, OP_SYNC, OP_OPEN, NOPS };
static const char *const opname[NOPS] = { "write", "sync", "open" };

static struct {
	sqlite3_vfs	 vfs;
	sqlite3_vfs	*real;
	int		 op;		/* the op to fail, -1 to count only */
	long long	 nth;
	int		 eno;
	long long	 calls[NOPS];
	int		 fired;
	char		*countfile;
} F;

struct ffile {
	sqlite3_file	 base;
	sqlite3_file	*real;		/* follows this struct */
};

#define REAL(f) (((struct ffile *)(f))->real)

/* Count one call of op; nonzero when this is the one to fail. */
static int
hit(int op)
{
	F.calls[op]++;
	if (F.op != op || F.fired || F.calls[op] != F.nth)
		return 0;
	F.fired = 1;
	errno = F.eno;
	return 1;
}

static int
f_close(sqlite3_file *f)
{
	int rc = REAL(f)->pMethods->xClose(REAL(f));

	f->pMethods = NULL;
	return rc;
}

static int
f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, off);
}

static int
f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off)
{
	if (hit(OP_WRITE))
		return F.eno == ENOSPC ? SQLITE_FULL : SQLITE_IOERR_WRITE;
	return REAL(f)->pMethods->xWrite(REAL(f), b, n, off);
}

static int
f_truncate(sqlite3_file *f, sqlite3_int64 sz)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), sz);
}

static int
f_sync(sqlite3_file *f, int flags)
{
	if (hit(OP_SYNC))
		return SQLITE_IOERR_FSYNC;
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int
f_size(sqlite3_file *f, sqlite3_int64 *sz)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), sz);
}

static int
f_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int
f_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int
f_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
f_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
f_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
f_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
f_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}

static int
f_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void
f_shmbarrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
f_shmunmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int
f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int
f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods methods = {
	3, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock,
	f_unlock, f_reserved, f_fcntl, f_sector, f_devchar, f_shmmap,
	f_shmlock, f_shmbarrier, f_shmunmap, f_fetch, f_unfetch
};

static int
v_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags,
    int *outflags)
{
	struct ffile *ff = (struct ffile *)f;
	int rc;

	(void)v;
	f->pMethods = NULL;
	if (hit(OP_OPEN))
		return SQLITE_CANTOPEN;
	ff->real = (sqlite3_file *)(ff + 1);
	rc = F.real->xOpen(F.real, name, ff->real, flags, outflags);
	/* The real file may need xClose even after a failed open. */
	if (ff->real->pMethods != NULL)
		f->pMethods = &methods;
	return rc;
}

static int
v_delete(sqlite3_vfs *v, const char *name, int sync)
{
	(void)v;
	return F.real->xDelete(F.real, name, sync);
}

static int
v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return F.real->xAccess(F.real, name, flags, out);
}

static int
v_full(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return F.real->xFullPathname(F.real, name, n, out);
}

static int
v_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return F.real->xRandomness(F.real, n, out);
}

static int
v_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return F.real->xSleep(F.real, us);
}

static int
v_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return F.real->xCurrentTime(F.real, out);
}

/* What sqlite3_system_errno() reports: the injected errno once fired. */
static int
v_lasterr(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	if (F.fired)
		return F.eno;
	return F.real->xGetLastError(F.real, n, out);
}

static int
v_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return F.real->xCurrentTimeInt64(F.real, out);
}

static void
report(void)
{
	FILE *f;

	if (F.countfile == NULL || (f = fopen(F.countfile, "w")) == NULL)
		return;
	fprintf(f, "write %lld sync %lld open %lld\n", F.calls[OP_WRITE],
	    F.calls[OP_SYNC], F.calls[OP_OPEN]);
	fclose(f);
}

static int
parse(const char *spec, struct corp_err *err)
{
	const char *es, *p = strchr(spec, ':'), *q;
	char num[24];
	int i;

	if (p == NULL)
		goto bad;
	if (strncmp(spec, "count:", 6) == 0) {
		if (spec[6] == '\0' || (F.countfile = strdup(spec + 6)) ==
		    NULL)
			goto bad;
		F.op = -1;
		return 0;
	}
	for (i = 0; i < NOPS; i++)
		if ((size_t)(p - spec) == strlen(opname[i]) &&
		    strncmp(spec, opname[i], (size_t)(p - spec)) == 0)
			break;
	if (i == NOPS)
		goto bad;
	F.op = i;
	p++;
	q = strchr(p, ':');
	if ((size_t)((q ? q : p + strlen(p)) - p) >= sizeof(num))
		goto bad;
	snprintf(num, sizeof(num), "%.*s", (int)((q ? q : p + strlen(p)) - p),
	    p);
	F.nth = strtonum(num, 1, 1000000000, &es);
	if (es != NULL)
		goto bad;
	F.eno = EIO;
	if (q != NULL) {
		if (strcmp(q + 1, "EIO") == 0)
			F.eno = EIO;
		else if (strcmp(q + 1, "ENOSPC") == 0)
			F.eno = ENOSPC;
		else
			goto bad;
	}
	return 0;
bad:
	return corp_errf(err, CORP_EUSAGE, "expected "
	    "write|sync|open:N[:EIO|ENOSPC] or count:FILE, got '%s'", spec);
}

int
corp_test_vfs_check(const char *spec, struct corp_err *err)
{
	char *countfile = F.countfile;
	int rc, op = F.op, eno = F.eno;
	long long nth = F.nth;

	/* parse() fills F: put it back as it was. */
	rc = parse(spec, err);
	if (F.countfile != countfile)
		free(F.countfile);
	F.countfile = countfile;
	F.op = op;
	F.eno = eno;
	F.nth = nth;
	return rc;
}

int
corp_test_vfs_install(const char *spec, struct corp_err *err)
{
	int rc;

	if (F.real != NULL)
		return 0;
	if ((rc = parse(spec, err)) != 0)
		return rc;
	if ((F.real = sqlite3_vfs_find(NULL)) == NULL)
		return corp_errf(err, CORP_EINTERNAL, "no default SQLite VFS");
	F.vfs.iVersion = 2;
	F.vfs.szOsFile = (int)sizeof(struct ffile) + F.real->szOsFile;
	F.vfs.mxPathname = F.real->mxPathname;
	F.vfs.zName = CORP_TEST_VFS_NAME;
	F.vfs.xOpen = v_open;
	F.vfs.xDelete = v_delete;
	F.vfs.xAccess = v_access;
	F.vfs.xFullPathname = v_full;
	F.vfs.xRandomness = v_random;
	F.vfs.xSleep = v_sleep;
	F.vfs.xCurrentTime = v_time;
	F.vfs.xGetLastError = v_lasterr;
	F.vfs.xCurrentTimeInt64 = v_time64;
	if (sqlite3_vfs_register(&F.vfs, 0) != SQLITE_OK)
		return corp_errf(err, CORP_EINTERNAL,
		    "cannot register the test VFS");
	if (F.countfile != NULL)
		atexit(report);
	return 0;
}
