/*
 * replay.c -- run a fuzz target over files, without libFuzzer, so that
 * make check replays the corpora with any compiler and under ASan.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int
main(int argc, char **argv)
{
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		size_t len = 0, cap = 0, got;

		if (f == NULL) {
			perror(argv[i]);
			return 1;
		}
		do {
			if (len == cap) {
				cap = cap ? cap * 2 : 4096;
				if ((buf = realloc(buf, cap)) == NULL)
					abort();
			}
			got = fread(buf + len, 1, cap - len, f);
			len += got;
		} while (got > 0);
		if (ferror(f)) {
			perror(argv[i]);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		n++;
	}
	printf("%s: %d inputs replayed\n", argv[0], n);
	return 0;
}
