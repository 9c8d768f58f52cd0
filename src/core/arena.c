/* arena.c - bump allocator. core stage. */
#include "core/common.h"
#include "core/arena.h"
#include "core/alloc.h"

struct sl_arena_block {
    struct sl_arena_block *next; /* older block */
    size_t cap;                  /* payload bytes */
    size_t used;                 /* payload bytes handed out */
    _Alignas(16) unsigned char data[];
};

void sl__arena_init(struct sl_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
}

void sl__arena_reset(struct sl_arena *a)
{
    struct sl_arena_block *b = a->head;
    if (b == NULL) {
        return;
    }
    /* keep the oldest block: it has the default size */
    while (b->next != NULL) {
        struct sl_arena_block *n = b->next;
        sl__free(b);
        b = n;
    }
    b->used = 0;
    a->head = b;
}

void sl__arena_release(struct sl_arena *a)
{
    struct sl_arena_block *b = a->head;
    while (b != NULL) {
        struct sl_arena_block *n = b->next;
        sl__free(b);
        b = n;
    }
    a->head = NULL;
}

void *sl__arena_alloc(struct sl_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    struct sl_arena_block *b = a->head;
    if (b == NULL || b->cap - b->used < size) {
        size_t cap = size > a->block_size ? size : a->block_size;
        struct sl_arena_block *nb = sl__malloc(sizeof(*nb) + cap);
        if (nb == NULL) {
            return NULL;
        }
        nb->cap = cap;
        nb->used = 0;
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}
