/* cause.c - the likely cause of a file whose every row was rejected
 * (cause.h). validate stage. */
#include "core/common.h"

#include "validate/cause.h"

#include <stdio.h>
#include <string.h>

/* A reason's kind: its text up to the first ':', '.', '(' or digit ("Could
 * not convert value to INTEGER", "JSON parsing error at position "). */
static size_t reason_kind(const char *s)
{
    return strcspn(s, ":.(0123456789");
}

void sl__reject_track(struct sl_reject_summary *s, const struct sl_reject *r)
{
    const char *field = r->field ? r->field : "";
    if (s->seen++ == 0) {
        snprintf(s->first_reason, sizeof(s->first_reason), "%s", r->reason);
        snprintf(s->first_field, sizeof(s->first_field), "%s", field);
        s->same_field = true;
        s->same_kind = true;
        return;
    }
    s->same_field = s->same_field && strcmp(s->first_field, field) == 0;
    size_t k = reason_kind(s->first_reason);
    s->same_kind = s->same_kind && reason_kind(r->reason) == k &&
                   strncmp(s->first_reason, r->reason, k) == 0;
}

/* The first character of a plain file's text (after a UTF-8 BOM and
 * blanks), or -1 (unreadable, compressed, empty, stdin). */
static int first_char(const char *path)
{
    unsigned char b[256];
    FILE *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "rb");
    size_t n = f != NULL ? fread(b, 1, sizeof(b), f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    size_t i = n >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (i < n &&
           (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) {
        i++;
    }
    if (i >= n || (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) ||
        (n >= 4 && memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0)) {
        return -1;
    }
    return b[i];
}

/* The CSV-specific causes; false when none applies. */
static bool csv_cause(const struct sl_reject_summary *s,
                      const struct sl_vopts *o, const char *path,
                      const char *opt, char *out, size_t size)
{
    int c0 = first_char(path);
    char d = o->csv.delim;
    if (c0 == '{' || c0 == '[') {
        snprintf(out, size,
                 "the file looks like NDJSON (it starts with '%c'), read as "
                 "CSV: say %ssource_format NEWLINE_DELIMITED_JSON (or name it "
                 ".ndjson)",
                 c0, opt);
    } else if (s->same_kind &&
               strncmp(s->first_reason, "Too few values in row: 1 columns",
                       32) == 0) {
        snprintf(out, size,
                 "every record is one column: the delimiter is not '%s'? "
                 "(%sfield_delimiter, e.g. tab or ';')",
                 d == '\t' ? "\\t" : (char[]){d, '\0'}, opt);
    } else if (strncmp(s->first_reason, "CSV parsing error", 17) == 0) {
        snprintf(out, size,
                 "records do not parse as CSV (delimiter '%s', quote '%s'): "
                 "if the file is NDJSON, say %ssource_format "
                 "NEWLINE_DELIMITED_JSON",
                 d == '\t' ? "\\t" : (char[]){d, '\0'},
                 o->csv.quote < 0 ? "none" : (char[]){(char)o->csv.quote, '\0'},
                 opt);
    } else {
        return false;
    }
    return true;
}

void sl__reject_cause(const struct sl_reject_summary *s,
                      const struct sl_vopts *o, const struct sl_table *t,
                      const char *path, bool header_like, const char *opt,
                      char *out, size_t size)
{
    bool csv = o->format == SL_FMT_CSV;
    char why[600];
    if (csv && csv_cause(s, o, path, opt, why, sizeof(why))) {
        /* said */
    } else if (!csv && s->same_kind &&
               strncmp(s->first_reason, "JSON parsing error", 18) == 0) {
        snprintf(why, sizeof(why),
                 "no row is JSON: if the file is CSV, say %ssource_format CSV "
                 "(or name it .csv)",
                 opt);
    } else if (s->same_field && s->first_field[0] != '\0') {
        snprintf(why, sizeof(why), "every row fails on field %s: %s",
                 s->first_field, s->first_reason);
    } else if (s->same_kind) {
        snprintf(why, sizeof(why), "every row fails the same way: %s",
                 s->first_reason);
    } else {
        snprintf(why, sizeof(why),
                 "the file and %s.%s's definition (%s) disagree on many "
                 "fields; the first reason: %s",
                 t->dataset, t->name, t->file, s->first_reason);
    }
    bool header =
        header_like && !o->header &&
        strncmp(s->first_reason, "This row looks like a header", 28) != 0;
    snprintf(out, size, "%s%s%s%s", why,
             header ? "; and its first row looks like a header (" : "",
             header ? opt : "", header ? "header)" : "");
}
