/* vcost.c - what a validator costs to make and a small file to validate, in
 * instructions (callgrind counts only the loops between the toggles). Not part
 * of the build; from the repository root, after `make build`:
 *
 *   gcc -O2 -std=c11 -Isrc -Iinclude -o build/vcost bench/vcost.c \
 *       build/libsluice_core.a $(pkg-config --libs libpcre2-8 jansson zlib \
 *       libzstd sqlite3 libcrypto) -lpthread -lm -ldl
 *   valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null \
 *       build/vcost MODE samples/schemas TABLE ndjson|csv N [FILE]
 *
 * and divide "Collected" by N. MODE: create (sl_validator_create: a compile and a
 * validator), fromplan (sl_validator_create_from_plan on one plan), file / filerows
 * (sl_validate_file of FILE on one kept validator, without / with a row sink).
 * csv means --header; VCOST_FP=1 sets fingerprint (as a load does). bench. */
#include "core/common.h"
#include "schema/schema.h"
#include "validate/validator.h"
#include <valgrind/callgrind.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count_row(void *ud, const struct sl_val *cols, size_t n, struct sl_error *err)
{
    (void)cols;
    (void)n;
    (void)err;
    (*(uint64_t *)ud)++;
    return SL_OK;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: vcost create|fromplan|file SCHEMAS TABLE ndjson|csv N [FILE]\n");
        return 2;
    }
    const char *mode = argv[1];
    struct sl_error err = {0};
    struct sl_registry *reg = NULL;
    if (sl_registry_load(argv[2], NULL, &reg, &err) != SL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const struct sl_table *t = sl_registry_find(reg, argv[3]);
    if (t == NULL) {
        return 1;
    }
    struct sl_vopts o;
    sl_vopts_default(&o);
    if (strcmp(argv[4], "csv") == 0) {
        o.format = SL_FMT_CSV;
        o.header = true;
    }
    o.fingerprint = getenv("VCOST_FP") != NULL;
    int n = atoi(argv[5]);
    struct sl_validator *v = NULL;
    if (strcmp(mode, "create") == 0) {
        if (sl_validator_create(t, &o, &v, &err) != SL_OK) {
            return 1;
        }
        sl_validator_destroy(v);
        CALLGRIND_TOGGLE_COLLECT;
        for (int i = 0; i < n; i++) {
            if (sl_validator_create(t, &o, &v, &err) != SL_OK) {
                return 1;
            }
            sl_validator_destroy(v);
        }
        CALLGRIND_TOGGLE_COLLECT;
    } else if (strcmp(mode, "fromplan") == 0) {
        struct sl_vplan *p = NULL;
        if (sl_vplan_create(t, &p, &err) != SL_OK) {
            return 1;
        }
        if (sl_validator_create_from_plan(p, &o, &v, &err) != SL_OK) {
            return 1;
        }
        sl_validator_destroy(v);
        CALLGRIND_TOGGLE_COLLECT;
        for (int i = 0; i < n; i++) {
            if (sl_validator_create_from_plan(p, &o, &v, &err) != SL_OK) {
                return 1;
            }
            sl_validator_destroy(v);
        }
        CALLGRIND_TOGGLE_COLLECT;
        sl_vplan_destroy(p);
    } else if ((strcmp(mode, "file") == 0 || strcmp(mode, "filerows") == 0) && argc > 6) {
        uint64_t nrows = 0;
        struct sl_row_sink sink = {count_row, &nrows};
        const struct sl_row_sink *rs = strcmp(mode, "filerows") == 0 ? &sink : NULL;
        if (sl_validator_create(t, &o, &v, &err) != SL_OK) {
            return 1;
        }
        struct sl_file_stats st;
        if (sl_validate_file(v, argv[6], rs, NULL, &st, &err) != SL_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        CALLGRIND_TOGGLE_COLLECT;
        for (int i = 0; i < n; i++) {
            if (sl_validate_file(v, argv[6], rs, NULL, &st, &err) != SL_OK) {
                return 1;
            }
        }
        CALLGRIND_TOGGLE_COLLECT;
        printf("rows %llu valid %llu\n", (unsigned long long)st.rows, (unsigned long long)st.valid);
        sl_validator_destroy(v);
    } else {
        return 2;
    }
    sl_registry_destroy(reg);
    return 0;
}
