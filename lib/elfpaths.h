/*
 * elfpaths.h -- what an ELF program makes the loader read, for the exec
 * walk to judge (fsutil.c; corp.7 SECURITY): its loader (PT_INTERP),
 * which the kernel runs as the program's interpreter, the library
 * search paths it carries (DT_RPATH, DT_RUNPATH), which that loader
 * searches before the system's directories, the libraries it needs
 * (DT_NEEDED: a name with a '/' is loaded from that path), its filtees
 * (DT_FILTER, DT_AUXILIARY: loaded with it as a needed library is, and
 * searched for symbols first) and any audit library (DT_AUDIT,
 * DT_DEPAUDIT: loaded into the program).  Read from the descriptor
 * of the file judged, with bounds on every count and offset; an ELF
 * file of another class or byte order than this machine's is not run
 * by the kernel and yields nothing.
 */
#ifndef CORP_ELFPATHS_H
#define CORP_ELFPATHS_H

#include <stddef.h>

struct corp_err;

struct corp_elf_paths {
	char	*interp;	/* PT_INTERP, or NULL */
	char	*rpath;		/* DT_RPATH's string, or NULL */
	char	*runpath;	/* DT_RUNPATH's string, or NULL */
	char	*audit;		/* DT_AUDIT's or DT_DEPAUDIT's, or NULL */
	char   **needed;	/* DT_NEEDED's, DT_FILTER's and DT_AUXILIARY's
				 * names, nneeded of them, in their order */
	unsigned char *kind;	/* each one's: CORP_ELF_NEEDED & co */
	size_t	 nneeded;
};

#define CORP_ELF_NEEDED	0	/* DT_NEEDED */
#define CORP_ELF_FILTER	1	/* DT_FILTER */
#define CORP_ELF_AUX	2	/* DT_AUXILIARY: a missing one is skipped */

/* 0 and *ep filled (fields NULL when absent; not ELF: all NULL);
 * CORP_EFORBIDDEN ("SHOWN: an ELF program whose WHAT cannot be read")
 * when a header or string it names is not there whole. */
int	corp_elf_paths(int fd, const char *shown, struct corp_elf_paths *ep,
	    struct corp_err *);
void	corp_elf_paths_free(struct corp_elf_paths *);

#endif
