/* buf.c - growable byte buffer. core stage. */
#include "core/common.h"
#include "core/buf.h"
#include "core/alloc.h"
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sl__buf_init(struct sl_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void sl__buf_release(struct sl_buf *b)
{
    sl__free(b->data);
    sl__buf_init(b);
}

int sl__buf_reserve(struct sl_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) {
        return SL_OK;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        cap *= 2;
    }
    char *d = sl__realloc(b->data, cap);
    if (d == NULL) {
        return -SL_ENOMEM;
    }
    b->data = d;
    b->cap = cap;
    return SL_OK;
}

int sl__buf_append(struct sl_buf *b, const void *p, size_t n)
{
    int rc = sl__buf_reserve(b, n);
    if (rc != SL_OK) {
        return rc;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return SL_OK;
}

int sl__buf_putc(struct sl_buf *b, char c)
{
    return sl__buf_append(b, &c, 1);
}

int sl__buf_printf(struct sl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return -SL_EINVAL;
    }
    int rc = sl__buf_reserve(b, (size_t)n);
    if (rc != SL_OK) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SL_OK;
}

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) {
        return 1;
    }
    size_t len;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    unsigned cp = c & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return len;
}

int sl__buf_json_str(struct sl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    int rc = sl__buf_putc(b, '"');
    for (size_t i = 0; rc == SL_OK && i < n;) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            rc = sl__buf_append(b, e, 2);
            i++;
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rc = sl__buf_append(b, e, 6);
            i++;
        } else if (c < 0x80) {
            rc = sl__buf_putc(b, (char)c);
            i++;
        } else {
            size_t l = utf8_seq(p + i, n - i);
            if (l == 0) {
                rc = sl__buf_append(b, "\\ufffd", 6);
                i++;
            } else {
                rc = sl__buf_append(b, p + i, l);
                i += l;
            }
        }
    }
    return rc == SL_OK ? sl__buf_putc(b, '"') : rc;
}
