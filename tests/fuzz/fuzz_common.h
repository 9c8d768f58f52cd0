/* fuzz_common.h - shared by the harnesses in tests/fuzz/: invariant checks that
 * abort (so libFuzzer records a crash and the replay test fails) and a scratch
 * file for harnesses that go through a path. tests.
 *
 * Each harness_<x>.c is compiled both into its libFuzzer target (fuzz_<x>.c)
 * and, all four together, into the gcc replay test
 * (tests/conformance/test_fuzz_replay.c): statics are prefixed per harness. */
#ifndef SL_TESTS_FUZZ_COMMON_H
#define SL_TESTS_FUZZ_COMMON_H

#include "core/common.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An invariant of the code under test: on failure say where and abort. */
#define FZ_CHECK(cond, ...)                                                    \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz invariant failed at %s:%d: %s: ", __FILE__,  \
                    __LINE__, #cond);                                          \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            abort();                                                           \
        }                                                                      \
    } while (0)

static char fz_scratch_path[64];

static inline void fz_scratch_unlink(void)
{
    if (fz_scratch_path[0] != '\0') {
        unlink(fz_scratch_path);
    }
}

/* A scratch file of this process (created once, removed at exit, rewritten on
 * each call) holding exactly data[0..size). Returns its path. */
static inline const char *fz_scratch_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0) {
        const char *dir = getenv("TMPDIR");
        snprintf(fz_scratch_path, sizeof(fz_scratch_path), "%s/sl-fuzz-XXXXXX",
                 dir != NULL && strlen(dir) < 40 ? dir : "/tmp");
        fd = mkstemp(fz_scratch_path);
        FZ_CHECK(fd >= 0, "mkstemp %s", fz_scratch_path);
        atexit(fz_scratch_unlink);
    }
    FZ_CHECK(ftruncate(fd, 0) == 0, "ftruncate %s", fz_scratch_path);
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
        FZ_CHECK(w > 0, "pwrite %s", fz_scratch_path);
        done += (size_t)w;
    }
    return fz_scratch_path;
}

#endif
