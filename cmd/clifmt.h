/*
 * clifmt.h -- the one printer of listings as a table or TSV (issue 21),
 * fed the same json_t rows the JSON output prints (clitab.c cli_row).
 *
 * table: a header of the field names in capitals, then a line per row,
 * columns two spaces apart and as wide as their widest cell in display
 * columns (UTF-8: a CJK character counts two, a combining mark none);
 * numbers right-aligned; null "-"; objects and arrays compact JSON;
 * times (fields named at, date, since, until, from or ending _at,
 * _until, _from, holding RFC 3339 UTC) in zone ("UTC" when NULL) as
 * "2026-01-05 12:00:00+02:00"; control characters shown as '?'.
 * The rows are held until cli_table_end.
 *
 * tsv: the header of field names, then a line per row as it comes; the
 * values as in JSON (times UTC), null empty, backslash, tab, newline
 * and carriage return written \\ \t \n \r.
 */
#ifndef CORP_CLIFMT_H
#define CORP_CLIFMT_H

#include <jansson.h>

struct cli_table;

struct cli_table *cli_table_new(int tsv, const char *zone);
/* Takes a reference of row. */
void	cli_table_add(struct cli_table *, json_t *row);
/* Print what is held and free the printer. */
void	cli_table_end(struct cli_table *);

#endif
