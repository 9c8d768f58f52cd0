/* ingest.c - `sluice validate` and `sluice load`: stream files through a
 * table's validator; load commits each file in one warehouse transaction. cli.
 */
#include "core/common.h"

#include "cli/cli.h"
#include "core/buf.h"
#include "core/crash.h"
#include "pipeline/load.h"
#include "validate/rowjson.h"
#include "schema/schema.h"
#include "warehouse/driver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OPTS_HELP                                                              \
    "  --schemas DIR              folder of table definitions (required)\n"    \
    "  --table [DATASET.]TABLE    destination table (required)\n"              \
    "  --format ndjson|csv        input format (default: from the file name: " \
    ".csv,\n"                                                                  \
    "                             .ndjson, .jsonl, .json, with .gz/.zst; "     \
    "else NDJSON)\n"                                                           \
    "  --rejects FILE             write every bad record as one JSON object "  \
    "per line\n"                                                               \
    "  --ignore-unknown-values    drop unknown keys / extra trailing CSV "     \
    "columns\n"                                                                \
    "  --max-bad-records N        bad records tolerated per file (default "    \
    "0)\n"                                                                     \
    "  --max-row-size BYTES       longest row accepted (default 104857600)\n"  \
    "  --max-value-size BYTES     longest single value accepted (default "     \
    "10485760)\n"                                                              \
    "  --quiet                    print only errors\n"                         \
    "CSV options (as in bq load):\n"                                           \
    "  --skip-leading-rows N      --field-delimiter C ('\\t' allowed)   "      \
    "--quote C\n"                                                              \
    "  --allow-quoted-newlines    --allow-jagged-rows   --null-marker S\n"     \
    "  --encoding UTF-8|ISO-8859-1\n"                                          \
    "  --header                   the first row names the columns (matched "   \
    "to fields\n"                                                              \
    "                             by name, ignoring case)\n"                   \
    "Input may be plain, gzip or zstd (detected by content); '-' reads "       \
    "stdin.\n"                                                                 \
    "Exit codes: 0 done (rejects within the limit), 2 usage or definition "    \
    "error,\n"                                                                 \
    "3 too many bad records or unreadable input, 4 warehouse or environment "  \
    "error.\n"

static const char *validate_help =
    "usage: sluice validate --schemas DIR --table [DATASET.]TABLE [options] "
    "FILE...|-\n"
    "Check files against a table definition and report bad records; loads "
    "nothing.\n" OPTS_HELP "  --threads N                threads for large "
                           "plain files (NDJSON, and CSV\n"
    "                             without --allow-quoted-newlines; default: "
    "the\n"
    "                             number of CPUs; rejects stay in file "
    "order)\n";

static const char *load_help =
    "usage: sluice load --schemas DIR --table [DATASET.]TABLE [options] "
    "FILE...|-\n"
    "Validate files and load their good rows; each file is one transaction, "
    "recorded\n"
    "with its SHA-256 in _sluice_loads; a file already loaded is "
    "skipped.\n" OPTS_HELP
    "  --warehouse URI            default duckdb://./warehouse.duckdb (or "
    "$SLUICE_WAREHOUSE)\n"
    "  --force                    load even if this file's content was loaded "
    "before\n"
    "  --threads N                validate and append a large plain file on N "
    "threads\n"
    "                             (default: the number of CPUs); rows then "
    "land in no\n"
    "                             particular order: --threads 1 keeps the "
    "file's order\n";

/* ---- rejects sink: JSON lines to a file, first few also to stderr ---------
 */

struct rejects_out {
    FILE *fp;           /* NULL = none (out.fp while writing) */
    struct cli_out out; /* the temporary file renamed at the end */
    const char *path;
    struct sl_buf line;
    uint64_t shown; /* printed on stderr */
    bool quiet;
};

static int write_reject(void *ud, const struct sl_reject *r,
                        struct sl_error *err)
{
    struct rejects_out *ro = ud;
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

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

static enum sl_format format_for(const struct cli_opts *o, const char *file)
{
    if (o->format != NULL) {
        return strcmp(o->format, "csv") == 0 ? SL_FMT_CSV : SL_FMT_NDJSON;
    }
    return (ends_with(file, ".csv") || ends_with(file, ".csv.gz") ||
            ends_with(file, ".csv.zst") || ends_with(file, ".tsv") ||
            ends_with(file, ".tsv.gz"))
               ? SL_FMT_CSV
               : SL_FMT_NDJSON;
}

struct run {
    const char *cmd;
    bool is_load;
    bool touched; /* some file was read: the rejects file is worth keeping */
    struct cli_opts o;
    struct sl_registry *reg;
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
    p.others[p.n_others] = r->t->file;
    p.what[p.n_others++] = "the table's definition";
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

static int setup(struct run *r, int argc, char **argv, const char *help)
{
    int rc = cli_parse(argc, argv, &r->o, help, true);
    if (rc != 0) {
        return rc;
    }
    if (r->o.schemas == NULL || r->o.table == NULL) {
        fprintf(stderr,
                "sluice %s: --schemas and --table are required (see --help)\n",
                r->cmd);
        return 2;
    }
    if (r->o.n_files == 0) {
        fprintf(stderr, "sluice %s: no input files (use - for stdin)\n",
                r->cmd);
        return 2;
    }
    struct sl_error err = {0};
    struct sl_buf problems;
    sl__buf_init(&problems);
    rc = sl_registry_load(r->o.schemas, &problems, &r->reg, &err);
    if (rc != SL_OK) {
        cli_print_error(r->cmd, &err);
        sl__buf_release(&problems);
        return sl_exit_code(rc);
    }
    if (problems.len > 0 && !r->o.quiet) {
        fprintf(stderr,
                "sluice %s: warning: some definitions were refused:\n%s",
                r->cmd, problems.data);
    }
    sl__buf_release(&problems);
    r->t = sl_registry_find(r->reg, r->o.table);
    if (r->t == NULL) {
        fprintf(stderr,
                "sluice %s: table '%s' not found (or ambiguous) in %s\n",
                r->cmd, r->o.table, r->o.schemas);
        return 2;
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
    sl_registry_destroy(r->reg);
    free(r->o.files);
    return r->exit_code;
}

static void clear_progress(struct run *r)
{
    if (r->pg.shown) {
        fprintf(stderr, "\r%60s\r", "");
        r->pg.shown = false;
    }
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
    fprintf(stderr,
            "sluice %s: %s: too many bad records: %llu rejected, "
            "--max-bad-records is %llu",
            r->cmd, file, (unsigned long long)st->rejected,
            (unsigned long long)r->o.v.max_bad);
    if (verb != NULL) {
        fprintf(stderr, "; nothing of this file %s", verb);
    }
    fputc('\n', stderr);
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
    fprintf(stderr,
            "sluice load: %s was loaded into %s.%s before, with other content: "
            "%llu rows (%llu bytes, sha256 %.16s...) on %s; it is now %s.\n"
            "  Loading it would append all of its rows again, nothing was "
            "loaded. Use --force to load it anyway, or --replace to replace "
            "the table's rows with it.\n",
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

/* ---- validate
 * ------------------------------------------------------------------ */

int cmd_validate(int argc, char **argv)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    r.cmd = "validate";
    int rc = setup(&r, argc, argv, validate_help);
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
        o->v.format = format_for(o, file);
        struct sl_file_stats st;
        struct sl_error err = {0};
        double f0 = cli_now();
        r.touched = true;
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
    int rc = setup(&r, argc, argv, load_help);
    if (rc != 0) {
        r.exit_code = rc;
        return finish(&r);
    }
    struct sl_error err = {0};
    const struct sl_wh_ops *ops = sl_wh_driver_for(r.o.warehouse);
    struct sl_wh *wh = NULL;
    if (ops == NULL) {
        fprintf(stderr, "sluice load: unknown warehouse URI '%s'\n",
                r.o.warehouse);
        r.exit_code = 2;
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
    }
    if (rc != SL_OK) {
        cli_print_error("load", &err);
        set_exit(&r, rc);
        ops->close(wh);
        return finish(&r);
    }
    if (!r.o.quiet) {
        printf("loading into %s.%s (%s)%s\n", r.t->dataset, r.t->name,
               r.o.warehouse, created ? ", table created" : "");
    }
    double t0 = cli_now();
    for (size_t i = 0; i < r.o.n_files; i++) {
        const char *file = r.o.files[i];
        r.o.v.format = format_for(&r.o, file);
        memset(&err, 0, sizeof(err));
        struct sl_load_result res;
        double f0 = cli_now();
        struct sl_load_opts lo = {r.o.threads, r.o.force, r.o.batch_flags};
        r.touched = true;
        rc = sl_load_file(ops, wh, r.t, &r.o.v, file, &lo, &r.rs, &res, &err);
        clear_progress(&r);
        if (rc != SL_OK) {
            cli_print_error("load", &err);
            fprintf(stderr,
                    "sluice load: %s: nothing of this file was loaded\n", file);
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
