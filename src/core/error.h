/* error.h - stable error codes and a fixed-size error value with context. core
 * stage. Functions return 0 (SL_OK) or a negative -SL_E* code; details go in
 * struct sl_error. */
#ifndef SL_CORE_ERROR_H
#define SL_CORE_ERROR_H

#include "core/common.h"

/* X(name, value, class, exit_code, text). Append only: values are stable.
 * class: "corrupt" (input unreadable), "schema" (definition or data shape),
 * "transient" (retry), "fatal" (environment, bug, usage). */
#define SL_ERRNO_MAP(X)                                                        \
    X(ENOMEM, 1, "fatal", 4, "out of memory")                                  \
    X(EIO, 2, "transient", 3, "input/output error")                            \
    X(EUSAGE, 3, "fatal", 2, "usage error")                                    \
    X(ESCHEMA, 4, "schema", 2, "invalid table definition")                     \
    X(ECORRUPT, 5, "corrupt", 3, "corrupt or unreadable input")                \
    X(ETOOMANYBAD, 6, "schema", 3, "too many bad records")                     \
    X(EWAREHOUSE, 7, "fatal", 4, "warehouse error")                            \
    X(ENOTFOUND, 8, "fatal", 2, "not found")                                   \
    X(ELIMIT, 9, "corrupt", 3, "limit exceeded")                               \
    X(EINVAL, 10, "schema", 3, "invalid value")                                \
    X(EENV, 11, "fatal", 4, "environment error")                               \
    X(EBUSY, 12, "transient", 4, "warehouse busy or locked")                   \
    X(EUNAVAIL, 13, "transient", 4, "warehouse unreachable")                   \
    X(ENOSPC, 14, "transient", 4, "no space left on device")                   \
    X(EAUTH, 15, "fatal", 4, "authentication failed")                          \
    X(ECHANGED, 16, "corrupt", 3, "file changed while being read")

enum {
    SL_OK = 0,
#define SL_ERR_ENUM(name, val, cls, ex, text) SL_##name = val,
    SL_ERRNO_MAP(SL_ERR_ENUM)
#undef SL_ERR_ENUM
};

struct sl_error {
    int code;                /* negative -SL_E*, 0 when no error */
    int sub;                 /* errno, DuckDB state, HTTP status, ... */
    const char *src_file;    /* where it was raised (__FILE__) */
    int src_line;            /* where it was raised (__LINE__) */
    char path[256];          /* input or definition file, "" if none */
    uint64_t line_no;        /* 1-based line, 0 if unknown */
    uint64_t byte_off;       /* byte offset in the uncompressed input */
    char column[128];        /* dotted field path, "" if none */
    char msg[512];           /* one line, no newline */
    uint32_t retry_after_ms; /* transient errors: suggested delay, 0 = the
                                caller's own backoff */
};

/* Record the first error only: later calls on an already set error are ignored.
 * Returns `code` so callers can `return SL_ERR(err, -SL_EIO, "...")`. */
int sl__error_set(struct sl_error *err, int code, const char *file, int line,
                  const char *fmt, ...) SL_PRINTF(5, 6);
#define SL_ERR(err, code, ...)                                                 \
    sl__error_set((err), (code), __FILE__, __LINE__, __VA_ARGS__)

/* Fill the error's path (truncated to fit). Borrowed string. */
void sl__error_path(struct sl_error *err, const char *path);
/* Prefix context to an already set message: "batch 17: <msg>". */
void sl__error_prefix(struct sl_error *err, const char *fmt, ...)
    SL_PRINTF(2, 3);
void sl__error_clear(struct sl_error *err);

const char *sl_strerror(int code); /* text of a code (either sign) */
const char *sl_errname(int code);  /* "SL_EIO", ... */
const char *
sl_errclass(int code);      /* "corrupt" | "schema" | "transient" | "fatal" */
int sl_exit_code(int code); /* documented CLI exit code: 0,2,3,4 */

#endif
