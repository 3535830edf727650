/*
 * suggest.c -- "did you mean": the one place that measures how far a
 * mistyped word (a channel, an event type, a verb, an option) is from
 * the words corp knows, so every tool suggests the same way.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "corp.h"

/*
 * Optimal string alignment distance over bytes, compared without case.
 * Words here are short identifiers; anything longer than 64 bytes is
 * simply "far" (cap + 1), so the cost stays bounded whatever the input.
 */
int
corp_edit_distance(const char *a, const char *b, int cap)
{
	int d[66][66];
	size_t la = strlen(a), lb = strlen(b), i, j;
	int best;

	if (la > 64 || lb > 64)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > (size_t)cap)
		return cap + 1;
	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			int cost = ca != cb;
			int v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	best = d[la][lb];
	return best > cap ? cap + 1 : best;
}

const char *
corp_suggest(const char *word, const char *const *cands, int max)
{
	const char *best = NULL;
	int bestd = max + 1, ties = 0;

	if (word == NULL || cands == NULL)
		return NULL;
	for (; *cands != NULL; cands++) {
		int d = corp_edit_distance(word, *cands, max);

		if (d < bestd) {
			bestd = d;
			best = *cands;
			ties = 0;
		} else if (d == bestd && best != NULL &&
		    strcmp(best, *cands) != 0)
			ties++;
	}
	if (bestd > max || ties > 0)
		return NULL;
	return best;
}
