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
#include "rules/rules.h"
#include "schema/schema.h"
#include "warehouse/driver.h"

#include "core/buf.h"

#include <pthread.h>
#include <stdio.h>

/* How a route batches: its rule's Batch, else the gateway's. */
struct rlimits {
    uint32_t window_ms;  /* clock-aligned window; 0 = at once */
    uint32_t max_files;  /* files per batch, 0 = no limit */
    uint64_t max_bytes;  /* bytes per batch, 0 = no limit */
    uint32_t max_reload; /* load attempts (MaxReload), 0 = the gateway's */
};

/* One route of a claimed file: the file into one destination (a file
 * feeds several with fan-out: one struct and one ledger row each). The
 * route is plain data, never a pointer into a rule set, so it outlives
 * rule reloads; the rule itself comes back from its file's recorded text
 * (route.c). */
struct gfile {
    int64_t id;
    char *raw_name; /* under raw/, owned */
    char *table;    /* its destination "dataset.table", owned; NULL = none */
    int tix;        /* the registry table it is validated against (the rule's
                       load_def, or the folder's table), -1 = none */
    char *rule;     /* the rule that routed it, NULL = the folder */
    char src[65];   /* SHA-256 of that rule's file text, "" = none */
    char *key;      /* the rule's batch key, owned, NULL = none */
    struct sl_gw_load *load; /* the rule's load options over the
                                gateway's, owned; NULL = the table's */
    struct rlimits lim;
    int routes;        /* routes its claim made (fan-out: > 1) */
    struct gfile *sib; /* the next route of the same claim: a ring
                          (itself when alone) */
    bool off_raw;      /* its moves out of raw/ are done (route_left_raw):
                          the raw file goes once every route's are */
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
    bool dup_hint;    /* the ledger holds its content as loaded */
    bool no_one_pass; /* a one-pass load sent it back: stage it in full */
    bool op_dirty;    /* its one-pass load quarantined records: its original
                         is linked into quarantine/, its rejects renamed
                         beside it (memory only: recovery settles them) */
    bool busy;        /* a job is working on it */
    char err_class[16];
    char *err_msg; /* owned */
    size_t slot;   /* index in svc.files */
};

struct ggroup;

struct gbatch {
    char id[65];
    int64_t seq;
    struct ggroup *g;     /* the group it was formed from */
    struct gfile **files; /* owned array, borrowed files; files[0] is the
                             one its rule's variables come from */
    size_t n;
    int attempts;
    int64_t next_try_us;
    int64_t created_us;
    bool force;
    bool busy;
    bool by_sql; /* the rule's SQL moves its rows, or Override replaces */
    uint64_t bytes;
    char *plan; /* the recorded plan (JSON), owned, NULL = folder's */
};

/* Staged files with one batch key (and rule text): they batch together,
 * one batch in flight at a time. */
struct ggroup {
    char *key;   /* rule text hash + batch key, or the table: owned */
    char *table; /* the destination */
    int tix;     /* the registry table its files are validated against */
    char *rule;  /* NULL = the folder convention */
    char src[65];
    struct rlimits lim;
    struct gfile **staged; /* waiting for a batch, oldest first */
    size_t n_staged, cap_staged;
    uint64_t staged_bytes;
    struct gbatch *batch; /* the one batch in flight, or NULL */
};

/* A batch's after-work: its rule's OnSuccess (or OnFailure) actions, then
 * the cleanup of its transient table. At least once: the ledger's batch row
 * says it is pending (post) until its results are recorded. */
struct gpost {
    char id[65];
    char *table, *rule, *key, *first_raw; /* owned */
    char src[65];
    int64_t first_mtime_ns, created_us;
    bool success;
    char *error;  /* $Error when !success, owned */
    char **uris;  /* the batch's files, where they are now, owned */
    int64_t *ids; /* their ledger ids */
    size_t n;
    bool acted; /* the actions ran; only the cleanup is left */
    int attempts;
    int64_t next_try_us;
    bool busy;
    struct gpost *next;
};

struct gtable {
    const struct sl_table *t; /* borrowed from svc.reg */
    char name[600];           /* "dataset.table" */
    struct sl_gw_load load;   /* its options (own copy) */
    struct sl_vplan *plan;    /* its compiled validation plan, owned;
                                 immutable, shared by the workers */
};

/* A rule file's text as recorded (rule_sources), and the set parsed from
 * it alone (against the registry, on first use; again after a reload). */
struct rsrc {
    char hash[65];
    char *file; /* "rules/x.yaml" */
    char *text;
    size_t len;
    struct sl_rules *rs; /* NULL until parsed */
    char *problems;      /* why rules of it could not be read, or NULL */
};

/* A batch's recorded plan, read back (route_plan_read). */
struct precord {
    char *rule, *src, *table, *key, *raw; /* owned */
    int64_t first_id, mtime_ns;           /* its first file */
};

/* A file an action moved (to) or deleted (to NULL). */
struct gmoved {
    char *from, *to;
};

enum job_kind { JOB_STAGE, JOB_LOAD, JOB_POST };

/* What a recorded staging result still needs (claim_apply). */
enum job_act { ACT_NONE, ACT_STAGED, ACT_FAILED, ACT_DROP, ACT_REQUEUE };

struct job {
    enum job_kind kind;
    struct job *next;
    /* JOB_STAGE */
    struct gfile *f;
    char *raw_rel, *good_rel, *rejects_rel; /* owned */
    char *table;                            /* the destination, owned */
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
    char (*fps)[65];                /* per file: what a one-pass load
                                       found (fingerprint), owned */
    int64_t *valid;                 /* ... and its rows loaded, owned */
    int64_t *rejected;              /* ... and its bad records, in the
                                       rejects file written beside, owned */
    /* JOB_LOAD, JOB_POST: the set of the batch's rule text (borrowed: a
       reload waits for every job), NULL with why in rs_error */
    const struct sl_rules *rs;
    char *rs_error;
    /* JOB_POST */
    struct gpost *p;
    struct sl_rules_report rep; /* the actions that ran */
    struct gmoved *moved;       /* files they moved or deleted, owned */
    size_t n_moved;
    int clean_rc; /* the cleanup's */
    struct sl_error clean_err;
    bool post_retry; /* the warehouse could not be had: again later */
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
    struct ggroup **groups; /* by batch key, in no order */
    size_t n_groups, cap_groups;
    struct ggroup **gmap; /* open addressing over groups' keys */
    size_t gmap_cap, gmap_used;
    struct gpost *posts;    /* batches whose after-work is to run */
    struct sl_rules *rules; /* the live set: matching new files */
    const char **live_src;  /* per rule of it: its file's text hash */
    struct rsrc **srcs;     /* rule file texts seen, owned */
    size_t n_srcs;
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

/* A staged file loaded in one pass: not read when staged (its fingerprint
 * is unknown until its batch's load reads it). */
static inline bool svc_one_pass(const struct gfile *f)
{
    return f->fp[0] == '\0' && !f->dup_hint;
}

/* onepass.c: a one-pass file's load (file i of job j's batch) on the worker:
 * its rejects written beside it in cloud_ready/ as the load reads it, its
 * facts settled before the commit. */
struct opw {
    struct svc *s;
    struct job *j;
    size_t i;
    uint64_t max_bad; /* its load options' max_bad_records */
    uint64_t n;       /* bad records seen */
    FILE *fp;         /* the rejects, opened on the first */
    struct sl_buf b;
    char tmp_rel[SL_GW_PATH]; /* "<its path>.rejects.ndjson" */
    int err;                  /* errno of the first write failure */
};
void op_begin(struct opw *w, struct svc *s, struct job *j, size_t i,
              const struct sl_vopts *o);
/* The reject sink (ud: the opw): past max_bad, -SL_ECHANGED and the file is
 * left out (staged in full, which fails it with why). */
int op_reject(void *ud, const struct sl_reject *r, struct sl_error *err);
/* Once it was read: unchanged, not every row bad (-SL_ECHANGED, left out),
 * rejects on disk, no file in flight with its content; then its fingerprint
 * and rejects into bf and the job. */
SL_NODISCARD int op_settle(struct opw *w, const struct sl_file_stats *st,
                           struct sl_batch_file *bf, struct sl_error *err);
/* A batch a crash left committed (the driver said so, not knowing the
 * file's content): the file hashed, its rows those recorded (the batch's:
 * it is its only file), its rejects those written before the commit. */
SL_NODISCARD int op_recorded(struct opw *w, struct sl_batch_file *bf,
                             uint64_t rows, struct sl_error *err);
void op_discard(struct opw *w); /* the rejects removed */
void op_end(struct opw *w);     /* the rejects kept for the main thread */

/* "<folder>/<table>/<id>-<base><suffix>": where f goes in a later stage. */
void svc_name_in(const struct svc *s, const struct gfile *f, const char *folder,
                 const char *suffix, char *out, size_t size);

/* The calling worker's read-only ledger connection (opened on first use,
 * closed when the thread ends), NULL when it cannot be opened. */
struct sl_ledger *svc_worker_ledger(const char *root);

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
/* f into its group's staged files (group.c). -SL_ENOMEM. */
SL_NODISCARD int staged_push(struct svc *s, struct gfile *f);
/* Write the .error.json beside a failed file (failures only logged). */
void svc_write_error(struct svc *s, const struct gfile *f, int code);

/* ---- batcher.c: staged -> batched -> loaded | failed -------------------- */
SL_NODISCARD int batch_form_due(struct svc *s, int64_t now, bool drain,
                                int64_t *next_us, struct sl_error *err);
SL_NODISCARD int batch_done(struct svc *s, struct job *j, struct sl_error *err);
void batch_run_job(struct svc *s, struct job *j); /* on a worker */
/* loadjob.c: run one statement whose rows are not wanted (a rule's cleanup;
 * also from post.c) */
int svc_run_sql(struct svc *s, struct sl_wh *wh, const char *sql,
                struct sl_error *err);
SL_NODISCARD int batch_finish_committed(struct svc *s, struct gbatch *b,
                                        bool already,
                                        const enum sl_file_outcome *out,
                                        uint64_t rows, uint64_t checksum,
                                        struct sl_error *err);
SL_NODISCARD int batch_queue_load(struct svc *s, struct gbatch *b);

/* ---- route.c: rules in the service ------------------------------------- */
/* (Re)load the live rule set from rules/ (each problem logged, that rule
 * left out); every rule file's text is recorded in the ledger before a file
 * is routed by it. A rules/ that cannot be read keeps the running set. */
SL_NODISCARD int route_load_rules(struct svc *s, struct sl_error *err);
/* Forget the sets parsed from recorded texts (they borrow the registry,
 * which is being replaced): parsed again on first use. */
void route_drop_sets(struct svc *s);
void route_free(struct svc *s);
/* The set parsed from the rule file text of hash src (the ledger's when not
 * in memory; parsed on first use). NULL with err. Main thread only; the set
 * stays valid until route_drop_sets. */
const struct sl_rules *route_set(struct svc *s, const char *src,
                                 struct sl_error *err);
/* The destination a route has in rs (any thread): the file matched again by
 * its raw name and time, its rule's destination picked (key NULL: any).
 * *out points into m, which the caller releases. -SL_ESCHEMA saying why
 * when the rule no longer routes it there. */
SL_NODISCARD int route_dest(const struct sl_rules *rs, const char *rule,
                            const char *table, const char *key,
                            const char *raw_name, int64_t mtime_ns,
                            struct sl_rules_match *m,
                            const struct sl_rules_dest **out,
                            struct sl_error *err);
/* Route a file being claimed: the rules, else its folder's table. With
 * fan-out the other routes are new structs in f's ring (not yet in the
 * ledger nor in flight). Nowhere: f->table NULL, f->err_msg why. Errors:
 * -SL_ENOMEM only. */
SL_NODISCARD int route_claim(struct svc *s, struct gfile *f,
                             struct sl_error *err);
/* A recovered row's route back: validation table, limits, load options.
 * why[0] != 0 when it can no longer be placed. -SL_ENOMEM. */
SL_NODISCARD int route_resume(struct svc *s, struct gfile *f, char *why,
                              size_t why_size);
/* Fan-out: is a move of f from `from` a link (it leaves raw/ while other
 * routes still read it)? */
bool route_links(const struct gfile *f, const char *from);
/* f has left raw/: the raw file goes once no route of its claim reads it. */
void route_left_raw(struct svc *s, struct gfile *f);
void route_unring(struct gfile *f);
/* The plan a sealed rule batch records (b->plan, b->by_sql). */
SL_NODISCARD int route_plan_record(struct svc *s, struct gbatch *b,
                                   struct sl_error *err);
SL_NODISCARD int route_plan_read(const char *text, struct precord *out);
void route_plan_release(struct precord *p);

/* ---- group.c: staged files by batch key --------------------------------- */
/* f's group, made when new; NULL when out of memory. */
struct ggroup *group_of(struct svc *s, const struct gfile *f);
void groups_sweep(struct svc *s); /* let idle groups go */
void groups_free(struct svc *s);

/* ---- post.c: a batch's actions and cleanup ------------------------------ */
/* Queue b's after-work (call before its files are dropped): its rule's
 * OnSuccess (success) or OnFailure actions with $Error = error, then the
 * cleanup. Nothing for a folder batch. */
SL_NODISCARD int post_add(struct svc *s, const struct gbatch *b, bool success,
                          const char *error, struct sl_error *err);
/* A batch row whose after-work is pending at start-up. */
SL_NODISCARD int post_recover(struct svc *s, const struct sl_lbatch *lb,
                              struct sl_error *err);
SL_NODISCARD int post_due(struct svc *s, int64_t now, int64_t *next_us,
                          struct sl_error *err);
void post_run_job(struct svc *s, struct job *j); /* on a worker */
SL_NODISCARD int post_done(struct svc *s, struct job *j, struct sl_error *err);
void posts_free(struct svc *s);

/* ---- rebuild.c: a lost ledger ------------------------------------------- */
SL_NODISCARD int rebuild_ledger(struct svc *s, struct sl_error *err);

/* ---- recover.c ---------------------------------------------------------- */
SL_NODISCARD int recover(struct svc *s, struct sl_error *err);

#endif
