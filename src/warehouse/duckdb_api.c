/* duckdb_api.c - libduckdb loaded on first use: dlopen, then each function the
 * driver calls looked up into sl__ddb (see duckdb_api.h). warehouse stage. */
#define SL_DUCKDB_API_IMPL
#include "core/common.h"
#include "warehouse/duckdb_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SL_DUCKDB_LIB
#define SL_DUCKDB_LIB "libduckdb.so"
#endif

struct sl_duckdb_api sl__ddb;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_msg[512]; /* empty: loaded */

static void *open_lib(const char *path)
{
    /* global, as when linked: loadable DuckDB extensions look up libduckdb's
     * symbols in the global scope */
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (h == NULL && load_msg[0] == '\0') {
        /* the first failure says most: the library the user or the build chose */
        const char *why = dlerror();
        snprintf(load_msg, sizeof(load_msg), "duckdb: cannot load the library: %s",
                 why != NULL ? why : path);
    }
    return h;
}

static void load(void)
{
    const char *env = getenv("SLUICE_DUCKDB_LIB");
    void *h;
    if (env != NULL && env[0] != '\0') {
        h = open_lib(env); /* named by the user: no fallback */
    } else if ((h = open_lib(SL_DUCKDB_LIB)) == NULL) {
        h = open_lib("libduckdb.so"); /* the build's copy moved: the loader's path */
    }
    if (h == NULL) {
        return;
    }
    load_msg[0] = '\0';
#define SL_DUCKDB_LOOKUP(f)                                                                  \
    if (load_msg[0] == '\0') {                                                               \
        void *p = dlsym(h, #f);                                                              \
        if (p == NULL) {                                                                     \
            snprintf(load_msg, sizeof(load_msg),                                             \
                     "duckdb: the library has no %s (a libduckdb older than sluice's)", #f); \
        } else {                                                                             \
            memcpy(&sl__ddb.f, &p, sizeof(p));                                               \
        }                                                                                    \
    }
    SL_DUCKDB_FUNCS(SL_DUCKDB_LOOKUP)
#undef SL_DUCKDB_LOOKUP
    /* the handle stays open for the life of the process */
}

int sl__duckdb_load(struct sl_error *err)
{
    (void)pthread_once(&load_once, load);
    if (load_msg[0] != '\0') {
        return SL_ERR(err, -SL_EWAREHOUSE, "%s", load_msg);
    }
    return SL_OK;
}
