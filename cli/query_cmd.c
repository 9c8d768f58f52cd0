/* query_cmd.c - `sluice query`: run SQL (one statement, several, or a script
 * file) against the warehouse and print each result, streamed through the
 * warehouse's cursor and src/ops/render.c. cli. */
#include "core/common.h"

#include "cli/cli.h"
#include "ops/render.h"
#include "warehouse/driver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *query_usage =
    "usage: sluice query [--warehouse URI] [--format table|csv|json] [--write] "
    "SQL | --file FILE\n"
    "Run SQL against the warehouse and print each statement's result (json: "
    "one\n"
    "object per line). Several statements (separated by ;) run in turn; the "
    "first\n"
    "that fails stops the run. Results are streamed: the table format sizes "
    "its\n"
    "columns on the first 1,000 rows. Between two results: an empty line "
    "(table,\n"
    "csv); none (json). The warehouse is opened read-only (queries never lock "
    "each\n"
    "other out) unless --write, and never created.\n";

static void waiting(void *ud, const char *holder)
{
    (void)ud;
    fprintf(stderr,
            "sluice query: the warehouse is locked by %s; waiting (see "
            "--lock-timeout)\n",
            holder);
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

static int run_sql(const struct sl_wh_ops *ops, const struct cli_opts *o,
                   const char *sql, const char *where, enum sl_query_format fmt)
{
    struct sl_error err = {0};
    struct sl_wh *wh = NULL;
    char **st = NULL;
    size_t n = 0;
    struct sl_wh_open_opts oo = {.mode = o->write ? SL_WH_WRITE : SL_WH_READ,
                                 .lock_timeout_ms = o->lock_timeout_ms,
                                 .waiting = waiting};
    int rc = ops->open(o->warehouse, &oo, &wh, &err);
    if (rc == SL_OK) {
        rc = ops->split_statements(wh, sql, &st, &n, &err);
    }
    int exit_code = 0;
    if (rc == SL_OK && n == 0) {
        exit_code = cli_fail("query", -SL_EUSAGE,
                             "no SQL statement in %s (only blanks and "
                             "comments)",
                             where);
    } else if (rc == SL_OK) {
        rc = run_statements(ops, wh, st, n, fmt, &err);
    }
    if (rc != SL_OK) {
        fflush(stdout); /* the results before the failure come first */
        cli_print_error("query", &err);
        exit_code = sl_exit_code(rc);
    }
    if (st != NULL) {
        ops->free_statements(st, n);
    }
    ops->close(wh);
    return exit_code;
}

int cmd_query(int argc, char **argv)
{
    struct cli_opts o;
    int rc = cli_parse(argc, argv, CLI_QUERY, query_usage, &o);
    if (rc != 0) {
        cli_opts_release(&o);
        return rc;
    }
    enum sl_query_format fmt = strcmp(o.query_format, "csv") == 0 ? SL_QF_CSV
                               : strcmp(o.query_format, "json") == 0
                                   ? SL_QF_JSON
                                   : SL_QF_TABLE;
    const struct sl_wh_ops *ops = sl_wh_driver_for(o.warehouse);
    if (ops == NULL) {
        char shown[1024];
        sl_wh_uri_shown(o.warehouse, shown, sizeof(shown));
        rc = cli_fail("query", -SL_EUSAGE,
                      "--warehouse %s: unknown kind of warehouse "
                      "(duckdb://PATH, clickhouse://HOST:PORT/DB, or a path)",
                      shown);
        cli_opts_release(&o);
        return rc;
    }
    char *script = o.query_file != NULL ? read_script(o.query_file) : NULL;
    if (o.query_file != NULL && script == NULL) {
        cli_opts_release(&o);
        return 2;
    }
    rc = run_sql(ops, &o, script != NULL ? script : o.files[0],
                 o.query_file != NULL ? o.query_file : "the argument", fmt);
    free(script);
    cli_opts_release(&o);
    return rc;
}
