/* elfpaths.c -- see elfpaths.h. */
#include <elf.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corp.h"
#include "elfpaths.h"

#define ELF_MAXPH	1024	/* program headers read at most */
#define ELF_MAXDYN	4096	/* dynamic entries read at most */
#define ELF_MAXSTR	PATH_MAX
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ELF_NATIVE	ELFDATA2LSB
#else
#define ELF_NATIVE	ELFDATA2MSB
#endif

/* What corp needs of a program header or a dynamic entry, either class. */
struct ph {
	uint32_t	type;
	uint64_t	offset, vaddr, filesz;
};

static int
bad(const char *shown, const char *what, struct corp_err *err)
{
	return corp_errf(err, CORP_EFORBIDDEN, "%s: an ELF program whose %s "
	    "cannot be read, so what the loader would load cannot be "
	    "judged", shown, what);
}

/* The NUL-terminated string at OFF in fd, at most ELF_MAXSTR - 1 bytes,
 * fresh; NULL when it is not there whole. */
static char *
str_at(int fd, uint64_t off)
{
	char *s;
	ssize_t n;

	if (off > INT64_MAX || (s = malloc(ELF_MAXSTR)) == NULL)
		return NULL;
	if ((n = pread(fd, s, ELF_MAXSTR, (off_t)off)) <= 0 ||
	    memchr(s, '\0', (size_t)n) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

/* The file offset of virtual address VA: the PT_LOAD holding it. */
static int
va_off(const struct ph *p, size_t n, uint64_t va, uint64_t *off)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i].type == PT_LOAD && va >= p[i].vaddr &&
		    va - p[i].vaddr < p[i].filesz) {
			*off = p[i].offset + (va - p[i].vaddr);
			return 0;
		}
	return -1;
}

void
corp_elf_paths_free(struct corp_elf_paths *ep)
{
	size_t i;

	free(ep->interp);
	free(ep->rpath);
	free(ep->runpath);
	free(ep->audit);
	for (i = 0; i < ep->nneeded; i++)
		free(ep->needed[i]);
	free(ep->needed);
	free(ep->kind);
	memset(ep, 0, sizeof(*ep));
}

int
corp_elf_paths(int fd, const char *shown, struct corp_elf_paths *ep,
    struct corp_err *err)
{
	union { Elf32_Ehdr e32; Elf64_Ehdr e64; } eh;
	unsigned char *buf = NULL;
	struct ph *ph = NULL;
	uint64_t phoff, dynoff = 0, dynsz = 0, strva = 0, rp = 0, rup = 0;
	uint64_t stroff, tag, val, aud = 0, *need = NULL;
	unsigned char *kind = NULL;
	size_t phnum, phent, i, ent, ndyn;
	int is64, has_dyn = 0, has_rp = 0, has_rup = 0, has_aud = 0, rc = 0;

	memset(ep, 0, sizeof(*ep));
	if (pread(fd, &eh, sizeof(eh), 0) < (ssize_t)sizeof(eh.e32) ||
	    memcmp(eh.e64.e_ident, ELFMAG, SELFMAG) != 0)
		return 0;	/* not ELF: nothing here to judge */
	/* Only what this machine runs: another class or byte order the
	 * kernel refuses to run (ENOEXEC), as the exec then says. */
	is64 = eh.e64.e_ident[EI_CLASS] == ELFCLASS64;
	if ((!is64 && eh.e64.e_ident[EI_CLASS] != ELFCLASS32) ||
	    eh.e64.e_ident[EI_DATA] != ELF_NATIVE)
		return 0;
	phoff = is64 ? eh.e64.e_phoff : eh.e32.e_phoff;
	phnum = is64 ? eh.e64.e_phnum : eh.e32.e_phnum;
	phent = is64 ? eh.e64.e_phentsize : eh.e32.e_phentsize;
	if (phnum == 0)
		return 0;
	if (phnum > ELF_MAXPH || phent != (is64 ? sizeof(Elf64_Phdr) :
	    sizeof(Elf32_Phdr)) || phoff > INT64_MAX)
		return bad(shown, "program headers", err);
	if ((buf = malloc(phnum * phent)) == NULL ||
	    (ph = calloc(phnum, sizeof(*ph))) == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	if (pread(fd, buf, phnum * phent, (off_t)phoff) !=
	    (ssize_t)(phnum * phent)) {
		rc = bad(shown, "program headers", err);
		goto out;
	}
	for (i = 0; i < phnum; i++) {
		if (is64) {
			Elf64_Phdr p;

			memcpy(&p, buf + i * phent, sizeof(p));
			ph[i] = (struct ph){ p.p_type, p.p_offset, p.p_vaddr,
			    p.p_filesz };
		} else {
			Elf32_Phdr p;

			memcpy(&p, buf + i * phent, sizeof(p));
			ph[i] = (struct ph){ p.p_type, p.p_offset, p.p_vaddr,
			    p.p_filesz };
		}
		if (ph[i].type == PT_INTERP && ep->interp == NULL &&
		    (ep->interp = str_at(fd, ph[i].offset)) == NULL) {
			rc = bad(shown, "loader (PT_INTERP)", err);
			goto out;
		}
		if (ph[i].type == PT_DYNAMIC && !has_dyn) {
			has_dyn = 1;
			dynoff = ph[i].offset;
			dynsz = ph[i].filesz;
		}
	}
	if (!has_dyn)
		goto out;
	ent = is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	ndyn = dynsz / ent;
	if (ndyn > ELF_MAXDYN || dynoff > INT64_MAX) {
		rc = bad(shown, "dynamic section", err);
		goto out;
	}
	free(buf);
	if ((buf = malloc(ndyn * ent + 1)) == NULL ||
	    (need = calloc(ndyn + 1, sizeof(*need))) == NULL ||
	    (kind = calloc(ndyn + 1, 1)) == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	if (pread(fd, buf, ndyn * ent, (off_t)dynoff) != (ssize_t)(ndyn *
	    ent)) {
		rc = bad(shown, "dynamic section", err);
		goto out;
	}
	for (i = 0; i < ndyn; i++) {
		if (is64) {
			Elf64_Dyn d;

			memcpy(&d, buf + i * ent, sizeof(d));
			tag = (uint64_t)d.d_tag;
			val = d.d_un.d_val;
		} else {
			Elf32_Dyn d;

			memcpy(&d, buf + i * ent, sizeof(d));
			tag = (uint64_t)(int64_t)d.d_tag;
			val = d.d_un.d_val;
		}
		if (tag == DT_NULL)
			break;
		if (tag == DT_STRTAB)
			strva = val;
		else if (tag == DT_RPATH && !has_rp) {
			has_rp = 1;
			rp = val;
		} else if (tag == DT_RUNPATH && !has_rup) {
			has_rup = 1;
			rup = val;
		} else if ((tag == DT_AUDIT || tag == DT_DEPAUDIT) &&
		    !has_aud) {
			has_aud = 1;
			aud = val;
		} else if (tag == DT_NEEDED || tag == DT_FILTER ||
		    tag == DT_AUXILIARY) {
			kind[ep->nneeded] = tag == DT_NEEDED ? CORP_ELF_NEEDED :
			    tag == DT_FILTER ? CORP_ELF_FILTER : CORP_ELF_AUX;
			need[ep->nneeded++] = val;
		}
	}
	if (!has_rp && !has_rup && !has_aud && ep->nneeded == 0)
		goto out;
	if (va_off(ph, phnum, strva, &stroff) != 0) {
		rc = bad(shown, "string table", err);
		goto out;
	}
	if ((has_rp && (ep->rpath = str_at(fd, stroff + rp)) == NULL) ||
	    (has_rup && (ep->runpath = str_at(fd, stroff + rup)) == NULL) ||
	    (has_aud && (ep->audit = str_at(fd, stroff + aud)) == NULL)) {
		rc = bad(shown, "library path (RPATH, RUNPATH, AUDIT)", err);
		goto out;
	}
	if (ep->nneeded > 0 && (ep->needed = calloc(ep->nneeded,
	    sizeof(*ep->needed))) == NULL) {
		rc = corp_errf(err, CORP_EINTERNAL, "out of memory");
		goto out;
	}
	ep->kind = kind;
	kind = NULL;
	for (i = 0; i < ep->nneeded; i++)
		if ((ep->needed[i] = str_at(fd, stroff + need[i])) == NULL) {
			rc = bad(shown, "needed library or filtee (DT_NEEDED, "
			    "DT_FILTER, DT_AUXILIARY)", err);
			goto out;
		}
out:
	free(kind);
	free(need);
	free(buf);
	free(ph);
	if (rc != 0)
		corp_elf_paths_free(ep);
	return rc;
}
