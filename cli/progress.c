/*
 * progress.c: the progress line of the long commands (apply, export,
 * feed): records done, rate and time left, redrawn on stderr at most five
 * times a second when stderr is a terminal, and nothing otherwise.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"


double
rbacctl_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


void
rbacctl_progress_init(rbacctl_progress_t *p, const char *what, size_t total)
{
    memset(p, 0, sizeof(*p));
    p->what = what;
    p->total = total;
    p->start = rbacctl_now();
    p->tty = isatty(STDERR_FILENO);
}


void
rbacctl_progress_step(rbacctl_progress_t *p, size_t done)
{
    double  now, rate;

    if (!p->tty) {
        return;
    }

    now = rbacctl_now();
    if (now - p->last < 0.2) {
        return;
    }

    p->last = now;
    p->shown = 1;
    rate = now > p->start ? (double) done / (now - p->start) : 0;

    if (p->total) {
        fprintf(stderr, "\r\033[K%s: %zu/%zu records, %.0f/s, ETA %.0f s",
                p->what, done, p->total, rate,
                rate > 0 && p->total > done
                ? (double) (p->total - done) / rate : 0.0);

    } else {
        fprintf(stderr, "\r\033[K%s: %zu records, %.0f/s", p->what, done,
                rate);
    }

    fflush(stderr);
}


void
rbacctl_progress_end(rbacctl_progress_t *p)
{
    if (p->tty && p->shown) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }

    p->shown = 0;
}
