/* promtext.h — a strict checker of Prometheus' text exposition format
 * 0.0.4, for tests of what orc's /metrics endpoints write: every line
 * well formed, a TYPE before each family's samples and only once, label
 * values escaped, no series twice, and each histogram series whole
 * (increasing le, cumulative counts, +Inf last and equal to _count, a
 * _sum). */
#ifndef ORC_TEST_PROMTEXT_H
#define ORC_TEST_PROMTEXT_H

#include <stddef.h>

/* 0, or -1 with err saying which line is wrong and why. */
int promtext_check(const char *text, char *err, size_t n);

/* The value of the first sample whose line starts with `series` (a name
 * with its labels as written, "x{a=\"b\"}", followed by a space); NAN when
 * there is none. */
double promtext_value(const char *text, const char *series);

#endif
