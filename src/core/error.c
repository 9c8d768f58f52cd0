/* error.c - error values: first failure wins, fixed size, no allocation. core stage. */
#include "core/common.h"
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sl__error_set(struct sl_error *err, int code, const char *file, int line,
                  const char *fmt, ...)
{
    if (err == NULL || err->code != 0) {
        return code;
    }
    err->code = code;
    err->src_file = file;
    err->src_line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void sl__error_path(struct sl_error *err, const char *path)
{
    if (err != NULL && path != NULL) {
        snprintf(err->path, sizeof(err->path), "%s", path);
    }
}

void sl__error_prefix(struct sl_error *err, const char *fmt, ...)
{
    if (err == NULL) {
        return;
    }
    char pre[256], old[sizeof(err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof(pre), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    snprintf(err->msg, sizeof(err->msg), "%s%s", pre, old);
}

void sl__error_clear(struct sl_error *err)
{
    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
}

const char *sl_strerror(int code)
{
    switch (code < 0 ? -code : code) {
    case 0:
        return "ok";
#define SL_ERR_TEXT(name, val, cls, ex, text)                                  \
    case val:                                                                  \
        return text;
        SL_ERRNO_MAP(SL_ERR_TEXT)
#undef SL_ERR_TEXT
    default:
        return "unknown error";
    }
}

const char *sl_errname(int code)
{
    switch (code < 0 ? -code : code) {
    case 0:
        return "SL_OK";
#define SL_ERR_NAME(name, val, cls, ex, text)                                  \
    case val:                                                                  \
        return "SL_" #name;
        SL_ERRNO_MAP(SL_ERR_NAME)
#undef SL_ERR_NAME
    default:
        return "SL_EUNKNOWN";
    }
}

const char *sl_errclass(int code)
{
    switch (code < 0 ? -code : code) {
    case 0:
        return "none";
#define SL_ERR_CLASS(name, val, cls, ex, text)                                 \
    case val:                                                                  \
        return cls;
        SL_ERRNO_MAP(SL_ERR_CLASS)
#undef SL_ERR_CLASS
    default:
        return "fatal";
    }
}

int sl_exit_code(int code)
{
    switch (code < 0 ? -code : code) {
    case 0:
        return 0;
#define SL_ERR_EXIT(name, val, cls, ex, text)                                  \
    case val:                                                                  \
        return ex;
        SL_ERRNO_MAP(SL_ERR_EXIT)
#undef SL_ERR_EXIT
    default:
        return 4;
    }
}
