/* buf.h - growable byte buffer. core stage. data is always NUL-terminated
 * after a successful append (when cap > 0). */
#ifndef SL_CORE_BUF_H
#define SL_CORE_BUF_H

#include "core/common.h"

struct sl_buf {
    char *data; /* owned; NULL until first growth */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
};

void sl__buf_init(struct sl_buf *b);
void sl__buf_release(struct sl_buf *b);           /* frees; b is re-usable */
SL_NODISCARD int sl__buf_reserve(struct sl_buf *b, size_t extra); /* -SL_ENOMEM */
SL_NODISCARD int sl__buf_append(struct sl_buf *b, const void *p, size_t n);
SL_NODISCARD int sl__buf_putc(struct sl_buf *b, char c);
SL_NODISCARD int sl__buf_printf(struct sl_buf *b, const char *fmt, ...) SL_PRINTF(2, 3);
/* Append s as a JSON string literal (quotes and escapes; invalid UTF-8 bytes
 * become \ufffd). */
SL_NODISCARD int sl__buf_json_str(struct sl_buf *b, const char *s, size_t n);
static inline void sl__buf_reset(struct sl_buf *b)
{
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

#endif
