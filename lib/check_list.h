/*
 * check_list.h -- the system's invariants, one { name, sql } each, the
 * query returning one row per violation.  Included by check.c; each
 * domain adds its own (DESIGN 3-5).
 */
