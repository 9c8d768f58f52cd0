/* coercetest.h - what the table-driven coercion tests (test_coerce.c,
 * test_coerce_time.c) share: the result codes' short names, exact-size heap
 * copies and the mismatch report. Header-only, included after <cmocka.h>. tests. */
#ifndef SL_TESTS_COERCETEST_H
#define SL_TESTS_COERCETEST_H

#include "core/common.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define OK   0
#define EINV (-SL_EINVAL)
#define ELIM (-SL_ELIMIT)

/* A heap copy of exactly n bytes, no terminator: reads past n trip ASan. */
static char *exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

/* Report one mismatching row (both operands and the input), count it. */
#define MISMATCH(bad, idx, in, fmt, ...)                                       \
    do {                                                                       \
        print_error("row %zu input \"%s\": " fmt "\n", (size_t)(idx), (in),    \
                    __VA_ARGS__);                                              \
        (bad)++;                                                               \
    } while (0)

#endif
