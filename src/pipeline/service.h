/* service.h - `sluice run`: the gateway service. It watches raw/ (inotify and
 * a periodic rescan), claims each file in the ledger, stages it on worker
 * threads (validate once; bad records to quarantine), groups staged files of
 * a table into batches by window and size, loads each batch idempotently, and
 * archives its files; every state change is in the ledger before the rename
 * it describes, and start-up recovery finishes whatever a crash interrupted.
 * docs/ARCHITECTURE.md section 0 has the design. pipeline stage. */
#ifndef SL_PIPELINE_SERVICE_H
#define SL_PIPELINE_SERVICE_H

#include "core/common.h"
#include "core/error.h"

enum sl_log_level { SL_LOG_ERROR, SL_LOG_WARN, SL_LOG_INFO, SL_LOG_DEBUG };

/* One log event: a message and the things it is about (NULL when none). */
struct sl_log_event {
    enum sl_log_level level;
    const char *msg;
    const char *file; /* name under raw/ */
    const char *table;
    const char *batch;
    const char *err_class;
};
typedef void (*sl_log_fn)(void *ud, const struct sl_log_event *ev);

struct sl_service_opts {
    const char *dir;  /* the gateway folder */
    bool once;        /* drain what is there, then return */
    unsigned threads; /* 0 = sluice.json's, else the CPU count */
    sl_log_fn log;    /* may be NULL */
    void *log_ud;
    enum sl_log_level log_level;
};

/* What a run did (for --once's exit code and the summary). */
struct sl_service_stats {
    uint64_t claimed, staged, loaded, duplicates, failed, vanished;
    uint64_t batches, rows_loaded, rows_rejected;
    uint64_t still_written; /* the last scan left these in raw/: a writer
                               still had them open */
    int stop_signal;     /* SIGTERM/SIGINT that stopped it, 0 = none */
    uint64_t unfinished; /* files claimed and not yet loaded or failed when
                            it stopped (taken up by the next run) */
};

/* Run the service until SIGTERM/SIGINT (or, with once, until everything
 * present is loaded or failed; a signal before that is SL_OK with
 * out->stop_signal set). SIGHUP reloads sluice.json and the registry.
 * Returns SL_OK, or a negative code when it cannot start (another service
 * holds the gateway: -SL_EBUSY naming its pid; a bad sluice.json:
 * -SL_ESCHEMA; ...) or must stop (the ledger cannot be written). Installs
 * signal handlers for the run (chaining to the previous ones) and restores
 * them on return. */
SL_NODISCARD int sl_service_run(const struct sl_service_opts *o,
                                struct sl_service_stats *out,
                                struct sl_error *err);

#endif
