/* svc_int.h - the service's private state: files in flight, tables, batches,
 * the worker pool and its jobs. Shared by service.c, pool.c, claim.c,
 * batcher.c and recover.c only. pipeline stage.
 *
 * Threads: the main thread owns everything here and alone writes the ledger
 * and moves files; workers run jobs (staging a file, loading a batch) on
 * copies of what they need, and hand results back through the pool. A file
 * or batch with busy set is not touched by the main thread until its job's
 * result comes back. */
#ifndef SL_PIPELINE_SVC_INT_H
#define SL_PIPELINE_SVC_INT_H

#include "core/common.h"

#include "gateway/config.h"
#include "gateway/layout.h"
#include "gateway/stage.h"
#include "ledger/ledger.h"
#include "pipeline/service.h"
#include "schema/schema.h"
#include "warehouse/driver.h"

#include <pthread.h>

struct gfile {
    int64_t id;
    char *raw_name; /* under raw/, owned */
    int tix;        /* index into svc.tables, -1 = none */
    int64_t size, mtime_ns, dev, ino;
    char fp[65], data_fp[65];
    enum sl_fstate state;
    char *path, *prev, *orig, *orig_prev; /* owned, NULL = none */
    int format;
    int64_t rows, valid, rejected;
    char batch[65];
    int attempts;
    int64_t next_try_us;
    int64_t first_seen_us, staged_us, done_us;
    bool force;
    bool dup_hint; /* the ledger holds its content as loaded */
    bool busy;     /* a job is working on it */
    char err_class[16];
    char *err_msg; /* owned */
    size_t slot;   /* index in svc.files */
};

struct gbatch {
    char id[65];
    int64_t seq;
    int tix;
    struct gfile **files; /* owned array, borrowed files */
    size_t n;
    int attempts;
    int64_t next_try_us;
    int64_t created_us;
    bool force;
    bool busy;
    uint64_t bytes;
};

struct gtable {
    const struct sl_table *t; /* borrowed from svc.reg */
    char name[600];           /* "dataset.table" */
    struct sl_gw_load load;   /* its options (own copy) */
    struct sl_vplan *plan;    /* its compiled validation plan, owned;
                                 immutable, shared by the workers */
    struct gfile **staged;    /* waiting for a batch, oldest first */
    size_t n_staged, cap_staged;
    uint64_t staged_bytes;
    struct gbatch *batch; /* the one batch in flight, or NULL */
};

enum job_kind { JOB_STAGE, JOB_LOAD };

/* What a recorded staging result still needs (claim_apply). */
enum job_act { ACT_NONE, ACT_STAGED, ACT_FAILED, ACT_DROP, ACT_REQUEUE };

struct job {
    enum job_kind kind;
    struct job *next;
    /* JOB_STAGE */
    struct gfile *f;
    char *raw_rel, *good_rel, *rejects_rel; /* owned */
    struct sl_stage_req req;
    struct sl_stage_res res;
    enum job_act act;
    /* JOB_LOAD */
    struct gbatch *b;
    int rc;
    struct sl_error err;
    long bad_index; /* the file a feed refused, -1 = none */
    bool already;   /* the batch id was recorded before */
    uint64_t rows_loaded, checksum;
    enum sl_file_outcome *outcomes; /* per file, owned */
};

struct pool {
    pthread_t *threads;
    unsigned n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *todo_head, *todo_tail;
    struct job *done_head, *done_tail;
    unsigned running;
    bool stop;
    int wake_fd; /* eventfd: a result is ready */
};

struct svc {
    const struct sl_service_opts *o;
    struct sl_service_stats *stats;
    struct sl_gw_config *cfg;
    struct sl_registry *reg;
    struct sl_ledger *ledger;
    const struct sl_wh_ops *ops;
    struct gtable *tables;
    size_t n_tables;
    struct gfile **files; /* in flight */
    size_t n_files, cap_files;
    struct gfile **by_raw; /* open addressing: claimed raw names */
    size_t raw_cap, raw_n;
    struct pool pool;
    unsigned threads;
    int64_t seq;    /* last batch sequence number */
    char gw_id[40]; /* the gateway's id (ledger meta) */
    int inotify_fd;
    int64_t next_scan_us;
    bool scan_more; /* a scan stopped at the in-flight limit */
    bool stopping;
    uint32_t jobs_out;     /* jobs queued or running */
    uint32_t stage_jobs;   /* of which staging */
    int64_t tx_started_us; /* start of the ledger transaction open, or 0 */
    int64_t requests;      /* force requests waiting in the ledger */
};

/* ---- service.c ---------------------------------------------------------- */
void svc_log(struct svc *s, enum sl_log_level lv, const struct gfile *f,
             const char *batch, const char *cls, const char *fmt, ...)
    SL_PRINTF(6, 7);
/* The table index of "dataset.table" or "table", -1 if not in the registry. */
int svc_table_index(struct svc *s, const char *name);
/* Ledger transaction around a group of state changes (see recover.c for
 * what moves_done_before records). */
SL_NODISCARD int svc_tx_begin(struct svc *s, struct sl_error *err);
SL_NODISCARD int svc_tx_commit(struct svc *s, struct sl_error *err);
/* Write f's row (inserting it when f->id is 0). */
SL_NODISCARD int svc_put_file(struct svc *s, struct gfile *f,
                              struct sl_error *err);
/* Best effort: an event that cannot be written is only logged. */
void svc_event(struct svc *s, const struct gfile *f, const char *batch,
               const char *what, const char *detail);
/* Move a file as the ledger says; a failure is logged, not returned (the
 * ledger already holds where the file belongs: recovery retries it). */
void svc_move(struct svc *s, const struct gfile *f, const char *batch,
              const char *from, const char *to);
/* Files in flight: add, drop (freed), find by claimed raw name. */
SL_NODISCARD int svc_add_file(struct svc *s, struct gfile *f);
void svc_drop_file(struct svc *s, struct gfile *f);
struct gfile *svc_find_raw(struct svc *s, const char *raw_name);
void svc_forget_raw(struct svc *s, struct gfile *f);
SL_NODISCARD int svc_remember_raw(struct svc *s, struct gfile *f);
void gfile_free(struct gfile *f);
/* Replace *slot with a copy of v (NULL ok); -SL_ENOMEM. */
SL_NODISCARD int svc_set(char **slot, const char *v);
/* The backoff before attempt n (exponential with jitter, within the
 * config's bounds). */
int64_t svc_backoff_us(struct svc *s, int attempts);

/* ---- pool.c ------------------------------------------------------------- */
SL_NODISCARD int pool_start(struct svc *s, unsigned n, struct sl_error *err);
void pool_stop(struct svc *s);
void pool_push(struct svc *s, struct job *j);
struct job *pool_take_done(struct svc *s); /* NULL when none */
void job_free(struct job *j);

/* ---- claim.c: raw/ -> claimed -> staged | failed ------------------------ */
SL_NODISCARD int claim_scan(struct svc *s, struct sl_error *err);
SL_NODISCARD int claim_queue(struct svc *s, struct gfile *f,
                             struct sl_error *err);
SL_NODISCARD int claim_record(struct svc *s, struct job *j,
                              struct sl_error *err);
SL_NODISCARD int claim_apply(struct svc *s, struct job *j,
                             struct sl_error *err);
SL_NODISCARD int claim_retry_due(struct svc *s, int64_t now, int64_t *next_us,
                                 struct sl_error *err);
/* A file gives up: ledger (failed), then the move to failed/ and its
 * .error.json. */
SL_NODISCARD int svc_fail_file(struct svc *s, struct gfile *f, int code,
                               const char *cls, const char *msg,
                               struct sl_error *err);
SL_NODISCARD int staged_push(struct svc *s, struct gfile *f);
/* Write the .error.json beside a failed file (failures only logged). */
void svc_write_error(struct svc *s, const struct gfile *f, int code);

/* ---- batcher.c: staged -> batched -> loaded | failed -------------------- */
SL_NODISCARD int batch_form_due(struct svc *s, int64_t now, bool drain,
                                int64_t *next_us, struct sl_error *err);
SL_NODISCARD int batch_done(struct svc *s, struct job *j, struct sl_error *err);
void batch_run_job(struct svc *s, struct job *j); /* on a worker */
SL_NODISCARD int batch_finish_committed(struct svc *s, struct gbatch *b,
                                        bool already,
                                        const enum sl_file_outcome *out,
                                        uint64_t rows, uint64_t checksum,
                                        struct sl_error *err);
SL_NODISCARD int batch_queue_load(struct svc *s, struct gbatch *b);

/* ---- rebuild.c: a lost ledger ------------------------------------------- */
SL_NODISCARD int rebuild_ledger(struct svc *s, struct sl_error *err);

/* ---- recover.c ---------------------------------------------------------- */
SL_NODISCARD int recover(struct svc *s, struct sl_error *err);

#endif
