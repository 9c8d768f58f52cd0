/* infer_cmd.c - `sluice schema infer`: print the BigQuery schema of data files
 * that have none, as BigQuery's schema auto-detection would. cli. */
#include "core/common.h"

#include "cli/cli.h"
#include "core/buf.h"
#include "schema/schema.h"
#include "validate/infer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *infer_help =
    "usage: sluice schema infer [options] FILE...|-\n"
    "Print the BigQuery schema (a JSON array of fields) of NDJSON or CSV "
    "files,\n"
    "as BigQuery's schema auto-detection would infer it, widened over every "
    "row\n"
    "read. Several files give one schema. Save it as "
    "DIR/<dataset>/<table>.json\n"
    "and load the files with sluice load --schemas DIR.\n"
    "  --format ndjson|csv        input format (default: from the first "
    "file's\n"
    "                             name: .csv/.tsv, with .gz/.zst; else "
    "NDJSON)\n"
    "  --sample N                 rows read per file (default: all of them;\n"
    "                             BigQuery reads up to 500 of one file)\n"
    "  --required-if-always-present\n"
    "                             REQUIRED for a field present and non-null "
    "in\n"
    "                             every row read (default: NULLABLE)\n"
    "  --quiet                    print only the schema and errors\n"
    "CSV options (as in bq load):\n"
    "  --header                   the first row (or row N of "
    "--skip-leading-rows)\n"
    "                             names the columns; without --header it does "
    "when\n"
    "                             every cell of it is text and some column "
    "below\n"
    "                             is not (BigQuery's header detection)\n"
    "  --skip-leading-rows N      skip N-1 rows; row N is a header if it looks "
    "like\n"
    "                             one, else skipped (0: no header, nothing "
    "skipped)\n"
    "  --field-delimiter C ('\\t' allowed)   --quote C   "
    "--allow-quoted-newlines\n"
    "  --null-marker S            --encoding UTF-8|ISO-8859-1\n"
    "Input may be plain, gzip or zstd (detected by content); '-' reads stdin.\n"
    "Rules, widening and what is refused: docs/SCHEMAS.md, \"Inference\".\n"
    "Exit codes: 0 done, 2 usage error or data no schema can describe, 3\n"
    "unreadable or malformed input, 4 environment error.\n";

struct infer_cli {
    struct sl_infer_opts o;
    const char *format; /* NULL = from the file name */
    bool quiet;
    bool skip_given; /* --skip-leading-rows was given */
    const char **files;
    size_t n_files;
};

static int usage(const char *opt, const char *why)
{
    fprintf(stderr, "sluice schema infer: option %s: %s (see --help)\n", opt,
            why);
    return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    *out = v;
    return errno == 0 && *end == '\0';
}

/* A delimiter or quote: one byte, "\t" or "tab" for TAB; empty quote = no
 * quoting. Returns 0 or the usage exit code. */
static int parse_byte(const char *opt, const char *s, bool allow_empty,
                      int *out)
{
    if (strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0) {
        *out = '\t';
    } else if (*s == '\0' && allow_empty) {
        *out = -1;
    } else if (*s == '\0' || s[1] != '\0') {
        return usage(opt, "must be one single-byte character");
    } else {
        *out = (unsigned char)*s;
    }
    return 0;
}

static bool is_flag(const char *name)
{
    static const char *const flags[] = {"--required-if-always-present",
                                        "--header", "--allow-quoted-newlines",
                                        "--quiet"};
    for (size_t i = 0; i < SL_ARRAY_LEN(flags); i++) {
        if (strcmp(name, flags[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int set_flag(struct infer_cli *c, const char *name)
{
    if (strcmp(name, "--required-if-always-present") == 0) {
        c->o.required_if_always_present = true;
    } else if (strcmp(name, "--header") == 0) {
        c->o.header = SL_INFER_HEADER_YES;
    } else if (strcmp(name, "--allow-quoted-newlines") == 0) {
        c->o.csv.allow_quoted_newlines = true;
    } else {
        c->quiet = true;
    }
    return 0;
}

static int set_option(struct infer_cli *c, const char *name, const char *val)
{
    int ch, rc;
    if (strcmp(name, "--format") == 0) {
        if (strcmp(val, "csv") != 0 && strcmp(val, "ndjson") != 0 &&
            strcmp(val, "json") != 0 && strcmp(val, "jsonl") != 0) {
            return usage(name, "must be ndjson or csv");
        }
        c->format = val;
    } else if (strcmp(name, "--sample") == 0) {
        if (!parse_u64(val, &c->o.sample_rows) || c->o.sample_rows == 0) {
            return usage(name, "must be a positive number of rows");
        }
    } else if (strcmp(name, "--skip-leading-rows") == 0) {
        if (!parse_u64(val, &c->o.skip_leading_rows)) {
            return usage(name, "must be a non-negative integer");
        }
        c->skip_given = true;
    } else if (strcmp(name, "--field-delimiter") == 0) {
        if ((rc = parse_byte(name, val, false, &ch)) != 0) {
            return rc;
        }
        c->o.csv.delim = (char)ch;
    } else if (strcmp(name, "--quote") == 0) {
        if ((rc = parse_byte(name, val, true, &ch)) != 0) {
            return rc;
        }
        c->o.csv.quote = ch;
    } else if (strcmp(name, "--null-marker") == 0) {
        c->o.null_marker = val;
    } else if (strcmp(name, "--encoding") == 0) {
        bool utf8 =
            strcasecmp(val, "UTF-8") == 0 || strcasecmp(val, "UTF8") == 0;
        if (!utf8 && strcasecmp(val, "ISO-8859-1") != 0 &&
            strcasecmp(val, "ISO_8859_1") != 0 &&
            strcasecmp(val, "latin1") != 0) {
            return usage(name, "must be UTF-8 or ISO-8859-1");
        }
        c->o.csv.latin1 = !utf8;
    } else {
        return usage(name, "unknown option");
    }
    return 0;
}

/* argv after "infer": 0, or the exit code (help printed: -1). */
static int parse_args(int argc, char **argv, struct infer_cli *c)
{
    bool only_files = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_files || a[0] != '-' || strcmp(a, "-") == 0) {
            c->files[c->n_files++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_files = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(infer_help, stdout);
            return -1;
        }
        char name[64];
        const char *eq = strchr(a, '=');
        size_t nl = eq != NULL ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof(name)) {
            return usage(a, "unknown option");
        }
        memcpy(name, a, nl);
        name[nl] = '\0';
        int rc;
        if (is_flag(name)) {
            rc = eq != NULL ? usage(name, "takes no value") : set_flag(c, name);
        } else if (eq == NULL && i + 1 >= argc) {
            rc = usage(name, "needs a value");
        } else {
            rc = set_option(c, name, eq != NULL ? eq + 1 : argv[++i]);
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (c->n_files == 0) {
        fputs(infer_help, stderr);
        return 2;
    }
    return 0;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

static enum sl_format format_of(const char *file)
{
    static const char *const csv[] = {".csv", ".csv.gz", ".csv.zst",
                                      ".tsv", ".tsv.gz", ".tsv.zst"};
    for (size_t i = 0; i < SL_ARRAY_LEN(csv); i++) {
        if (ends_with(file, csv[i])) {
            return SL_FMT_CSV;
        }
    }
    return SL_FMT_NDJSON;
}

/* One format for every file: --format, else the names, which must agree. */
static int pick_format(struct infer_cli *c)
{
    if (c->format != NULL) {
        c->o.format =
            strcmp(c->format, "csv") == 0 ? SL_FMT_CSV : SL_FMT_NDJSON;
        return 0;
    }
    c->o.format = format_of(c->files[0]);
    for (size_t i = 1; i < c->n_files; i++) {
        if (format_of(c->files[i]) != c->o.format) {
            return usage("--format", "the files mix CSV and NDJSON names: "
                                     "give --format");
        }
    }
    return 0;
}

/* Notes on stderr: what was read, and the load options the files need. */
static void print_notes(const struct infer_cli *c, const struct sl_infer *inf,
                        size_t n_fields)
{
    struct sl_infer_stats st;
    sl_infer_stats(inf, &st);
    fprintf(stderr,
            "sluice schema infer: %llu rows of %llu files, %zu "
            "top-level fields\n",
            (unsigned long long)st.rows, (unsigned long long)st.files,
            n_fields);
    if (c->o.format != SL_FMT_CSV) {
        return;
    }
    if (st.header_files > 0 && c->o.header == SL_INFER_HEADER_AUTO) {
        fprintf(stderr, "note: header row detected in %llu of %llu files\n",
                (unsigned long long)st.header_files,
                (unsigned long long)st.files);
    }
    if (st.load_skip_rows > 0) {
        fprintf(stderr, "note: load with --skip-leading-rows %llu%s\n",
                (unsigned long long)st.load_skip_rows,
                st.skip_varies ? " (not every file has that many leading rows)"
                               : "");
    }
    if (st.min_columns < st.max_columns) {
        fprintf(stderr,
                "note: rows have %zu to %zu values: load with "
                "--allow-jagged-rows\n",
                st.min_columns, st.max_columns);
    }
}

/* The inferred text must be a definition sluice reads back (a bug otherwise:
 * say so rather than print a schema that cannot be used). */
static int check_schema(const struct sl_buf *out, size_t *out_fields)
{
    struct sl_table *t = NULL;
    struct sl_error err = {0};
    int rc = sl_table_parse(out->data, out->len, "<inferred>", "main", "t", &t,
                            &err);
    if (rc != SL_OK) {
        cli_print_error("schema infer", &err);
        return sl_exit_code(rc);
    }
    *out_fields = t->root.n_fields;
    sl_table_destroy(t);
    return 0;
}

static int run(struct infer_cli *c)
{
    struct sl_infer *inf = NULL;
    struct sl_error err = {0};
    struct sl_buf out;
    sl__buf_init(&out);
    int rc = sl_infer_create(&c->o, &inf, &err);
    for (size_t i = 0; rc == SL_OK && i < c->n_files; i++) {
        rc = sl_infer_file(inf, c->files[i], &err);
    }
    if (rc == SL_OK) {
        rc = sl_infer_schema_json(inf, &out, &err);
    }
    int code = 0;
    size_t n_fields = 0;
    if (rc != SL_OK) {
        cli_print_error("schema infer", &err);
        code = sl_exit_code(rc);
    } else if ((code = check_schema(&out, &n_fields)) == 0) {
        fwrite(out.data, 1, out.len, stdout);
        if (!c->quiet) {
            print_notes(c, inf, n_fields);
        }
    }
    sl__buf_release(&out);
    sl_infer_destroy(inf);
    return code;
}

int cmd_schema_infer(int argc, char **argv)
{
    struct infer_cli c;
    memset(&c, 0, sizeof(c));
    sl_infer_opts_default(&c.o);
    c.files = calloc((size_t)argc + 1, sizeof(*c.files));
    if (c.files == NULL) {
        fprintf(stderr, "sluice: out of memory\n");
        return 4;
    }
    int rc = parse_args(argc, argv, &c);
    if (rc == 0) {
        rc = pick_format(&c);
    }
    if (rc == 0) {
        if (c.skip_given && c.o.skip_leading_rows == 0 &&
            c.o.header == SL_INFER_HEADER_AUTO) {
            c.o.header = SL_INFER_HEADER_NO; /* BigQuery: 0 = no header */
        }
        rc = run(&c);
    }
    free(c.files);
    return rc < 0 ? 0 : rc;
}
