/* csv.h - RFC 4180 CSV reader with BigQuery's options: splits a byte stream into
 * records of field spans. It knows nothing of schemas or warehouses. parse stage.
 *
 * The reader is push-driven over a contiguous buffer holding whole records: the
 * caller (validate) hands it the bytes it has; it returns one record at a time, or
 * asks for more input when a record is not complete in the buffer. */
#ifndef SL_PARSE_CSV_H
#define SL_PARSE_CSV_H

#include "core/common.h"
#include "core/buf.h"

struct sl_csv_opts {
    char delim;                   /* field delimiter byte, default ',' */
    int quote;                    /* quote byte, default '"'; -1 = no quoting */
    bool allow_quoted_newlines;   /* a quoted field may contain CR/LF */
    bool latin1;                  /* ISO-8859-1 input: fields are converted to UTF-8 */
};
void sl_csv_opts_default(struct sl_csv_opts *o);

struct sl_csv_field {
    const char *p;                /* field text after unquoting/unescaping/decoding;
                                     valid until the next sl_csv_next call */
    size_t len;
    bool quoted;                  /* the field was quoted (so "" is an empty string) */
};

enum sl_csv_status {
    SL_CSV_RECORD = 0,            /* a record was returned */
    SL_CSV_NEED_MORE = 1,         /* the buffer ends inside a record: supply more (or eof) */
    SL_CSV_END = 2,               /* eof and nothing left */
    SL_CSV_BAD = 3,               /* a malformed record was consumed; see bad_reason */
};

struct sl_csv {
    struct sl_csv_opts opts;
    struct sl_buf scratch;        /* unescaped field text for this record */
    struct sl_csv_field *fields;  /* fields of the current record, owned */
    size_t n_fields, fields_cap;
    const char *bad_reason;       /* static text for SL_CSV_BAD */
    size_t bad_field_idx;         /* 0-based field index the error was found in */
};

SL_NODISCARD int sl_csv_init(struct sl_csv *c, const struct sl_csv_opts *o);
void sl_csv_release(struct sl_csv *c);

/* Parse one record starting at buf[0] (len bytes available; eof = no more bytes
 * will follow). Record terminators: LF, CR, CRLF (the terminator is consumed).
 * On SL_CSV_RECORD / SL_CSV_BAD sets *out_used to the bytes consumed (record and
 * terminator) and *out_lines to the number of line breaks consumed (so callers
 * can keep line numbers), and the fields are in c->fields[0..n_fields).
 * A newline inside quotes without allow_quoted_newlines ends the record as
 * SL_CSV_BAD ("quoted newline not allowed"), consuming to that newline.
 * Text between a closing quote and the delimiter is SL_CSV_BAD ("data between
 * close quote character and field separator"), consuming the rest of the record.
 * An unterminated quote at eof is SL_CSV_BAD. A NUL byte is SL_CSV_BAD.
 * Returns a negative -SL_ENOMEM on allocation failure. */
SL_NODISCARD int sl_csv_next(struct sl_csv *c, const char *buf, size_t len, bool eof,
                             size_t *out_used, uint64_t *out_lines);

#endif
