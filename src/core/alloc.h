/* alloc.h - the replaceable allocator every module uses (never malloc directly),
 * so that tests can fail the Nth allocation. core stage. */
#ifndef SL_CORE_ALLOC_H
#define SL_CORE_ALLOC_H

#include "core/common.h"

void *sl__malloc(size_t size);
void *sl__calloc(size_t n, size_t size);
void *sl__realloc(void *p, size_t size);
void sl__free(void *p);
char *sl__strdup(const char *s);             /* NULL on ENOMEM; caller frees */
char *sl__strndup(const char *s, size_t n);  /* NULL on ENOMEM; caller frees */

/* Fault injection for tests: the Nth allocation from now (1-based) and every
 * later one fail; 0 switches injection off. Returns allocations made so far. */
void sl_alloc_fail_after(uint64_t n);
uint64_t sl_alloc_count(void);

#endif
