/*
 * cliprogress.c -- the progress line of long work (cli.h): on a
 * terminal only, rewritten in place with "\r" and erase-line, on
 * standard error: what, done/total, the rate since the start (wall
 * time) and the time the rest would take at it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"

/* The line on the terminal now: any other line clears it first. */
static struct cli_progress *active;

void
cli_progress_start(struct cli_progress *p, long long total)
{
	p->t0 = corp_mono_ms();
	p->total = total;
	p->tty = isatty(STDERR_FILENO) && !cli_quiet();
	p->shown = 0;
	p->last = 0;
}

/* secs as "42s", "3m07s" or "2h05m". */
static void
eta_fmt(long long secs, char *buf, size_t len)
{
	if (secs < 60)
		snprintf(buf, len, "%llds", secs);
	else if (secs < 3600)
		snprintf(buf, len, "%lldm%02llds", secs / 60, secs % 60);
	else
		snprintf(buf, len, "%lldh%02lldm", secs / 3600,
		    secs / 60 % 60);
}

void
cli_progress_show(struct cli_progress *p, const char *what, long long done,
    const char *fmt, ...)
{
	long long ms = corp_mono_ms() - p->t0;
	double rate = ms > 0 ? (double)done * 1000.0 / (double)ms : 0;
	char eta[48] = "-";
	va_list ap;

	if (!p->tty)
		return;
	if (rate > 0 && p->total > done)
		eta_fmt((long long)((double)(p->total - done) / rate + 0.5),
		    eta, sizeof(eta));
	fprintf(stderr, "\r\033[K%s: %lld/%lld %.1f/s ETA %s", what, done,
	    p->total > done ? p->total : done, rate, eta);
	if (fmt != NULL) {
		fputs(": ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	p->shown = 1;
	active = p;
}

void
cli_progress_tick(struct cli_progress *p, const char *what, long long done)
{
	long long now;

	if (!p->tty)
		return;
	now = corp_mono_ms();
	if (p->shown && done < p->total && now - p->last < 100)
		return;
	p->last = now;
	cli_progress_show(p, what, done, NULL);
}

void
cli_progress_clear_active(void)
{
	if (active != NULL)
		cli_progress_clear(active);
}

void
cli_progress_clear(struct cli_progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = 0;
	if (active == p)
		active = NULL;
}
