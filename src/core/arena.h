/* arena.h - bump allocator for per-row / per-batch values; everything in it is
 * freed at once by sl__arena_reset or sl__arena_release. core stage. */
#ifndef SL_CORE_ARENA_H
#define SL_CORE_ARENA_H

#include "core/common.h"

struct sl_arena_block;
struct sl_arena {
    struct sl_arena_block *head; /* current block (most recent) */
    size_t block_size;           /* default block payload size */
};

void sl__arena_init(struct sl_arena *a, size_t block_size);
/* Keeps the first block for reuse, frees the others. Pointers become invalid. */
void sl__arena_reset(struct sl_arena *a);
void sl__arena_release(struct sl_arena *a);
/* 16-byte aligned; NULL on ENOMEM. Valid until reset/release. */
void *sl__arena_alloc(struct sl_arena *a, size_t size);

#endif
