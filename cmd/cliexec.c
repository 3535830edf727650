/*
 * cliexec.c -- a tool that is two programs: "corp-deliver run ARGS" is
 * corp-deliver-run ARGS, so that corp-deliver never links libcurl
 * (DESIGN 6, 9).  See cli.h.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void
cli_exec_beside(const char *prog, int argc, char **argv, int verb)
{
	char **av, *self = NULL, *path = NULL, *slash;
	size_t size = 256;
	ssize_t n;
	int i, j;

	if ((av = calloc((size_t)argc + 1, sizeof(*av))) == NULL)
		err(CORP_EINTERNAL, "out of memory");
	av[0] = (char *)prog;
	for (i = 1, j = 1; i < argc; i++)
		if (i != verb)
			av[j++] = argv[i];
	for (;;) {
		if ((self = realloc(self, size)) == NULL)
			err(CORP_EINTERNAL, "out of memory");
		n = readlink("/proc/self/exe", self, size);
		if (n < 0 || (size_t)n < size)
			break;
		size *= 2;
	}
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (asprintf(&path, "%s/%s", self, prog) < 0)
				err(CORP_EINTERNAL, "out of memory");
			if (access(path, X_OK) == 0)
				execv(path, av);
			free(path);
		}
	}
	free(self);
	execvp(prog, av);
	warn("run: %s", prog);
	exit(CORP_EINTERNAL);
}

int
cli_verb_index(int argc, char **argv)
{
	static const char *const common[] = { "--db", "--data-dir", "--now" };
	int i = 1;
	size_t k;

	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		for (k = 0; k < 3; k++)
			if (strcmp(argv[i], common[k]) == 0)
				break;
		if (k < 3) {
			i += 2;
			continue;
		}
		for (k = 0; k < 3; k++)
			if (strncmp(argv[i], common[k], strlen(common[k])) ==
			    0 && argv[i][strlen(common[k])] == '=')
				break;
		if (k == 3)
			break;
		i++;
	}
	return i;
}
