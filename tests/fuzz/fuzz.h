/*
 * fuzz.h -- what every fuzz target shares.  Each tests/fuzz/fuzz-NAME.c
 * defines LLVMFuzzerTestOneInput for one parser of outside input; make
 * fuzz links it with libFuzzer (clang), make check links it with
 * replay.c and runs every file of tests/fuzz/NAME/ through it.
 */
#ifndef CORP_FUZZ_H
#define CORP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The input as a NUL-terminated string (the parsers that take one). */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
