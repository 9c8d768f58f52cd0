/* query_cmd.c - `sluice query`: run SQL (one statement, several, or a script
 * file) against the warehouse and print each result, streamed. cli. */
#include "cli/cli.h"
#include "core/common.h"
#include "ops/render.h"
#include "warehouse/driver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *query_help =
    "usage: sluice query [--warehouse URI] [--format table|csv|json] "
    "SQL | --file FILE\n"
    "Run SQL against the warehouse and print each statement's result "
    "(json: one\n"
    "object per line). Several statements (separated by ;) run in turn; the "
    "first\n"
    "that fails stops the run.\n"
    "  --file FILE        run the statements of a script file (- = stdin) "
    "instead\n"
    "                     of a SQL argument\n"
    "  --warehouse URI    default duckdb://./warehouse.duckdb (or "
    "$SLUICE_WAREHOUSE)\n"
    "  --write            open the warehouse read-write (default: read-only, "
    "so\n"
    "                     queries never lock each other out)\n"
    "  --lock-timeout S   wait up to S seconds for a warehouse another "
    "process\n"
    "                     holds (default 60)\n"
    "Results are streamed: the table format sizes its columns on the first "
    "1,000\n"
    "rows. Between two results: an empty line (table, csv); none (json).\n"
    "Exit codes: 0 done, 2 usage error (including no SQL), 4 warehouse error "
    "(including bad SQL).\n";

static void waiting(void *ud, const char *holder)
{
    (void)ud;
    fprintf(stderr,
            "sluice query: the warehouse is locked by %s; waiting (see "
            "--lock-timeout)\n",
            holder);
}

/* --file and --format are taken here, before the shared parser sees the
 * rest (its --format is the input format of validate/load). argv holds the
 * others after; *out_format and *out_file are set when given. Returns 0 or
 * 2 after a message. */
static int take_own_options(int *argc, char **argv, const char **out_format,
                            const char **out_file)
{
    int n = 0;
    bool only_args = false;
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        const char *val = NULL;
        if (!only_args && strcmp(a, "--") == 0) {
            only_args = true;
        } else if (!only_args &&
                   (strcmp(a, "--file") == 0 || strcmp(a, "--format") == 0)) {
            dst = a[3] == 'i' ? out_file : out_format;
            if (i + 1 >= *argc) {
                fprintf(stderr,
                        "sluice: option %s: needs a value (see "
                        "--help)\n",
                        a);
                return 2;
            }
            val = argv[++i];
        } else if (!only_args && (strncmp(a, "--file=", 7) == 0 ||
                                  strncmp(a, "--format=", 9) == 0)) {
            dst = a[3] == 'i' ? out_file : out_format;
            val = strchr(a, '=') + 1;
        }
        if (dst != NULL) {
            *dst = val;
        } else {
            argv[n++] = argv[i];
        }
    }
    *argc = n;
    return 0;
}

/* The whole of path ("-" = stdin), NUL-terminated; caller frees. NULL after
 * a message. */
static char *read_script(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "sluice query: cannot open %s: %s\n", path,
                strerror(errno));
        return NULL;
    }
    size_t len = 0, cap = 65536;
    char *s = malloc(cap);
    while (s != NULL) {
        len += fread(s + len, 1, cap - 1 - len, f);
        if (len < cap - 1) {
            break;
        }
        char *p = realloc(s, cap * 2);
        if (p == NULL) {
            free(s);
            s = NULL;
            break;
        }
        s = p;
        cap *= 2;
    }
    bool bad = ferror(f) != 0;
    int e = errno;
    if (f != stdin) {
        fclose(f);
    }
    if (s == NULL) {
        fprintf(stderr, "sluice query: out of memory reading %s\n", path);
        return NULL;
    }
    if (bad) {
        fprintf(stderr, "sluice query: cannot read %s: %s\n", path,
                strerror(e));
        free(s);
        return NULL;
    }
    s[len] = '\0';
    if (strlen(s) != len) {
        fprintf(stderr, "sluice query: %s holds a NUL byte: not SQL text\n",
                path);
        free(s);
        return NULL;
    }
    return s;
}

/* Run each statement in turn and print its result; stops at the first
 * failure, numbered when there are several. */
static int run_statements(const struct sl_wh_ops *ops, struct sl_wh *wh,
                          char **st, size_t n, enum sl_query_format fmt,
                          struct sl_error *err)
{
    struct sl_render_opts ro = {.fmt = fmt};
    bool printed = false;
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        struct sl_cursor *c = NULL;
        rc = ops->query(wh, st[i], &c, err);
        size_t n_cols = 0;
        if (rc == SL_OK) {
            (void)ops->cursor_columns(c, &n_cols);
        }
        if (rc == SL_OK && n_cols > 0 && printed && fmt != SL_QF_JSON) {
            fputc('\n', stdout); /* between two results */
        }
        if (rc == SL_OK) {
            rc = sl_render_cursor(ops, c, &ro, stdout, NULL, err);
            printed |= n_cols > 0;
        }
        ops->cursor_close(c);
        if (rc != SL_OK && n > 1) {
            sl__error_prefix(err, "statement %zu of %zu: ", i + 1, n);
        }
    }
    return rc;
}

int cmd_query(int argc, char **argv)
{
    const char *format = "table", *file = NULL;
    int rc = take_own_options(&argc, argv, &format, &file);
    if (rc != 0) {
        return rc;
    }
    struct cli_opts o;
    rc = cli_parse(argc, argv, &o, query_help, true);
    if (rc != 0) {
        free(o.files);
        return rc;
    }
    enum sl_query_format fmt;
    if (strcmp(format, "table") == 0) {
        fmt = SL_QF_TABLE;
    } else if (strcmp(format, "csv") == 0) {
        fmt = SL_QF_CSV;
    } else if (strcmp(format, "json") == 0) {
        fmt = SL_QF_JSON;
    } else {
        fprintf(stderr, "sluice query: --format must be table, csv or json\n");
        free(o.files);
        return 2;
    }
    if (o.n_files != (file == NULL ? 1u : 0u)) {
        fprintf(stderr, "sluice query: give exactly one SQL argument, or "
                        "--file FILE (see --help)\n");
        free(o.files);
        return 2;
    }
    const struct sl_wh_ops *ops = sl_wh_driver_for(o.warehouse);
    if (ops == NULL) {
        fprintf(stderr, "sluice query: unknown warehouse URI '%s'\n",
                o.warehouse);
        free(o.files);
        return 2;
    }
    char *script = file != NULL ? read_script(file) : NULL;
    const char *sql = file != NULL ? script : o.files[0];
    if (sql == NULL) {
        free(o.files);
        return 2;
    }
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    char **st = NULL;
    size_t n = 0;
    struct sl_wh_open_opts oo = {.mode = o.write ? SL_WH_WRITE : SL_WH_READ,
                                 .lock_timeout_ms = o.lock_timeout_ms,
                                 .waiting = waiting};
    rc = ops->open(o.warehouse, &oo, &wh, &err);
    if (rc == SL_OK) {
        rc = ops->split_statements(wh, sql, &st, &n, &err);
    }
    int exit_code = 0;
    if (rc == SL_OK && n == 0) {
        fprintf(stderr,
                "sluice query: no SQL statement in %s (only blanks "
                "and comments)\n",
                file != NULL ? file : "the argument");
        exit_code = 2;
    } else if (rc == SL_OK) {
        rc = run_statements(ops, wh, st, n, fmt, &err);
    }
    if (rc != SL_OK) {
        fflush(stdout); /* the results before the failure come first */
        cli_print_error("query", &err);
        exit_code = sl_exit_code(rc);
    }
    ops->free_statements(st, n);
    ops->close(wh);
    free(script);
    free(o.files);
    return exit_code;
}
