/* status.h - what a gateway is doing, from its ledger and folders (never from
 * the warehouse, so it answers while the warehouse is down or busy): files per
 * stage, failures by class, per table the pending files and rows, the last
 * load, the age of the oldest pending file (the ingestion delay), loads and
 * rows in the last hour; and the health check built on it. ops stage. */
#ifndef SL_OPS_STATUS_H
#define SL_OPS_STATUS_H

#include "core/buf.h"
#include "core/common.h"
#include "core/error.h"

#include <stdio.h>

/* The --json shape's version (docs/STATUS.md): bumped on any change that is
 * not an added key. */
#define SL_STATUS_VERSION 1

struct sl_status_table {
    char table[600];
    int64_t pending_files, pending_rows;   /* claimed, staged or batched */
    int64_t oldest_pending_us;             /* first sighting, 0 = none */
    int64_t last_load_us;                  /* 0 = never */
    int64_t loads_hour, rows_hour;         /* batches and rows, last hour */
    int64_t failed, rejected;              /* files failed; records in
                                              quarantine */
    int64_t failed_corrupt, failed_schema; /* of failed, by class */
    int64_t failed_other;                  /* transient, fatal */
};

/* Files a rule routed (fan-out: one per route) and its batches' actions. */
struct sl_status_rule {
    char rule[256];                        /* "events", "a/b[1]" */
    int64_t pending, loaded, failed;       /* files */
    int64_t failed_corrupt, failed_schema; /* of failed, by class */
    int64_t failed_other;                  /* transient, fatal */
    int64_t actions_failed; /* action or cleanup failures (ledger events) */
    int64_t post_pending;   /* batches whose actions are still to run */
};

struct sl_status {
    char dir[4096];
    bool running; /* a `sluice run` holds the gateway's lock */
    long pid;     /* its pid, 0 = unknown */
    int64_t now_us;
    int64_t raw;           /* files in raw/ not yet claimed */
    int64_t oldest_raw_us; /* mtime of the oldest of them, 0 = none */
    int64_t by_state[8];   /* ledger files per enum sl_fstate */
    int64_t failed_corrupt, failed_schema, failed_transient, failed_fatal;
    int64_t failed_recent; /* failures within the failure window */
    int64_t rejected;      /* records in quarantine */
    int64_t delay_threshold_s, failure_window_s;
    struct sl_status_table *tables; /* owned */
    size_t n_tables;
    struct sl_status_rule *rules; /* owned, by name; none without rules */
    size_t n_rules;
    char warehouse[4096];
};

/* Gather the status of the gateway in dir. -SL_ENOTFOUND when dir is no
 * gateway. A gateway whose ledger does not exist yet (never run) has zeroes.
 * Caller frees with sl_status_release. */
SL_NODISCARD int sl_status_read(const char *dir, struct sl_status *out,
                                struct sl_error *err);
void sl_status_release(struct sl_status *st);

/* Print st as text, or as one JSON object (docs/STATUS.md). */
void sl_status_print(const struct sl_status *st, FILE *out);
SL_NODISCARD int sl_status_json(const struct sl_status *st, struct sl_buf *b);

/* The health check: one line per finding into out ("ok: ...", "warn: ...",
 * "fail: ..."), probing the warehouse too (reachable?). Returns 0 healthy, 1
 * degraded, 2 unhealthy. */
int sl_health_check(const struct sl_status *st, FILE *out);

#endif
