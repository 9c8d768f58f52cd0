/* cause.h - why every row of a file was rejected: what its rejects had in
 * common, turned into one "likely cause" line (NDJSON read as CSV, the wrong
 * delimiter, one field every row fails on, ...). For `sluice validate/load`
 * and the gateway alike. validate stage. */
#ifndef SL_VALIDATE_CAUSE_H
#define SL_VALIDATE_CAUSE_H

#include "core/common.h"
#include "schema/schema.h"
#include "validate/validator.h"

/* A file's rejects, summed up; zero it before the file's first reject. */
struct sl_reject_summary {
    uint64_t seen;          /* rejects counted */
    char first_reason[256]; /* the first reject's reason */
    char first_field[128];  /* its field, "" when none */
    bool same_field;        /* every reject names first_field */
    bool same_kind;         /* every reason starts as first_reason does */
};

/* Count reject r into s. Not thread-safe for one s. */
void sl__reject_track(struct sl_reject_summary *s, const struct sl_reject *r);

/* The likely cause, when every row of the file at path (read with o: its
 * format, CSV delimiter and quote, header) was rejected, as one line into
 * out (size bytes, truncated): the text after "likely cause: ". header_like:
 * the file's first row looks like a header (struct sl_file_stats). opt
 * prefixes the options named: "--" for the command line, "" for
 * sluice.json's load keys (the same names). Reads the file's first bytes. */
void sl__reject_cause(const struct sl_reject_summary *s,
                      const struct sl_vopts *o, const struct sl_table *t,
                      const char *path, bool header_like, const char *opt,
                      char *out, size_t size);

#endif
