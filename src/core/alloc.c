/* alloc.c - allocator with fault injection (tests fail the Nth call). core stage. */
#include "core/common.h"
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic uint64_t alloc_calls;
static _Atomic uint64_t fail_at; /* 0 = never */

static bool should_fail(void)
{
    uint64_t n = atomic_fetch_add(&alloc_calls, 1) + 1;
    uint64_t f = atomic_load(&fail_at);
    return f != 0 && n >= f;
}

void sl_alloc_fail_after(uint64_t n)
{
    atomic_store(&alloc_calls, 0);
    atomic_store(&fail_at, n);
}

uint64_t sl_alloc_count(void)
{
    return atomic_load(&alloc_calls);
}

void *sl__malloc(size_t size)
{
    return should_fail() ? NULL : malloc(size ? size : 1);
}

void *sl__calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *sl__realloc(void *p, size_t size)
{
    return should_fail() ? NULL : realloc(p, size ? size : 1);
}

void sl__free(void *p)
{
    free(p);
}

char *sl__strndup(const char *s, size_t n)
{
    char *d = sl__malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *sl__strdup(const char *s)
{
    return sl__strndup(s, strlen(s));
}
