/* batch.c - batch ids: what makes the same files always the same batch, in
 * every warehouse. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "warehouse/driver.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void sl_batch_id(const char *table, const char *const *fingerprints, size_t n,
                 const char *salt, char out[SL_BATCH_ID_LEN + 1])
{
    /* sorted, so the order files were found in does not matter; sorting a
     * copy of the pointers (n may be large: qsort in place on a copy) */
    const char **v = n > 0 ? malloc(n * sizeof(*v)) : NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned int md_len = 0;
    if (ctx == NULL || (n > 0 && v == NULL) ||
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        /* no memory for a hash: an id that can never match a real one */
        memset(out, 'x', SL_BATCH_ID_LEN);
        out[SL_BATCH_ID_LEN] = '\0';
        free(v);
        EVP_MD_CTX_free(ctx);
        return;
    }
    if (n > 0) {
        memcpy(v, fingerprints, n * sizeof(*v));
        qsort(v, n, sizeof(*v), cmp_str);
    }
    EVP_DigestUpdate(ctx, table, strlen(table));
    EVP_DigestUpdate(ctx, "\n", 1);
    for (size_t i = 0; i < n; i++) {
        EVP_DigestUpdate(ctx, v[i], strlen(v[i]));
        EVP_DigestUpdate(ctx, "\n", 1);
    }
    if (salt != NULL) {
        EVP_DigestUpdate(ctx, salt, strlen(salt));
    }
    EVP_DigestFinal_ex(ctx, md, &md_len);
    EVP_MD_CTX_free(ctx);
    free(v);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[SL_BATCH_ID_LEN] = '\0';
}

int sl_batch_derive_id(struct sl_batch *b, const char *table)
{
    if (b->id != NULL) {
        snprintf(b->id_out, sizeof(b->id_out), "%s", b->id);
        return SL_OK;
    }
    const char **v = sl__malloc((b->n_files ? b->n_files : 1) * sizeof(*v));
    if (v == NULL) {
        return -SL_ENOMEM;
    }
    for (size_t i = 0; i < b->n_files; i++) {
        v[i] = b->files[i].fingerprint ? b->files[i].fingerprint : "";
    }
    sl_batch_id(table, v, b->n_files, b->salt, b->id_out);
    sl__free(v);
    return SL_OK;
}
