/* test_fuzz_replay.c - reruns every committed fuzz corpus file
 * (tests/fuzz/corpus/<target>/) through the same harness bodies and
 * invariants as the libFuzzer targets, in the ordinary gcc build, so CI checks
 * the corpus without clang (SQLite's fuzzcheck). A failed invariant aborts;
 * the file being replayed is printed first. tests. */
#include "core/common.h"

#include "../support/testutil.h"

#include "../fuzz/harness_chnative.c"
#include "../fuzz/harness_csv.c"
#include "../fuzz/harness_input.c"
#include "../fuzz/harness_ndjson.c"
#include "../fuzz/harness_rules.c"
#include "../fuzz/harness_schema.c"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef SL_SOURCE_DIR
#error "the build defines SL_SOURCE_DIR as the source tree"
#endif

#define CORPUS_DIR SL_SOURCE_DIR "/tests/fuzz/corpus"

struct target {
    const char *name;
    int (*run)(const uint8_t *data, size_t size);
};

static const struct target targets[] = {
    {"ndjson", harness_ndjson}, {"csv", harness_csv},
    {"schema", harness_schema}, {"input", harness_input},
    {"rules", harness_rules},   {"chnative", harness_chnative},
};

static char current[8192];

static void on_fatal(int sig)
{
    /* async-signal-safe: write(2) only */
    static const char msg[] = "\nreplay: crashed on ";
    ssize_t w = write(2, msg, sizeof(msg) - 1);
    w = write(2, current, strlen(current));
    w = write(2, "\n", 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned replay_target(const struct target *t, unsigned *out_files)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/%s", CORPUS_DIR, t->name);
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "FAIL: %s: no corpus\n", dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            names = realloc(names, cap * sizeof(*names));
            if (names == NULL) {
                abort();
            }
        }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    unsigned fails = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(current, sizeof(current), "%s/%s", dir, names[i]);
        size_t len = 0;
        char *data = tu_read(current, &len);
        if (data == NULL) {
            fprintf(stderr, "FAIL: cannot read %s\n", current);
            fails++;
        } else {
            t->run((const uint8_t *)data, len);
            free(data);
            (*out_files)++;
        }
        free(names[i]);
    }
    free(names);
    printf("%s: %zu files replayed\n", t->name, n);
    if (n == 0) {
        fprintf(stderr, "FAIL: %s: empty corpus\n", dir);
        fails++;
    }
    return fails;
}

int main(void)
{
    signal(SIGABRT, on_fatal);
    signal(SIGSEGV, on_fatal);
    signal(SIGBUS, on_fatal);
    signal(SIGFPE, on_fatal);
    unsigned fails = 0, files = 0;
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        fails += replay_target(&targets[i], &files);
    }
    printf("%u corpus files replayed, %u failure(s)\n", files, fails);
    return fails ? 1 : 0;
}
