/* gateway_cmd.c - `sluice init` and `sluice run`: lay out a gateway folder,
 * and serve it (pipeline/service.h). cli. */
#include "core/common.h"

#include "cli/cli.h"
#include "cli/gwopts.h"
#include "core/buf.h"
#include "gateway/layout.h"
#include "ops/status.h"
#include "pipeline/service.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *init_help =
    "usage: sluice init DIR [--example]\n"
    "Lay out a gateway in DIR: raw/ transformed/ cloud_ready/ sent/ failed/\n"
    "quarantine/, schemas/ (the table registry) and sluice.json (warehouse,\n"
    "load options, batch window and limits, retries, status thresholds).\n"
    "Nothing already in DIR is overwritten.\n"
    "  --example    also the reference platform's three tables and sample\n"
    "               files (with a few bad records) in raw/<table>/\n"
    "Then: sluice run --gateway DIR --once\n";

int cmd_init(int argc, char **argv)
{
    const char *dir = NULL;
    bool example = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(init_help, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--example") == 0) {
            example = true;
        } else if (argv[i][0] == '-' || dir != NULL) {
            fprintf(stderr,
                    "sluice init: unexpected argument '%s' (init "
                    "takes DIR and --example)\n",
                    argv[i]);
            return 2;
        } else {
            dir = argv[i];
        }
    }
    if (dir == NULL) {
        fputs(init_help, stderr);
        return 2;
    }
    struct sl_error err = {0};
    int rc = sl_gw_init(dir, example, &err);
    if (rc != SL_OK) {
        cli_print_error("init", &err);
        return sl_exit_code(rc);
    }
    printf("gateway ready in %s%s\n"
           "  producers rename complete files into %s/raw/<table>/\n"
           "  tables are defined in %s/schemas/, settings in %s/sluice.json\n"
           "  run it:   sluice run --gateway %s [--once]\n"
           "  watch it: sluice status --gateway %s\n",
           dir, example ? " (with the example tables and files)" : "", dir, dir,
           dir, dir, dir);
    return 0;
}

/* ---- run ------------------------------------------------------------------
 */

static const char *run_help =
    "usage: sluice run --gateway DIR [--once] [--threads N]\n"
    "                  [--log-format text|json] [--verbose | --quiet]\n"
    "Serve a gateway: claim files from raw/, validate each once (bad records\n"
    "to quarantine/), batch them per table, load each batch exactly once and\n"
    "archive the files in sent/ (or failed/ with a .error.json).\n"
    "  --once          drain what is there and exit: 0, or 3 if any file\n"
    "                  ended in failed/\n"
    "  --threads N     the whole service's thread budget (default: "
    "sluice.json,\n"
    "                  else the CPU count)\n"
    "  --log-format F  text (default) or json: one object a line\n"
    "SIGTERM/SIGINT stop it cleanly; SIGHUP reloads sluice.json and schemas/.\n"
    "Exit codes: 0 done, 2 usage or configuration error, 3 (--once) some file\n"
    "failed, 4 warehouse or environment error, 128+N (--once) stopped by\n"
    "signal N before it drained (130 SIGINT, 143 SIGTERM).\n";

struct logger {
    bool json;
};

static void log_text(const struct sl_log_event *ev)
{
    static const char *const lv[] = {"error", "warn", "info", "debug"};
    fprintf(stderr, "sluice run: %s: %s", lv[ev->level], ev->msg);
    if (ev->file || ev->table || ev->batch || ev->err_class) {
        fputs(" [", stderr);
        const char *sep = "";
        if (ev->file) {
            fprintf(stderr, "file=%s", ev->file);
            sep = " ";
        }
        if (ev->table) {
            fprintf(stderr, "%stable=%s", sep, ev->table);
            sep = " ";
        }
        if (ev->batch) {
            fprintf(stderr, "%sbatch=%.12s", sep, ev->batch);
            sep = " ";
        }
        if (ev->err_class) {
            fprintf(stderr, "%sclass=%s", sep, ev->err_class);
        }
        fputc(']', stderr);
    }
    fputc('\n', stderr);
}

/* A ",key:value" pair (nothing for NULL); out of memory just shortens the
 * line. */
static int put_field(struct sl_buf *b, const char *k, const char *v)
{
    if (v == NULL) {
        return SL_OK;
    }
    int rc = sl__buf_printf(b, ",\"%s\":", k);
    return rc ? rc : sl__buf_json_str(b, v, strlen(v));
}

static void log_json(const struct sl_log_event *ev)
{
    static const char *const lv[] = {"error", "warn", "info", "debug"};
    struct sl_buf b;
    sl__buf_init(&b);
    char ts[40];
    sl_gw_time_text(sl_gw_now_us(), ts, sizeof(ts));
    int rc = sl__buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\"", ts,
                            lv[ev->level]);
    rc = rc ? rc : put_field(&b, "msg", ev->msg);
    rc = rc ? rc : put_field(&b, "file", ev->file);
    rc = rc ? rc : put_field(&b, "table", ev->table);
    rc = rc ? rc : put_field(&b, "batch", ev->batch);
    rc = rc ? rc : put_field(&b, "class", ev->err_class);
    rc = rc ? rc : sl__buf_append(&b, "}\n", 2);
    if (rc == SL_OK) {
        fputs(b.data, stderr);
    }
    sl__buf_release(&b);
}

static void on_log(void *ud, const struct sl_log_event *ev)
{
    const struct logger *l = ud;
    if (l->json) {
        log_json(ev);
    } else {
        log_text(ev);
    }
}

int cmd_run(int argc, char **argv)
{
    struct gw_opts g;
    int rc = gw_parse("run", argc, argv, run_help,
                      GW_ONCE | GW_THREADS | GW_LOG, &g);
    free(g.files);
    if (rc != 0) {
        return rc;
    }
    struct logger lg = {g.log_json};
    struct sl_service_opts o = {.dir = g.gateway,
                                .once = g.once,
                                .threads = g.threads,
                                .log = on_log,
                                .log_ud = &lg,
                                .log_level = g.quiet     ? SL_LOG_WARN
                                             : g.verbose ? SL_LOG_DEBUG
                                                         : SL_LOG_INFO};
    struct sl_service_stats st;
    struct sl_error err = {0};
    rc = sl_service_run(&o, &st, &err);
    if (rc != SL_OK) {
        cli_print_error("run", &err);
        return sl_exit_code(rc);
    }
    if (st.still_written > 0) {
        fprintf(stderr,
                "sluice run: %llu file%s in raw/ still open for writing: "
                "left for a later run (producers: write elsewhere, then "
                "rename into raw/)\n",
                (unsigned long long)st.still_written,
                st.still_written == 1 ? "" : "s");
    }
    if (!g.quiet) {
        fprintf(stderr,
                "sluice run: %llu files claimed: %llu loaded, %llu "
                "duplicates, %llu failed, %llu gone; %llu batches, %llu rows "
                "loaded, %llu rejected (in quarantine/)\n",
                (unsigned long long)st.claimed, (unsigned long long)st.loaded,
                (unsigned long long)st.duplicates,
                (unsigned long long)st.failed, (unsigned long long)st.vanished,
                (unsigned long long)st.batches,
                (unsigned long long)st.rows_loaded,
                (unsigned long long)st.rows_rejected);
    }
    if (g.once && st.stop_signal != 0) {
        /* not done: a script must not take this run for a drained gateway */
        int sig = st.stop_signal;
        fprintf(stderr,
                "sluice run: interrupted by %s before the gateway was "
                "drained: %llu file%s not finished (and raw/ may hold more); "
                "the next run takes them up\n",
                sig == SIGINT    ? "SIGINT"
                : sig == SIGTERM ? "SIGTERM"
                                 : "a signal",
                (unsigned long long)st.unfinished,
                st.unfinished == 1 ? "" : "s");
        return 128 + sig;
    }
    return g.once && st.failed > 0 ? 3 : 0;
}

/* ---- status and health
 * -------------------------------------------------------- */

static const char *status_help =
    "usage: sluice status --gateway DIR [--json]\n"
    "What a gateway is doing, from its ledger and folders (works while the\n"
    "service runs and while the warehouse is down): files per stage, failures\n"
    "by class, per table the pending files and rows, the last load, the age "
    "of\n"
    "the oldest pending file (the ingestion delay), loads and rows in the "
    "last\n"
    "hour. --json: one object, its shape in docs/STATUS.md (versioned).\n";

int cmd_status(int argc, char **argv)
{
    struct gw_opts g;
    int rc = gw_parse("status", argc, argv, status_help, GW_JSON, &g);
    if (rc != 0) {
        free(g.files);
        return rc;
    }
    struct sl_status st;
    struct sl_error err = {0};
    rc = sl_status_read(g.gateway, &st, &err);
    free(g.files);
    if (rc != SL_OK) {
        cli_print_error("status", &err);
        sl_status_release(&st);
        return sl_exit_code(rc);
    }
    if (g.json) {
        struct sl_buf b;
        sl__buf_init(&b);
        if (sl_status_json(&st, &b) != SL_OK) {
            sl__buf_release(&b);
            sl_status_release(&st);
            fprintf(stderr, "sluice status: out of memory\n");
            return 4;
        }
        fputs(b.data, stdout);
        sl__buf_release(&b);
    } else {
        sl_status_print(&st, stdout);
    }
    sl_status_release(&st);
    return 0;
}

static const char *health_help =
    "usage: sluice health --gateway DIR\n"
    "The gateway's health check, one line per finding: the warehouse is\n"
    "reachable, the service is running, no file is older than the delay\n"
    "threshold (sluice.json status.delay_threshold_seconds), no new failures\n"
    "(status.failure_window_seconds). For cron or a container's health check.\n"
    "Exit codes: 0 healthy, 1 degraded, 2 unhealthy (or a usage error).\n";

int cmd_health(int argc, char **argv)
{
    struct gw_opts g;
    int rc = gw_parse("health", argc, argv, health_help, 0, &g);
    if (rc != 0) {
        free(g.files);
        return rc;
    }
    struct sl_status st;
    struct sl_error err = {0};
    rc = sl_status_read(g.gateway, &st, &err);
    free(g.files);
    if (rc != SL_OK) {
        printf("fail: %s\n", err.msg);
        sl_status_release(&st);
        return 2;
    }
    int h = sl_health_check(&st, stdout);
    sl_status_release(&st);
    return h;
}
