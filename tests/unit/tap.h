/* tap.h -- a tiny TAP producer for the C unit tests. */
#ifndef CORP_TAP_H
#define CORP_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_fail;

#define ok(cond, ...) do {						\
	int c_ = (cond) != 0;						\
	tap_n++;							\
	if (c_)								\
		printf("ok %d - ", tap_n);				\
	else {								\
		printf("not ok %d - ", tap_n);				\
		tap_fail++;						\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!c_)							\
		printf("#   failed at %s:%d\n", __FILE__, __LINE__);	\
} while (0)

#define is_str(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int same_ = (g_ == NULL && w_ == NULL) ||			\
	    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0);		\
	ok(same_, __VA_ARGS__);						\
	if (!same_)							\
		printf("#   got:      %s\n#   expected: %s\n",		\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)

#define is_int(got, want, ...) do {					\
	long long g_ = (got), w_ = (want);				\
	ok(g_ == w_, __VA_ARGS__);					\
	if (g_ != w_)							\
		printf("#   got: %lld, expected: %lld\n", g_, w_);	\
} while (0)

static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_fail != 0;
}

#endif
