/* opts.c - option parsing shared by the subcommands, from one table: each
 * option's canonical name, whether it takes a value, which commands it
 * applies to and whether it is for CSV input only. Errors ("does not apply",
 * bad values, unknown names) and every command's --help option list come from
 * it. bq load's spellings are accepted beside ours: underscores for dashes,
 * --flag=value, --noflag and --flag=false, --source_format, and the
 * positional [PROJECT:]DATASET.TABLE SOURCE [SCHEMA]. cli. */
#include "core/common.h"

#include "cli/cli.h"
#include "warehouse/driver.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_print_error_then(const char *cmd, const struct sl_error *err,
                          const char *then)
{
    fprintf(stderr, "sluice %s: error: %s", cmd,
            err->msg[0] ? err->msg : sl_strerror(err->code));
    if (err->column[0]) {
        fprintf(stderr, " (field %s)", err->column);
    }
    fprintf(stderr, "%s [%s, %s]\n", then ? then : "", sl_errname(err->code),
            sl_errclass(err->code));
}

void cli_print_error(const char *cmd, const struct sl_error *err)
{
    cli_print_error_then(cmd, err, NULL);
}

int cli_fail(const char *cmd, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "sluice %s: error: %s [%s, %s]\n", cmd, msg,
            sl_errname(code), sl_errclass(code));
    return sl_exit_code(code);
}

/* ---- the table -------------------------------------------------------------
 */

enum opt_id {
    OPT_SCHEMAS,
    OPT_SCHEMA,
    OPT_TABLE,
    OPT_AUTODETECT,
    OPT_FORMAT,
    OPT_SOURCE_FORMAT,
    OPT_REJECTS,
    OPT_IGNORE_UNKNOWN,
    OPT_MAX_BAD,
    OPT_MAX_ROW,
    OPT_MAX_VALUE,
    OPT_THREADS,
    OPT_WAREHOUSE,
    OPT_FORCE,
    OPT_REPLACE,
    OPT_NOREPLACE,
    OPT_WRITE_DISPOSITION,
    OPT_SCHEMA_UPDATE,
    OPT_LOCK_TIMEOUT,
    OPT_WRITE,
    OPT_FILE,
    OPT_QUIET,
    OPT_SKIP_LEADING_ROWS,
    OPT_HEADER,
    OPT_FIELD_DELIMITER,
    OPT_QUOTE,
    OPT_ALLOW_QUOTED_NEWLINES,
    OPT_ALLOW_JAGGED_ROWS,
    OPT_NULL_MARKER,
    OPT_ENCODING,
};

#define V CLI_VALIDATE
#define L CLI_LOAD
#define Q CLI_QUERY
#define A CLI_APPLY

struct optdef {
    const char *name; /* canonical: dashes ("--max-bad-records"); the
                         underscore spelling is the same option */
    enum opt_id id;
    unsigned cmds;   /* the commands it applies to (CLI_*) */
    bool csv;        /* for CSV input only */
    const char *arg; /* its value in --help; NULL = a flag (no value) */
    const char *help;
};

/* In --help order. */
static const struct optdef opts[] = {
    {"--schemas", OPT_SCHEMAS, V | L | A, false, "DIR",
     "folder of table definitions (docs/SCHEMAS.md)"},
    {"--schema", OPT_SCHEMA, V | L, false, "FILE|name:TYPE,...",
     "the table's BigQuery schema (a file, or bq's inline form) instead of "
     "--schemas"},
    {"--table", OPT_TABLE, V | L, false, "[PROJECT:]DATASET.TABLE",
     "the table (or give it first, as bq load does)"},
    {"--autodetect", OPT_AUTODETECT, V | L, false, NULL,
     "a table with no definition gets the schema inferred from the files"},
    {"--format", OPT_FORMAT, V | L | Q, false, "ndjson|csv",
     "input format (default: from the file name: .csv/.tsv CSV, else NDJSON)"},
    {"--source-format", OPT_SOURCE_FORMAT, V | L, false,
     "NEWLINE_DELIMITED_JSON|CSV", "the same, bq's spelling"},
    {"--rejects", OPT_REJECTS, V | L, false, "FILE",
     "write every bad record as one JSON object per line"},
    {"--ignore-unknown-values", OPT_IGNORE_UNKNOWN, V | L, false, NULL,
     "drop unknown keys / extra CSV columns instead of rejecting the row"},
    {"--max-bad-records", OPT_MAX_BAD, V | L, false, "N",
     "bad records tolerated per file (default 0)"},
    {"--max-row-size", OPT_MAX_ROW, V | L, false, "BYTES",
     "longest row accepted (default 104857600)"},
    {"--max-value-size", OPT_MAX_VALUE, V | L, false, "BYTES",
     "longest single value accepted (default 10485760)"},
    {"--threads", OPT_THREADS, V | L, false, "N",
     "threads for a large plain file (default: the CPUs); a load's rows then "
     "land in no particular order"},
    {"--warehouse", OPT_WAREHOUSE, L | Q | A, false, "URI",
     "default duckdb://./warehouse.duckdb (or $SLUICE_WAREHOUSE)"},
    {"--force", OPT_FORCE, L, false, NULL,
     "load even if this file's content was loaded before"},
    {"--replace", OPT_REPLACE, L, false, NULL,
     "replace the table's rows (WRITE_TRUNCATE)"},
    {"--noreplace", OPT_NOREPLACE, L, false, NULL, "append (the default)"},
    {"--write-disposition", OPT_WRITE_DISPOSITION, L, false,
     "WRITE_APPEND|WRITE_TRUNCATE|WRITE_EMPTY",
     "append, replace the rows, or load only into an empty table"},
    {"--schema-update-option", OPT_SCHEMA_UPDATE, L, false,
     "ALLOW_FIELD_ADDITION|ALLOW_FIELD_RELAXATION",
     "accepted; a definition that differs from the table still fails"},
    {"--lock-timeout", OPT_LOCK_TIMEOUT, L | Q | A, false, "S",
     "wait up to S seconds for a warehouse another process holds (60)"},
    {"--file", OPT_FILE, Q, false, "FILE|-",
     "run the statements of a script file (- = stdin) instead of SQL"},
    {"--write", OPT_WRITE, Q, false, NULL,
     "open the warehouse read-write (default: read-only)"},
    {"--quiet", OPT_QUIET, V | L | A, false, NULL, "print only errors"},
    {"--skip-leading-rows", OPT_SKIP_LEADING_ROWS, V | L, true, "N",
     "rows skipped at the top of each file"},
    {"--header", OPT_HEADER, V | L, true, NULL,
     "the first row (the last skipped one) names the columns: matched to "
     "fields by name"},
    {"--field-delimiter", OPT_FIELD_DELIMITER, V | L, true, "C",
     "one byte; '\\t' or tab for TAB (default ,)"},
    {"--quote", OPT_QUOTE, V | L, true, "C",
     "quote byte (default \"; '' for none)"},
    {"--allow-quoted-newlines", OPT_ALLOW_QUOTED_NEWLINES, V | L, true, NULL,
     "newlines inside quoted values"},
    {"--allow-jagged-rows", OPT_ALLOW_JAGGED_ROWS, V | L, true, NULL,
     "missing trailing columns are NULL"},
    {"--null-marker", OPT_NULL_MARKER, V | L, true, "S",
     "the text that means NULL (default: an empty field)"},
    {"--encoding", OPT_ENCODING, V | L, true, "UTF-8|ISO-8859-1",
     "the file's encoding (default UTF-8)"},
};

#undef V
#undef L
#undef Q
#undef A

static const char *cmd_names(unsigned cmds, char *out, size_t size)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{CLI_VALIDATE, "validate"},
                 {CLI_LOAD, "load"},
                 {CLI_QUERY, "query"},
                 {CLI_APPLY, "schema apply"}};
    size_t n = 0, k = 0, total = 0;
    for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
        total += (cmds & names[i].bit) != 0;
    }
    out[0] = '\0';
    for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
        if (cmds & names[i].bit) {
            k++;
            n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s",
                                  k == 1       ? ""
                                  : k == total ? " and "
                                               : ", ",
                                  names[i].name);
        }
    }
    return out;
}

/* "--max_bad_records" -> "--max-bad-records" (bq's spellings are ours). */
static void canonical(const char *name, size_t len, char *out, size_t size)
{
    size_t n = len < size - 1 ? len : size - 1;
    for (size_t i = 0; i < n; i++) {
        out[i] = i >= 2 && name[i] == '_' ? '-' : name[i];
    }
    out[n] = '\0';
}

static const struct optdef *find_opt(const char *canon)
{
    for (size_t i = 0; i < SL_ARRAY_LEN(opts); i++) {
        if (strcmp(opts[i].name, canon) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

/* Edit distance, for "did you mean"; small strings only. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) {
        return 99;
    }
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++) {
        d[i][0] = i;
    }
    for (size_t j = 0; j <= lb; j++) {
        d[0][j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            size_t x = d[i - 1][j] + 1, y = d[i][j - 1] + 1;
            d[i][j] = c < x ? (c < y ? c : y) : (x < y ? x : y);
        }
    }
    return d[la][lb];
}

/* Text from column col (the cursor is there) wrapped at 80 columns. */
static void help_wrap(const char *help, size_t col)
{
    enum { WIDTH = 80 };
    size_t at = col;
    while (*help != '\0') {
        size_t w = strcspn(help, " ");
        if (at > col && at + 1 + w > WIDTH) {
            printf("\n%*s", (int)col, "");
            at = col;
        } else if (at > col) {
            putchar(' ');
            at++;
        }
        printf("%.*s", (int)w, help);
        at += w;
        help += w;
        help += strspn(help, " ");
    }
    putchar('\n');
}

/* "  LEFT  help text", the help wrapped under itself. */
static void help_line(const char *left, const char *help)
{
    enum { COL = 30 };
    if (strlen(left) >= COL - 3) {
        printf("  %s\n%*s", left, COL, "");
    } else {
        printf("  %-*s", COL - 2, left);
    }
    help_wrap(help, COL);
}

static void print_help(enum cli_cmd cmd, const char *usage)
{
    fputs(usage, stdout);
    bool any_csv = false;
    const char *example = NULL;
    char left[80];
    printf("options:\n");
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < SL_ARRAY_LEN(opts); i++) {
            const struct optdef *d = &opts[i];
            if (!(d->cmds & cmd) || d->csv != (pass == 1)) {
                continue;
            }
            if (example == NULL && d->arg != NULL && strchr(d->name + 2, '-')) {
                example = d->name;
            }
            if (d->id == OPT_FORMAT && cmd == CLI_QUERY) {
                help_line("--format table|csv|json",
                          "output format (default table; json: one object "
                          "a line)");
                continue;
            }
            if (pass == 1 && !any_csv) {
                printf("CSV options (an error on NDJSON input):\n");
                any_csv = true;
            }
            snprintf(left, sizeof(left), "%s%s%s", d->name, d->arg ? " " : "",
                     d->arg ? d->arg : "");
            help_line(left, d->help);
        }
    }
    char foot[400], bq[64] = "";
    if (example != NULL) {
        snprintf(bq, sizeof(bq), "%s", example);
        for (char *p = bq + 2; *p; p++) {
            *p = *p == '-' ? '_' : *p;
        }
    }
    snprintf(foot, sizeof(foot),
             "bq's spellings work too: underscores for dashes%s%s%s, "
             "--name=value, --noFLAG and --FLAG=false. An option of another "
             "command is an error%s.",
             bq[0] ? " (" : "", bq, bq[0] ? ")" : "",
             any_csv ? ", and so is a CSV option on NDJSON input" : "");
    help_wrap(foot, 0);
    printf("Exit codes: 0 done, 2 usage or definition error, 3 too many bad "
           "records or\nunreadable input, 4 warehouse or environment "
           "error.\n");
}

/* ---- values ----------------------------------------------------------------
 */

static bool parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0' || *s == '-' || *s == '+') {
        return false;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

/* A delimiter or quote option: one byte, "\t"/"tab" for TAB; empty only
 * where allowed (-1: no quoting). */
static bool parse_char(const char *s, int *out, bool allow_empty)
{
    if (strcmp(s, "\\t") == 0 || strcasecmp(s, "tab") == 0 ||
        strcmp(s, "\t") == 0) {
        *out = '\t';
        return true;
    }
    if (*s == '\0') {
        *out = -1;
        return allow_empty;
    }
    *out = (unsigned char)s[0];
    return s[1] == '\0';
}

/* "ndjson" / "csv" for an input format name (ours or bq's, any case); NULL
 * for anything else. */
static const char *input_format(const char *s)
{
    if (strcasecmp(s, "ndjson") == 0 || strcasecmp(s, "json") == 0 ||
        strcasecmp(s, "jsonl") == 0 ||
        strcasecmp(s, "NEWLINE_DELIMITED_JSON") == 0) {
        return "ndjson";
    }
    if (strcasecmp(s, "csv") == 0) {
        return "csv";
    }
    return NULL;
}

/* Set one option from its value (NULL for a flag; for a flag given false,
 * on = false). 0 or an exit code after a message. typed = its name as the user
 * wrote it; arg = the argument that named it (argv: kept for later messages,
 * which print it up to any '='). */
static int apply(struct cli_opts *o, const struct optdef *d, const char *typed,
                 const char *arg, const char *val, bool on)
{
    const char *cmd = o->name;
    uint64_t u;
    int ch;
    /* UTF-8 is what NDJSON is read as: --encoding UTF-8 is fine there */
    bool utf8 = d->id == OPT_ENCODING &&
                (strcasecmp(val, "UTF-8") == 0 || strcasecmp(val, "UTF8") == 0);
    if (d->csv && on && !utf8 && o->csv_opt == NULL) {
        o->csv_opt = arg;
    }
    switch (d->id) {
    case OPT_SCHEMAS:
        o->schemas = val;
        break;
    case OPT_SCHEMA:
        o->schema = val;
        break;
    case OPT_TABLE:
        o->table = val;
        break;
    case OPT_AUTODETECT:
        o->autodetect = on;
        break;
    case OPT_FORMAT:
    case OPT_SOURCE_FORMAT:
        if (o->cmd == CLI_QUERY) {
            if (strcmp(val, "table") != 0 && strcmp(val, "csv") != 0 &&
                strcmp(val, "json") != 0) {
                return cli_fail(cmd, -SL_EUSAGE,
                                "%s %s: query %s takes table, csv or json",
                                typed, val, typed);
            }
            o->query_format = val;
            break;
        }
        o->format = input_format(val);
        o->format_opt = arg;
        if (o->format == NULL) {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s %s: %s %s takes NEWLINE_DELIMITED_JSON (or "
                            "ndjson, json, jsonl) or CSV, in any case; sluice "
                            "reads no other format",
                            typed, val, cmd, typed);
        }
        break;
    case OPT_REJECTS:
        o->rejects = val;
        break;
    case OPT_IGNORE_UNKNOWN:
        o->v.ignore_unknown = on;
        break;
    case OPT_MAX_BAD:
        if (!parse_u64(val, &o->v.max_bad)) {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s %s: %s %s takes a number of records (0 or "
                            "more)",
                            typed, val, cmd, typed);
        }
        break;
    case OPT_MAX_ROW:
    case OPT_MAX_VALUE:
        if (!parse_u64(val, &u) || u == 0 || u > SIZE_MAX / 4) {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s %s: %s %s takes a positive number of bytes",
                            typed, val, cmd, typed);
        }
        *(d->id == OPT_MAX_ROW ? &o->v.max_row_size : &o->v.max_value_size) =
            (size_t)u;
        break;
    case OPT_THREADS:
        if (!parse_u64(val, &u) || u == 0 || u > 64) {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s %s: %s %s takes a number of threads, 1 to 64",
                            typed, val, cmd, typed);
        }
        o->threads = (unsigned)u;
        break;
    case OPT_WAREHOUSE:
        o->warehouse = val;
        break;
    case OPT_FORCE:
        o->force = on;
        break;
    case OPT_REPLACE:
        o->batch_flags = on ? SL_BATCH_TRUNCATE : 0;
        break;
    case OPT_NOREPLACE:
        o->batch_flags = on ? 0 : SL_BATCH_TRUNCATE;
        break;
    case OPT_WRITE_DISPOSITION:
        /* WRITE_TRUNCATE_DATA keeps the table's schema: so does every
         * truncate here (a definition never changes a table) */
        if (strcasecmp(val, "WRITE_APPEND") == 0) {
            o->batch_flags = 0;
        } else if (strcasecmp(val, "WRITE_TRUNCATE") == 0 ||
                   strcasecmp(val, "WRITE_TRUNCATE_DATA") == 0) {
            o->batch_flags = SL_BATCH_TRUNCATE;
        } else if (strcasecmp(val, "WRITE_EMPTY") == 0) {
            o->batch_flags = SL_BATCH_EMPTY;
        } else {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s %s: %s %s takes WRITE_APPEND, WRITE_TRUNCATE "
                            "(or WRITE_TRUNCATE_DATA) or WRITE_EMPTY",
                            typed, val, cmd, typed);
        }
        break;
    case OPT_SCHEMA_UPDATE:
        if (strcasecmp(val, "ALLOW_FIELD_ADDITION") == 0) {
            o->schema_update |= CLI_ALLOW_FIELD_ADDITION;
        } else if (strcasecmp(val, "ALLOW_FIELD_RELAXATION") == 0) {
            o->schema_update |= CLI_ALLOW_FIELD_RELAXATION;
        } else {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s %s: %s %s takes ALLOW_FIELD_ADDITION or "
                            "ALLOW_FIELD_RELAXATION (repeat it for both)",
                            typed, val, cmd, typed);
        }
        break;
    case OPT_LOCK_TIMEOUT: {
        char *end = NULL;
        double secs = strtod(val, &end);
        if (end == val || *end != '\0' || !(secs >= 0) || secs > 86400) {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s %s: %s %s takes a number of seconds, 0 to "
                            "86400",
                            typed, val, cmd, typed);
        }
        o->lock_timeout_ms = (uint32_t)(secs * 1000);
        break;
    }
    case OPT_FILE:
        o->query_file = val;
        break;
    case OPT_WRITE:
        o->write = on;
        break;
    case OPT_QUIET:
        o->quiet = on;
        break;
    case OPT_SKIP_LEADING_ROWS:
        if (!parse_u64(val, &o->v.skip_leading_rows)) {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s %s: %s %s takes a number of rows (0 or more)",
                            typed, val, cmd, typed);
        }
        break;
    case OPT_HEADER:
        o->v.header = on;
        break;
    case OPT_FIELD_DELIMITER:
        if (!parse_char(val, &ch, false)) {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s '%s': %s %s takes one single-byte character "
                            "('\\t' or tab for TAB)",
                            typed, val, cmd, typed);
        }
        o->v.csv.delim = (char)ch;
        break;
    case OPT_QUOTE:
        if (!parse_char(val, &ch, true)) {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s '%s': %s %s takes one single-byte character, "
                            "or '' for no quoting",
                            typed, val, cmd, typed);
        }
        o->v.csv.quote = ch;
        break;
    case OPT_ALLOW_QUOTED_NEWLINES:
        o->v.csv.allow_quoted_newlines = on;
        break;
    case OPT_ALLOW_JAGGED_ROWS:
        o->v.allow_jagged = on;
        break;
    case OPT_NULL_MARKER:
        o->v.null_marker = val;
        break;
    case OPT_ENCODING:
        if (strcasecmp(val, "UTF-8") == 0 || strcasecmp(val, "UTF8") == 0) {
            o->v.csv.latin1 = false;
        } else if (strcasecmp(val, "ISO-8859-1") == 0 ||
                   strcasecmp(val, "ISO_8859_1") == 0 ||
                   strcasecmp(val, "latin1") == 0) {
            o->v.csv.latin1 = true;
        } else {
            return cli_fail(cmd, -SL_EUSAGE,
                            "%s %s: %s %s takes UTF-8 or ISO-8859-1 (convert "
                            "UTF-16 or UTF-32 with iconv -t UTF-8 first)",
                            typed, val, cmd, typed);
        }
        break;
    }
    return 0;
}

/* ---- the table reference and the positional form ---------------------------
 */

/* bq project ids: 6-30 lowercase letters, digits and hyphens, starting with
 * a letter, not ending with a hyphen; optionally "domain.com:" before. */
static bool project_ok(const char *p, size_t len)
{
    const char *colon = memchr(p, ':', len);
    if (colon != NULL) {
        size_t dl = (size_t)(colon - p);
        if (dl == 0 || memchr(p, '.', dl) == NULL) {
            return false;
        }
        for (size_t i = 0; i < dl; i++) {
            char c = p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-')) {
                return false;
            }
        }
        len -= dl + 1;
        p = colon + 1;
    }
    if (len < 6 || len > 30 || !(p[0] >= 'a' && p[0] <= 'z') ||
        p[len - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

/* Split [PROJECT:]DATASET.TABLE: the project is checked and kept aside (no
 * warehouse here has projects), the rest must be a valid [DATASET.]TABLE. */
static int table_ref(struct cli_opts *o, const char *how)
{
    const char *ref = o->table;
    const char *colon = strrchr(ref, ':');
    if (colon != NULL) {
        size_t pl = (size_t)(colon - ref);
        if (!project_ok(ref, pl) || pl >= sizeof(o->project)) {
            return cli_fail(o->name, -SL_EUSAGE,
                            "%s %s: '%.*s' is not a project id (6 to 30 "
                            "lowercase letters, digits or hyphens, starting "
                            "with a letter; [DOMAIN:]PROJECT)",
                            how, ref, (int)pl, ref);
        }
        memcpy(o->project, ref, pl);
        o->project[pl] = '\0';
        ref = colon + 1;
    }
    const char *dot = strchr(ref, '.');
    char ds[1100];
    bool ok;
    if (dot != NULL && (size_t)(dot - ref) < sizeof(ds)) {
        memcpy(ds, ref, (size_t)(dot - ref));
        ds[dot - ref] = '\0';
        ok = sl_dataset_name_ok(ds) && sl_table_name_ok(dot + 1);
    } else {
        ok = dot == NULL && sl_table_name_ok(ref);
    }
    if (!ok) {
        return cli_fail(o->name, -SL_EUSAGE,
                        "%s %s: not a [PROJECT:]DATASET.TABLE (dataset and "
                        "table names are letters, digits and _; tables also "
                        "-)",
                        how, o->table);
    }
    o->table = ref;
    return 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return strcmp(path, "-") == 0 || stat(path, &st) == 0;
}

/* validate/load: --table and FILE..., or bq's DATASET.TABLE SOURCE [SCHEMA]
 * (SOURCE a comma-separated list, as bq's). pos are the positionals. */
static int positional(struct cli_opts *o, const char **pos, size_t n)
{
    const char *cmd = o->name;
    if (o->table != NULL) {
        for (size_t i = 0; i < n; i++) {
            o->files[o->n_files++] = pos[i];
        }
        return table_ref(o, "--table");
    }
    if (n == 0) {
        return cli_fail(cmd, -SL_EUSAGE,
                        "no table: give --table [DATASET.]TABLE FILE..., or "
                        "as bq load does: sluice %s [flags] "
                        "[PROJECT:]DATASET.TABLE SOURCE [SCHEMA] (see sluice "
                        "%s --help)",
                        cmd, cmd);
    }
    if (exists(pos[0])) {
        return cli_fail(cmd, -SL_EUSAGE,
                        "no table: %s is a file, not a table; give --table "
                        "[DATASET.]TABLE, or the table first: sluice %s "
                        "[flags] DATASET.TABLE SOURCE [SCHEMA]",
                        pos[0], cmd);
    }
    if (n == 1 || n > 3) {
        return cli_fail(
            cmd, -SL_EUSAGE,
            "%s: the positional form is sluice %s [flags] "
            "[PROJECT:]DATASET.TABLE SOURCE [SCHEMA] (%s); give "
            "several files as a comma-separated SOURCE, or with "
            "--table",
            n == 1 ? "no SOURCE after the table" : "too many arguments", cmd,
            n == 1 ? "SOURCE: files, or - for stdin"
                   : "SCHEMA is a file or name:TYPE,...");
    }
    o->table = pos[0];
    int rc = table_ref(o, "table");
    if (rc != 0) {
        return rc;
    }
    if (n == 3) {
        if (o->schema != NULL) {
            return cli_fail(cmd, -SL_EUSAGE,
                            "the schema is given twice: --schema %s and %s",
                            o->schema, pos[2]);
        }
        o->schema = pos[2];
    }
    const char *src = pos[1];
    if (exists(src) || strchr(src, ',') == NULL) {
        o->files[o->n_files++] = src;
        return 0;
    }
    /* bq's comma-separated SOURCE: split a copy in place */
    size_t parts = 1;
    for (const char *p = src; *p; p++) {
        parts += *p == ',';
    }
    const char **files = realloc(o->files, (parts + 1) * sizeof(*files));
    if (files != NULL) {
        o->files = files;
    }
    o->strs = strdup(src);
    if (files == NULL || o->strs == NULL) {
        return cli_fail(cmd, -SL_ENOMEM, "out of memory");
    }
    for (char *save = NULL, *t = strtok_r(o->strs, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        o->files[o->n_files++] = t;
    }
    return 0;
}

/* ---- parsing ---------------------------------------------------------------
 */

void cli_opts_release(struct cli_opts *o)
{
    free(o->files);
    free(o->strs);
    o->files = NULL;
    o->strs = NULL;
}

static const char *cmd_name(enum cli_cmd cmd)
{
    switch (cmd) {
    case CLI_VALIDATE:
        return "validate";
    case CLI_LOAD:
        return "load";
    case CLI_QUERY:
        return "query";
    case CLI_APPLY:
        return "schema apply";
    }
    return "?";
}

/* An option name no entry has: say so, with the nearest name (this
 * command's first). */
static int unknown(struct cli_opts *o, const char *typed, const char *canon)
{
    const struct optdef *best = NULL;
    size_t bd = 3, cl = strlen(canon);
    for (int pass = 0; pass < 2 && best == NULL; pass++) {
        for (size_t i = 0; i < SL_ARRAY_LEN(opts); i++) {
            if (((opts[i].cmds & o->cmd) != 0) != (pass == 0)) {
                continue;
            }
            size_t d = distance(canon, opts[i].name);
            if (cl > 5 && strncmp(canon, opts[i].name, cl) == 0) {
                d = 1; /* an abbreviation */
            }
            if (d < bd) {
                bd = d;
                best = &opts[i];
            }
        }
    }
    if (best != NULL) {
        char where[80];
        bool here = (best->cmds & o->cmd) != 0;
        return cli_fail(o->name, -SL_EUSAGE,
                        "unknown option %s; did you mean %s%s%s%s? (sluice "
                        "%s --help lists them)",
                        typed, best->name, here ? "" : " (an option of ",
                        here ? "" : cmd_names(best->cmds, where, sizeof(where)),
                        here ? "" : ")", o->name);
    }
    return cli_fail(o->name, -SL_EUSAGE,
                    "unknown option %s (sluice %s --help lists them)", typed,
                    o->name);
}

int cli_parse(int argc, char **argv, enum cli_cmd cmd, const char *usage,
              struct cli_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->cmd = cmd;
    o->name = cmd_name(cmd);
    sl_vopts_default(&o->v);
    o->warehouse = getenv("SLUICE_WAREHOUSE");
    if (o->warehouse == NULL) {
        o->warehouse = SL_DEFAULT_WAREHOUSE;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (unsigned)ncpu;
    o->query_format = "table";
    o->lock_timeout_ms = 60000;
    o->files = calloc((size_t)argc + 1, sizeof(*o->files));
    const char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    if (o->files == NULL || pos == NULL) {
        free(pos);
        return cli_fail(o->name, -SL_ENOMEM, "out of memory");
    }
    size_t n_pos = 0;
    bool only_files = false;
    int rc = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (only_files || a[0] != '-' || strcmp(a, "-") == 0) {
            pos[n_pos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_files = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help(cmd, usage);
            free(pos);
            cli_opts_release(o);
            exit(0);
        }
        /* --name=value or --name value; bq's --name_with_underscores */
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        char typed[72], canon[72];
        snprintf(typed, sizeof(typed), "%.*s", (int)(nl < 64 ? nl : 64), a);
        canonical(a, nl < 64 ? nl : 64, canon, sizeof(canon));
        const struct optdef *d = nl < 64 ? find_opt(canon) : NULL;
        bool on = true;
        if (d == NULL && strncmp(canon, "--no", 4) == 0 && canon[4] != '-') {
            /* bq's --noFLAG for a flag */
            char yes[72];
            snprintf(yes, sizeof(yes), "--%s", canon + 4);
            d = find_opt(yes);
            if (d != NULL && d->arg != NULL) {
                d = NULL;
            }
            on = false;
        }
        if (d == NULL) {
            rc = unknown(o, typed, canon);
            break;
        }
        if (!(d->cmds & cmd)) {
            char where[80];
            rc = cli_fail(o->name, -SL_EUSAGE,
                          "%s does not apply to %s: it is an option of %s",
                          typed, o->name,
                          cmd_names(d->cmds, where, sizeof(where)));
            break;
        }
        /* the value: a flag takes none (bq's =true / =false aside) */
        const char *val = NULL;
        if (d->arg == NULL) {
            if (eq != NULL) {
                if (strcasecmp(eq + 1, "true") == 0 ||
                    strcmp(eq + 1, "1") == 0) {
                    /* as given: --flag=true is --flag, --noflag=true no */
                } else if (strcasecmp(eq + 1, "false") == 0 ||
                           strcmp(eq + 1, "0") == 0) {
                    on = !on;
                } else {
                    rc = cli_fail(o->name, -SL_EUSAGE,
                                  "%s takes no value (or bq's =true / "
                                  "=false), not '%s'",
                                  typed, eq + 1);
                    break;
                }
            }
        } else if (eq != NULL) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            rc = cli_fail(
                o->name, -SL_EUSAGE, "%s needs a value: %s %s", typed, typed,
                d->id == OPT_FORMAT && cmd == CLI_QUERY ? "table|csv|json"
                                                        : d->arg);
            break;
        }
        rc = apply(o, d, typed, a, val, on);
    }
    if (rc == 0) {
        if (cmd == CLI_VALIDATE || cmd == CLI_LOAD) {
            rc = positional(o, pos, n_pos);
        } else if (cmd == CLI_QUERY) {
            if (n_pos != (o->query_file != NULL ? 0u : 1u)) {
                rc = cli_fail(o->name, -SL_EUSAGE,
                              o->query_file != NULL
                                  ? "give --file or a SQL argument, not both"
                                  : "give exactly one SQL argument (quote the "
                                    "statement; several are separated by ;) "
                                    "or --file FILE (see sluice query --help)");
            } else if (n_pos == 1) {
                o->files[o->n_files++] = pos[0];
            }
        } else if (n_pos > 0) {
            rc = cli_fail(o->name, -SL_EUSAGE,
                          "unexpected argument %s (schema apply takes "
                          "options only)",
                          pos[0]);
        }
    }
    free(pos);
    return rc;
}
