/* ingest.c - `sluice validate` and `sluice load`: stream files through a
 * table's validator; load commits each file in one warehouse transaction. cli.
 */
#include "core/common.h"

#include "cli/cli.h"
#include "cli/schema_cli.h"
#include "core/buf.h"
#include "core/crash.h"
#include "pipeline/load.h"
#include "schema/schema.h"
#include "validate/cause.h"
#include "validate/rowjson.h"
#include "warehouse/driver.h"
#include "warehouse/evolve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *validate_usage =
    "usage: sluice validate --schemas DIR --table [DATASET.]TABLE [options] "
    "FILE...|-\n"
    "       sluice validate [options] [PROJECT:]DATASET.TABLE SOURCE "
    "[SCHEMA]\n"
    "Check files against a table definition and report bad records; loads "
    "nothing.\n"
    "The definition comes from --schemas DIR, or --schema FILE|name:TYPE,... "
    "(or\n"
    "SCHEMA). Input may be plain, gzip or zstd (detected by content); '-' "
    "reads stdin.\n";

static const char *load_usage =
    "usage: sluice load --schemas DIR --table [DATASET.]TABLE [options] "
    "FILE...|-\n"
    "       sluice load [options] [PROJECT:]DATASET.TABLE SOURCE [SCHEMA]\n"
    "Validate files and load their good rows; each file is one transaction, "
    "recorded\n"
    "with its SHA-256 in _sluice_loads; a file already loaded is skipped. The\n"
    "definition comes from --schemas DIR, or --schema FILE|name:TYPE,... (or "
    "SCHEMA).\n"
    "SOURCE may list files with commas; a PROJECT: part is checked, then "
    "ignored\n"
    "(DuckDB has no projects). Input may be plain, gzip or zstd; '-' reads "
    "stdin.\n";

/* ---- rejects sink: JSON lines to a file, first few also to stderr ---------
 */

struct rejects_out {
    FILE *fp;           /* NULL = none (out.fp while writing) */
    struct cli_out out; /* the temporary file renamed at the end */
    const char *path;
    struct sl_buf line;
    uint64_t shown; /* printed on stderr */
    bool quiet;
    /* this file's rejects, for "every row was rejected: likely cause" */
    struct sl_reject_summary sum;
};

static int write_reject(void *ud, const struct sl_reject *r,
                        struct sl_error *err)
{
    struct rejects_out *ro = ud;
    sl__reject_track(&ro->sum, r);
    if (ro->shown < 5 && !ro->quiet) {
        fprintf(stderr, "  reject: %s:%llu (offset %llu)%s%s: %s\n", r->file,
                (unsigned long long)r->line_no, (unsigned long long)r->byte_off,
                r->field ? " field " : "", r->field ? r->field : "", r->reason);
        ro->shown++;
    }
    if (ro->fp == NULL) {
        return SL_OK;
    }
    struct sl_buf *b = &ro->line;
    sl__buf_reset(b);
    int rc = sl_reject_json(b, r, NULL);
    if (rc != SL_OK) {
        return SL_ERR(err, rc, "out of memory writing a reject");
    }
    sl__crash_point("reject-written");
    /* flushed per reject (they are rare): a full disk must fail this file's
     * load before it commits, not at exit */
    if (fwrite(b->data, 1, b->len, ro->fp) != b->len || fflush(ro->fp) != 0) {
        int e = errno;
        SL_ERR(err, -SL_EENV, "%s: cannot write rejects: %s", ro->path,
               strerror(e));
        sl__error_path(err, ro->path);
        return -SL_EENV;
    }
    return SL_OK;
}

/* ---- progress on a terminal ------------------------------------------------
 */

struct progress {
    double start;
    double delay; /* seconds before the first line; $SLUICE_PROGRESS_DELAY_MS */
    bool shown;
};

static void show_progress(void *ud, uint64_t done, uint64_t total,
                          uint64_t rows)
{
    struct progress *p = ud;
    double el = cli_now() - p->start;
    if (el < p->delay) {
        return;
    }
    double mb = (double)done / 1e6, rate = (double)rows / el;
    if (total > 0 && done <= total) {
        double eta = done > 0 ? el * (double)(total - done) / (double)done : 0;
        fprintf(stderr,
                "\r  %.1f / %.1f MB  %llu rows  %.0f rows/s  ETA %.0fs   ", mb,
                (double)total / 1e6, (unsigned long long)rows, rate, eta);
    } else {
        fprintf(stderr, "\r  %.1f MB  %llu rows  %.0f rows/s   ", mb,
                (unsigned long long)rows, rate);
    }
    p->shown = true;
}

/* ---- shared setup
 * ------------------------------------------------------------ */

static enum sl_format format_for(const struct cli_opts *o, const char *file)
{
    return cli_format_of(o, file);
}

struct run {
    const char *cmd;
    bool is_load;
    bool touched; /* some file was read: the rejects file is worth keeping */
    struct cli_opts o;
    struct sl_registry *reg;
    struct sl_table *own; /* a table from --schema (or inferred) */
    const struct sl_table *t;
    struct rejects_out ro;
    struct sl_reject_sink rs;
    struct progress pg;
    int exit_code;
    uint64_t rows, valid, rejected, bytes;
};

/* --rejects must never name an input, the table's definition, or (load) the
 * warehouse or one of its side files: checked before anything is opened. */
static int check_rejects_path(struct run *r)
{
    struct cli_protect p = {.inputs = r->o.files, .n_inputs = r->o.n_files};
    struct stat st;
    if (stat(r->t->file, &st) == 0) { /* an inline --schema has no file */
        p.others[p.n_others] = r->t->file;
        p.what[p.n_others++] = "the table's definition";
    }
    const struct sl_wh_ops *ops = sl_wh_driver_for(r->o.warehouse);
    struct sl_wh_files wf = {0};
    if (r->is_load && ops != NULL && ops->local_files != NULL) {
        ops->local_files(r->o.warehouse, &wf);
    }
    for (size_t i = 0; i < wf.n && p.n_others < SL_ARRAY_LEN(p.others); i++) {
        p.others[p.n_others] = wf.path[i];
        p.what[p.n_others++] = wf.what[i];
    }
    return cli_out_check(r->cmd, "--rejects", r->o.rejects, &p);
}

/* A CSV option on input read as NDJSON does not apply: an error naming the
 * option and the file, before anything is opened. */
static int check_formats(struct run *r)
{
    const struct cli_opts *o = &r->o;
    for (size_t i = 0; o->csv_opt != NULL && i < o->n_files; i++) {
        if (format_for(o, o->files[i]) == SL_FMT_CSV) {
            continue;
        }
        const char *f = o->files[i];
        const char *opt = o->csv_opt;
        int ol = (int)strcspn(opt, "=");
        if (o->format != NULL) {
            return cli_fail(r->cmd, -SL_EUSAGE,
                            "%.*s is a CSV option, and %.*s says the input "
                            "is NDJSON",
                            ol, opt, (int)strcspn(o->format_opt, "="),
                            o->format_opt);
        }
        return cli_fail(r->cmd, -SL_EUSAGE,
                        "%.*s is a CSV option, and %s is read as NDJSON (by "
                        "its name: .csv and .tsv are CSV); if it is CSV, say "
                        "--source_format CSV",
                        ol, opt, strcmp(f, "-") == 0 ? "standard input" : f);
    }
    return 0;
}

/* A note about a file as a whole (a CSV header's dropped columns, fields it
 * does not fill), told once at its start. */
static void notice(void *ud, const char *file, const char *msg)
{
    struct run *r = ud;
    if (!r->o.quiet) {
        fprintf(stderr, "sluice %s: note: %s: %s\n", r->cmd, file, msg);
    }
}

static int setup(struct run *r, int argc, char **argv, enum cli_cmd cmd,
                 const char *usage)
{
    int rc = cli_parse(argc, argv, cmd, usage, &r->o);
    if (rc != 0) {
        return rc;
    }
    if (r->o.n_files == 0) {
        return cli_fail(r->cmd, -SL_EUSAGE,
                        "no input files after --table %s (use - for stdin)",
                        r->o.table);
    }
    if ((rc = check_formats(r)) != 0) {
        return rc;
    }
    if ((rc = cli_table_resolve(&r->o, &r->reg, &r->own, &r->t)) != 0) {
        return rc;
    }
    r->ro.path = r->o.rejects;
    r->ro.quiet = r->o.quiet;
    sl__buf_init(&r->ro.line);
    if (r->o.rejects != NULL) {
        if ((rc = check_rejects_path(r)) != 0 ||
            (rc = cli_out_open(&r->ro.out, r->cmd, r->o.rejects)) != 0) {
            return rc;
        }
        r->ro.fp = r->ro.out.fp;
    }
    r->rs.reject = write_reject;
    r->rs.ud = &r->ro;
    r->o.v.notice = notice;
    r->o.v.notice_ud = r;
    r->pg.start = cli_now();
    const char *delay = getenv("SLUICE_PROGRESS_DELAY_MS");
    r->pg.delay = delay != NULL ? atof(delay) / 1000.0 : 1.0;
    if (isatty(STDERR_FILENO) && !r->o.quiet) {
        r->o.v.progress = show_progress;
        r->o.v.progress_ud = &r->pg;
    }
    return 0;
}

static int finish(struct run *r)
{
    if (r->ro.fp != NULL && !r->touched) {
        cli_out_abort(&r->ro.out); /* nothing was read: keep any old file */
        r->ro.fp = NULL;
    }
    if (r->ro.fp != NULL) {
        int rc = cli_out_commit(&r->ro.out, r->cmd);
        if (rc != 0 && r->exit_code == 0) {
            r->exit_code = rc;
        }
        r->ro.fp = NULL;
    }
    sl__buf_release(&r->ro.line);
    cli_table_release(r->reg, r->own);
    cli_opts_release(&r->o);
    return r->exit_code;
}

/* Before each file: its rejects are tracked afresh. */
static void file_start(struct run *r, const char *file)
{
    r->o.v.format = format_for(&r->o, file);
    memset(&r->ro.sum, 0, sizeof(r->ro.sum));
    r->touched = true;
}

static void clear_progress(struct run *r)
{
    if (r->pg.shown) {
        fprintf(stderr, "\r%60s\r", "");
        r->pg.shown = false;
    }
}

/* Every row of a file was rejected: say what is the likely cause, from what
 * its rejects had in common. */
static void likely_cause(struct run *r, const char *file,
                         const struct sl_file_stats *st)
{
    char why[1024];
    sl__reject_cause(&r->ro.sum, &r->o.v, r->t, file, st->header_like, "--",
                     why, sizeof(why));
    fprintf(stderr,
            "sluice %s: warning: %s: every row was rejected (%llu); likely "
            "cause: %s\n",
            r->cmd, file, (unsigned long long)st->rows, why);
}

static void file_summary(struct run *r, const char *file,
                         const struct sl_file_stats *st, double secs,
                         const char *what)
{
    r->rows += st->rows;
    r->valid += st->valid;
    r->rejected += st->rejected;
    r->bytes += st->bytes;
    if (r->o.quiet) {
        return;
    }
    printf("%s: %llu rows, %llu valid, %llu rejected, %.1f MB in %.2f s (%.1f "
           "MB/s)%s%s\n",
           file, (unsigned long long)st->rows, (unsigned long long)st->valid,
           (unsigned long long)st->rejected, (double)st->bytes / 1e6, secs,
           secs > 0 ? (double)st->bytes / 1e6 / secs : 0.0, what ? ": " : "",
           what ? what : "");
    if (st->rejected > 0 && r->o.rejects == NULL) {
        printf("  %llu rejected record%s; the first 5 of the run are shown on "
               "stderr; --rejects FILE keeps every one\n",
               (unsigned long long)st->rejected, st->rejected > 1 ? "s" : "");
    }
    if (st->header_like_taken && !r->o.v.header) {
        fprintf(stderr,
                "sluice %s: warning: %s: its first row looks like a header "
                "(its values are field names) and was read as data; if it is "
                "one, say --header (or --skip-leading-rows %llu)\n",
                r->cmd, file, (unsigned long long)r->o.v.skip_leading_rows + 1);
    }
    if (st->rows > 0 && st->valid == 0 && st->rejected == st->rows) {
        likely_cause(r, file, st);
    }
}

static void total_summary(struct run *r, double secs)
{
    if (r->o.quiet || r->o.n_files < 2) {
        return;
    }
    printf("total: %llu rows, %llu valid, %llu rejected, %.1f MB in %.2f s "
           "(%.1f MB/s)\n",
           (unsigned long long)r->rows, (unsigned long long)r->valid,
           (unsigned long long)r->rejected, (double)r->bytes / 1e6, secs,
           secs > 0 ? (double)r->bytes / 1e6 / secs : 0.0);
}

static void set_exit(struct run *r, int code)
{
    int e = sl_exit_code(code);
    if (e > r->exit_code) {
        r->exit_code = e;
    }
}

/* verb = what nothing of the file was ("was loaded"), NULL for validate. */
static void too_many(struct run *r, const char *file,
                     const struct sl_file_stats *st, const char *verb)
{
    cli_fail(r->cmd, -SL_ETOOMANYBAD,
             "%s: too many bad records: %llu rejected, --max-bad-records is "
             "%llu%s%s",
             file, (unsigned long long)st->rejected,
             (unsigned long long)r->o.v.max_bad,
             verb != NULL ? "; nothing of this file " : "",
             verb != NULL ? verb : "");
    set_exit(r, -SL_ETOOMANYBAD);
}

/* "2026-12-02 15:04:05 UTC" for a wall-clock time in microseconds. */
static void when_text(int64_t us, char *out, size_t size)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    if (us <= 0 || gmtime_r(&t, &tm) == NULL) {
        snprintf(out, size, "an unknown time");
        return;
    }
    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void already_loaded(struct run *r, const char *file,
                           const struct sl_load_result *res)
{
    if (r->o.quiet) {
        return;
    }
    char when[40];
    when_text(res->prior.loaded_us, when, sizeof(when));
    if (res->prior.path[0] != '\0') {
        printf("%s: already loaded into %s.%s on %s (%llu rows, from %s, "
               "sha256 %.16s...): skipped, nothing read; use --force to load "
               "it again\n",
               file, r->t->dataset, r->t->name, when,
               (unsigned long long)res->prior.rows_loaded, res->prior.path,
               res->prior.fingerprint);
    } else {
        printf("%s: already loaded into %s.%s (sha256 %.16s...): skipped; "
               "use --force to load it again\n",
               file, r->t->dataset, r->t->name, res->fingerprint);
    }
}

/* The path was loaded before with other content: a grown or rewritten file
 * would append all its rows again. Nothing done; exit 2. */
static void path_changed(struct run *r, const char *file,
                         const struct sl_load_result *res)
{
    char when[40];
    when_text(res->prior.loaded_us, when, sizeof(when));
    cli_fail(r->cmd, -SL_EUSAGE,
             "%s was loaded into %s.%s before, with other content: %llu rows "
             "(%llu bytes, sha256 %.16s...) on %s; it is now %s. Loading it "
             "would append all of its rows again, nothing was loaded. Use "
             "--force to load it anyway, or --replace to replace the table's "
             "rows with it",
             file, r->t->dataset, r->t->name,
             (unsigned long long)res->prior.rows_loaded,
             (unsigned long long)res->prior.size, res->prior.fingerprint, when,
             res->prehashed ? "the same size with other bytes"
                            : "a different size");
    set_exit(r, -SL_EUSAGE);
}

static void cli_waiting(void *ud, const char *holder)
{
    fprintf(stderr,
            "sluice %s: the warehouse is locked by %s; waiting (see "
            "--lock-timeout)\n",
            (const char *)ud, holder);
}

/* --schema_update_option as the driver's flags. */
static unsigned update_flags(const struct cli_opts *o)
{
    return ((o->schema_update & CLI_ALLOW_FIELD_ADDITION)
                ? SL_WH_ALLOW_FIELD_ADDITION
                : 0) |
           ((o->schema_update & CLI_ALLOW_FIELD_RELAXATION)
                ? SL_WH_ALLOW_FIELD_RELAXATION
                : 0);
}

/* The table's definition and the warehouse disagree: show the plan (what
 * differs, what is safe), and the way forward. */
static void print_table_plan(const struct sl_wh_ops *ops, struct sl_wh *wh,
                             const struct sl_table *t, const char *uri)
{
    struct sl_table *one[1] = {(struct sl_table *)t};
    struct sl_registry reg = {.tables = one, .n_tables = 1};
    struct sl_evolve ev;
    struct sl_error err = {0};
    if (ops->schema_read == NULL ||
        sl_evolve_plan(ops, wh, &reg, 0, &ev, &err) != SL_OK) {
        return;
    }
    struct schema_report rep = {.ev = &ev, .warehouse = uri};
    schema_print_text(&rep, stderr, stderr);
    fprintf(stderr,
            "sluice load: nothing was loaded. Apply the safe changes with "
            "`sluice schema apply`, or let the load make them:\n"
            "  --schema_update_option ALLOW_FIELD_ADDITION (new NULLABLE "
            "fields), --schema_update_option ALLOW_FIELD_RELAXATION "
            "(REQUIRED to NULLABLE)\n");
    sl_evolve_release(&ev);
}

/* ---- validate
 * ------------------------------------------------------------------ */

int cmd_validate(int argc, char **argv)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    r.cmd = "validate";
    int rc = setup(&r, argc, argv, CLI_VALIDATE, validate_usage);
    if (rc != 0) {
        r.exit_code = rc;
        return finish(&r);
    }
    if (!r.o.quiet) {
        printf("validating against %s.%s (%s)\n", r.t->dataset, r.t->name,
               r.t->file);
    }
    double t0 = cli_now();
    for (size_t i = 0; i < r.o.n_files; i++) {
        const char *file = r.o.files[i];
        struct cli_opts *o = &r.o;
        file_start(&r, file);
        struct sl_file_stats st;
        struct sl_error err = {0};
        double f0 = cli_now();
        rc = sl_validate_file_parallel(r.t, &o->v, file, o->threads, &r.rs, &st,
                                       &err);
        clear_progress(&r);
        if (rc != SL_OK) {
            cli_print_error("validate", &err);
            set_exit(&r, rc);
            if (sl_exit_code(rc) != 3) {
                break;
            }
            continue;
        }
        file_summary(&r, file, &st, cli_now() - f0, NULL);
        if (st.too_many_bad) {
            too_many(&r, file, &st, NULL);
        }
    }
    total_summary(&r, cli_now() - t0);
    return finish(&r);
}

/* ---- load
 * ------------------------------------------------------------------------ */

int cmd_load(int argc, char **argv)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    r.cmd = "load";
    r.is_load = true;
    int rc = setup(&r, argc, argv, CLI_LOAD, load_usage);
    if (rc != 0) {
        r.exit_code = rc;
        return finish(&r);
    }
    struct sl_error err = {0};
    const struct sl_wh_ops *ops = sl_wh_driver_for(r.o.warehouse);
    struct sl_wh *wh = NULL;
    char shown[1024];
    sl_wh_uri_shown(r.o.warehouse, shown, sizeof(shown));
    if (ops == NULL) {
        r.exit_code = cli_fail("load", -SL_EUSAGE,
                               "--warehouse %s: unknown kind of warehouse "
                               "(duckdb://PATH, clickhouse://HOST:PORT/DB, "
                               "or a path)",
                               shown);
        return finish(&r);
    }
    struct sl_wh_open_opts oo = {.mode = SL_WH_CREATE,
                                 .threads = r.o.threads,
                                 .lock_timeout_ms = r.o.lock_timeout_ms,
                                 .waiting = cli_waiting,
                                 .waiting_ud = (void *)"load"};
    rc = ops->open(r.o.warehouse, &oo, &wh, &err);
    bool created = false;
    if (rc == SL_OK) {
        rc = ops->ensure_table(wh, r.t, &created, &err);
        if (rc == -SL_ESCHEMA && update_flags(&r.o) != 0) {
            /* the definition gained fields or relaxed modes: the batch
             * applies them inside its own transaction, if allowed */
            sl__error_clear(&err);
            rc = SL_OK;
        }
    }
    if (rc != SL_OK) {
        cli_print_error("load", &err);
        if (rc == -SL_ESCHEMA) {
            print_table_plan(ops, wh, r.t, shown);
        }
        set_exit(&r, rc);
        ops->close(wh);
        return finish(&r);
    }
    if (!r.o.quiet) {
        printf("loading into %s.%s (%s)%s\n", r.t->dataset, r.t->name, shown,
               created ? ", table created" : "");
        if (r.o.project[0] != '\0') {
            /* checked by cli_parse; a warehouse with projects would take it */
            printf("  project %s ignored: a %s warehouse has no projects\n",
                   r.o.project, ops->scheme);
        }
    }
    double t0 = cli_now();
    for (size_t i = 0; i < r.o.n_files; i++) {
        const char *file = r.o.files[i];
        file_start(&r, file);
        memset(&err, 0, sizeof(err));
        struct sl_load_result res;
        double f0 = cli_now();
        struct sl_load_opts lo = {r.o.threads, r.o.force, r.o.batch_flags,
                                  update_flags(&r.o)};
        rc = sl_load_file(ops, wh, r.t, &r.o.v, file, &lo, &r.rs, &res, &err);
        clear_progress(&r);
        if (rc != SL_OK) {
            cli_print_error_then("load", &err,
                                 "; nothing of this file was loaded");
            set_exit(&r, rc);
            if (sl_exit_code(rc) == 3) {
                continue; /* this file is unreadable: go on with the next */
            }
            break;
        }
        switch (res.outcome) {
        case SL_ALREADY_LOADED:
            already_loaded(&r, file, &res);
            break;
        case SL_PATH_CHANGED:
            path_changed(&r, file, &res);
            break;
        case SL_TOO_MANY_BAD:
            file_summary(&r, file, &res.st, cli_now() - f0, "NOT loaded");
            too_many(&r, file, &res.st, "was loaded");
            break;
        case SL_LOADED:
            file_summary(&r, file, &res.st, cli_now() - f0, "loaded");
            break;
        }
    }
    total_summary(&r, cli_now() - t0);
    ops->close(wh);
    return finish(&r);
}
