/* clickhouse_int.h - private to the ClickHouse driver (clickhouse*.c): the
 * URI, the connections to each shard, the storage plan (docs/TYPES.md), the
 * Native writer and reader and the statement helpers; included
 * only from inside src/warehouse/ (and the driver's unit tests). warehouse
 * stage. The design is in docs/CLICKHOUSE.md. */
#ifndef SL_WAREHOUSE_CLICKHOUSE_INT_H
#define SL_WAREHOUSE_CLICKHOUSE_INT_H

#include "core/common.h"

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "warehouse/driver.h"
#include "warehouse/http.h"

#define SL_CH_MAX_SHARDS 16

/* Append a string literal to a struct sl_buf. */
#define CH_LIT(b, lit) sl__buf_append((b), (lit), sizeof(lit) - 1)

/* ---- the URI (clickhouse_uri.c) ------------------------------------------ */

struct sl_ch_host {
    char host[256]; /* name or address (IPv6 without brackets) */
    unsigned port;  /* the HTTP interface's port */
};

/* clickhouse://[USER[:PASSWORD]@]HOST[:PORT][,HOST[:PORT]...]/DATABASE
 *     [?cluster=NAME&compress=gzip|none&timeout=S&connect_timeout=S] */
struct sl_ch_uri {
    struct sl_ch_host shard[SL_CH_MAX_SHARDS]; /* in the cluster's order */
    size_t n_shards;
    char user[128];     /* "" = ClickHouse's default user */
    char password[256]; /* never printed */
    char database[128];
    char cluster[128];   /* remote_servers name for Distributed tables; "" */
    bool compress;       /* gzip request bodies (default: unless loopback) */
    uint32_t timeout_ms; /* idle time that ends a request */
    uint32_t connect_timeout_ms;
    unsigned streams; /* INSERT streams per shard (default: 2 for one
                         server, 1 per shard of a cluster) */
    char shown[600];  /* the URI for messages: no password, ever */
};

/* Parse uri; the user and password come from it, else from the environment
 * (SLUICE_CLICKHOUSE_USER, SLUICE_CLICKHOUSE_PASSWORD). -SL_EUSAGE naming
 * what is wrong (never the password). */
SL_NODISCARD int sl__ch_uri_parse(const char *uri, struct sl_ch_uri *out,
                                  struct sl_error *err);
/* Is host a loopback name or address? */
bool sl__ch_is_loopback(const char *host);

/* ---- SQL text (clickhouse_uri.c) ----------------------------------------- */

/* `name` with ` and \ escaped. -SL_ENOMEM. */
SL_NODISCARD int sl__ch_ident(struct sl_buf *b, const char *name);
/* 'text' with ' and \ escaped, control bytes as \xHH. -SL_ENOMEM. */
SL_NODISCARD int sl__ch_literal(struct sl_buf *b, const char *s, size_t n);

/* ---- responses (clickhouse_resp.c) --------------------------------------- */

/* A ClickHouse exception found in a response body: "Code: 60, e.displayText()
 * = DB::Exception: ..." (18.x) or "Code: 60. DB::Exception: ... (NAME)"
 * (later versions), at the start of body or at the start of a line (an error
 * after rows of a streamed result). */
struct sl_ch_exc {
    int code;
    char msg[400]; /* the message, without the wrapping */
};
/* Find an exception in the n bytes of p; *out_found. header_code: the
 * X-ClickHouse-Exception-Code header or NULL. */
void sl__ch_find_exception(const char *p, size_t n, const char *header_code,
                           struct sl_ch_exc *out, bool *out_found);
/* The class of an exception code: -SL_EAUTH, -SL_EBUSY, -SL_EUNAVAIL,
 * -SL_ENOSPC, -SL_ENOTFOUND or -SL_EWAREHOUSE. */
int sl__ch_code_class(int code);
/* Raise the error a response stands for (status, body) into err and return
 * it; SL_OK for a 200 answer without an exception. what: "host:port". */
SL_NODISCARD int sl__ch_judge(const char *what, const char *user,
                              const struct sl_http_resp *r,
                              struct sl_error *err);

/* ---- connections --------------------------------------------------------- */

struct sl_ch_conn {
    struct sl_http *http; /* owned */
    char name[300];       /* "host:port", for messages */
};

struct sl_wh {
    struct sl_ch_uri uri;
    struct sl_ch_conn shard[SL_CH_MAX_SHARDS];
    size_t n_shards;
    unsigned threads;         /* producers for a parallel load (open opts) */
    bool read_only;           /* SL_WH_READ: readonly=2 on every request */
    bool audit_ready;         /* audit tables exist (created once a handle) */
    bool db_ready;            /* the database exists: requests name it */
    struct sl_cursor *cursor; /* the open query, NULL if none (borrowed) */
    bool loading;
    /* while a batch's id is known: every request's query_id is
     * "sluice-<batch id>-<token>-<n>", so that a later attempt can wait for
     * the queries of one a kill -9 cut off (the server finishes them) */
    char qid[96];
    unsigned qseq; /* atomic: feed threads share the handle */
};

/* Run sql on shard s, no result wanted (DDL, ALTER, small INSERT). settings:
 * extra "&name=value" URL parameters, or NULL. */
SL_NODISCARD int sl__ch_exec(struct sl_wh *wh, size_t s, const char *sql,
                             const char *settings, struct sl_error *err);
/* Run sql (a SELECT of one column of one row, any integer type) on shard s;
 * *out = that value, 0 for no row. */
SL_NODISCARD int sl__ch_count(struct sl_wh *wh, size_t s, const char *sql,
                              int64_t *out, struct sl_error *err);
/* t as the warehouse holds it: *out_exists when its tables exist on every
 * shard; SL_OK if those that exist match the definition, -SL_ESCHEMA naming
 * what ClickHouse cannot hold or the first difference. Creates nothing. */
SL_NODISCARD int sl__ch_table_state(struct sl_wh *wh, const struct sl_table *t,
                                    bool *out_exists, struct sl_error *err);
/* Append the URL path and query of a request on wh's database with settings
 * (may be NULL). */
SL_NODISCARD int sl__ch_path(struct sl_wh *wh, struct sl_buf *b,
                             const char *settings);
/* The same; tag: with the batch's next query_id (sl__ch_path's choice). A
 * path sent more than once (the feed's parallel streams) is not tagged: a
 * query_id names one running query. */
SL_NODISCARD int sl__ch_path_tag(struct sl_wh *wh, struct sl_buf *b,
                                 const char *settings, bool tag);

/* ---- the storage plan (clickhouse_plan.c) -------------------------------- */

/* How a leaf value is stored (the block writer's switch). */
enum ch_st {
    CH_BOOL,    /* UInt8 0/1 from BOOL */
    CH_I64,     /* Int64 from INT64 */
    CH_F64,     /* Float64 from FLOAT64 */
    CH_DEC,     /* Decimal(P,S) from NUMERIC (4, 8 or 16 bytes by P) */
    CH_DECTEXT, /* Decimal(P,S) from BIGNUMERIC's decimal text */
    CH_STR,     /* String from any text kind */
    CH_BYTES,   /* String from BYTES */
    CH_DATE,    /* Int32 days since 1970-01-01 */
    CH_MICROS,  /* Int64 microseconds (TIMESTAMP, DATETIME, TIME) */
};

/* One ClickHouse column: a leaf of the definition's field tree. */
#define CH_MAX_DEPTH 16
struct ch_col {
    char *name; /* dotted path, owned */
    char *type; /* ClickHouse type text, owned */
    const struct sl_field *chain[CH_MAX_DEPTH]; /* top-level field .. leaf */
    uint8_t depth;                              /* entries in chain */
    uint8_t n_arrays;         /* REPEATED fields on the chain */
    bool nullable;            /* Nullable(scalar) */
    uint8_t st;               /* enum ch_st */
    uint8_t precision, scale; /* CH_DEC, CH_DECTEXT */
};

struct ch_plan {
    struct ch_col *cols; /* leaves in definition order, owned */
    size_t n_cols;
    char *partition; /* PARTITION BY expression, NULL for none, owned */
    char *order;     /* ORDER BY expression ("tuple()" at least), owned */
    char *shard_key; /* the Distributed table's sharding key, owned */
    /* routing rows to shards: top-level field indexes of the clustering
       columns (the sharding key's inputs); 0 = a hash of the whole row */
    size_t shard_cols[4];
    size_t n_shard_cols;
};

/* Plan t. Everything ClickHouse cannot hold is listed, one "field: reason"
 * per line, in one -SL_ESCHEMA whose message names the table and the first
 * problems (problems, if non-NULL, gets them all). -SL_ENOMEM. Caller frees
 * with sl__ch_plan_free. */
SL_NODISCARD int sl__ch_plan_table(const struct sl_table *t,
                                   struct ch_plan *out, struct sl_buf *problems,
                                   struct sl_error *err);
void sl__ch_plan_free(struct ch_plan *p); /* zeroed or planned */

/* The column list "(`a` T, `b` U ...)" of p, plus the batch marker column
 * `_sluice_batch UInt64` with the given suffix (" MATERIALIZED 0" for the
 * table, "" for a staging table) when marker is non-NULL. */
SL_NODISCARD int sl__ch_columns_sql(struct sl_buf *b, const struct ch_plan *p,
                                    const char *marker);
/* " ENGINE = MergeTree PARTITION BY ... ORDER BY ..." of p. */
SL_NODISCARD int sl__ch_engine_sql(struct sl_buf *b, const struct ch_plan *p);

/* The database a dataset's tables live in: the URI's database for "main",
 * else the dataset's name. */
const char *sl__ch_dataset_db(const struct sl_wh *wh, const char *dataset);

/* ---- Native blocks of rows (clickhouse_encode.c) ------------------------ */

struct ch_bw; /* a block being filled with rows (opaque) */

/* A writer of blocks of plan p's columns plus the UInt64 column
 * _sluice_batch = marker. Caller frees with sl__ch_bw_destroy. */
SL_NODISCARD int sl__ch_bw_create(const struct ch_plan *p, uint64_t marker,
                                  struct ch_bw **out, struct sl_error *err);
void sl__ch_bw_destroy(struct ch_bw *w); /* NULL ok */
/* Add one row (n values of the table's top-level fields). -SL_EINVAL for a
 * value the column cannot take (a bug upstream: the validator checked it),
 * -SL_ENOMEM; the block is then broken (only destroy is useful). */
SL_NODISCARD int sl__ch_bw_row(struct ch_bw *w, const struct sl_val *row,
                               size_t n, struct sl_error *err);
size_t sl__ch_bw_rows(const struct ch_bw *w);
size_t sl__ch_bw_size(const struct ch_bw *w); /* bytes held, about */
/* Append the rows as one Native block to out and empty w (no rows: nothing
 * appended). */
SL_NODISCARD int sl__ch_bw_flush(struct ch_bw *w, struct sl_buf *out,
                                 struct sl_error *err);

/* What routing keeps between rows (zero it first). */
struct ch_route {
    struct sl_buf text; /* the sharding key's text */
    void *md;           /* an EVP_MD_CTX, owned */
};
void sl__ch_route_release(struct ch_route *rt);
/* *out = the shard (0 .. n_shards-1) row goes to: halfMD5 of the clustering
 * columns' text, as the Distributed table's key computes it, or row_hash
 * (its sl_row_hash) when the table has no clustering. -SL_ENOMEM. */
SL_NODISCARD int sl__ch_route(const struct ch_plan *p, const struct sl_val *row,
                              size_t n, uint64_t row_hash, size_t n_shards,
                              struct ch_route *rt, size_t *out);
/* Decimal text (BIGNUMERIC) to an integer scaled by scale; false if it does
 * not fit 38 digits or has more decimals than scale. */
bool sl__ch_dectext(const char *s, size_t n, unsigned scale, __int128 *out);
/* The text ClickHouse's toString gives a Decimal of that scale. */
int sl__ch_dec_str(struct sl_buf *b, __int128 v, unsigned scale);

/* ---- the Native reader and cursors (clickhouse_native.c) ------------------
 */

/* One column (or nested part) of a Native block, as parsed from its type. */
struct ch_ntype {
    uint8_t id;    /* enum in clickhouse_native.c */
    uint8_t width; /* bytes of a fixed-size value */
    uint8_t scale; /* Decimal */
    bool is_signed;
    struct ch_ntype *kids; /* Nullable/Array: 1; Tuple: n */
    size_t n_kids;
    char **enum_names; /* Enum8/16: names by value */
    int *enum_vals;
    size_t n_enum;
};

/* Parse a ClickHouse type name into t (caller frees with sl__ch_ntype_free).
 * -SL_EWAREHOUSE for a type the reader cannot take. */
SL_NODISCARD int sl__ch_ntype_parse(const char *s, size_t n, struct ch_ntype *t,
                                    struct sl_error *err);
void sl__ch_ntype_free(struct ch_ntype *t);

/* A Native block being read: parse it out of [p, p+n): *out_used bytes when
 * complete, 0 with *out_need (bytes short at least) when more is needed. */
struct ch_block;
SL_NODISCARD int sl__ch_block_parse(const char *p, size_t n,
                                    struct ch_block **out, size_t *out_used,
                                    size_t *out_need, struct sl_error *err);
void sl__ch_block_free(struct ch_block *b);
size_t sl__ch_block_rows(const struct ch_block *b);
size_t sl__ch_block_cols(const struct ch_block *b);
const char *sl__ch_block_name(const struct ch_block *b, size_t col);
const char *sl__ch_block_type(const struct ch_block *b, size_t col);
/* Row r of column col into *out, nested values and texts in a. */
SL_NODISCARD int sl__ch_block_value(const struct ch_block *b, size_t col,
                                    size_t r, struct sl_arena *a,
                                    struct sl_val *out, struct sl_error *err);
/* The query column (kind, nested parts) for a Native type. */
SL_NODISCARD int sl__ch_qcol(const char *name, const char *type,
                             struct sl_qcol *out, struct sl_error *err);
void sl__ch_qcol_release(struct sl_qcol *q);

/* Open a cursor on shard s (the sl_wh_ops query on shard 0). */
SL_NODISCARD int sl__ch_cursor_open_on(struct sl_wh *wh, size_t s,
                                       const char *sql, struct sl_cursor **out,
                                       struct sl_error *err);

/* The sl_wh_ops entries (contracts in driver.h). */
SL_NODISCARD int sl__ch_query(struct sl_wh *wh, const char *sql,
                              struct sl_cursor **out, struct sl_error *err);
const struct sl_qcol *sl__ch_cursor_columns(struct sl_cursor *c, size_t *out_n);
SL_NODISCARD int sl__ch_cursor_next(struct sl_cursor *c,
                                    const struct sl_val **out_row,
                                    struct sl_error *err);
void sl__ch_cursor_close(struct sl_cursor *c);
SL_NODISCARD int sl__ch_split_statements(struct sl_wh *wh, const char *sql,
                                         char ***out, size_t *out_n,
                                         struct sl_error *err);
void sl__ch_free_statements(char **stmts, size_t n);

/* ---- streamed inserts (clickhouse_upload.c) -------------------------------
 */

struct ch_upload; /* one INSERT whose body is being sent (opaque) */

struct ch_upload_opts {
    const struct sl_http_opts *http; /* the server (a connection of its own) */
    const char *path;                /* URL path and query (sl__ch_path) */
    const char *sql;                 /* "INSERT INTO ... FORMAT Native" */
    bool gzip;                       /* compress the body */
};

/* Start the INSERT on a thread of its own; its data follows through push.
 * Caller ends it with finish or abort. */
SL_NODISCARD int sl__ch_upload_start(const struct ch_upload_opts *o,
                                     struct ch_upload **out,
                                     struct sl_error *err);
/* Hand over chunk's bytes (whole rows): chunk gets an empty buffer back
 * (with capacity). Blocks while 4 chunks wait to be sent. Thread-safe
 * against other pushers. Fails with the insert's own error when it ended. */
SL_NODISCARD int sl__ch_upload_push(struct ch_upload *u, struct sl_buf *chunk,
                                    struct sl_error *err);
/* End the body, wait for the answer, free u. *out_bytes: raw bytes sent. */
SL_NODISCARD int sl__ch_upload_finish(struct ch_upload *u, uint64_t *out_bytes,
                                      struct sl_error *err);
/* Abandon the insert (the server sees a broken body), wait, free u. */
void sl__ch_upload_abort(struct ch_upload *u); /* NULL ok */

/* ---- a batch's rows to the staging tables (clickhouse_feed.c) ------------ */

/* INSERT streams per shard at most (?streams=N): the server parses and
   writes each on a thread of its own, and one stream alone leaves it idle
   while it writes a part */
#define SL_CH_STREAMS 4

struct ch_prod; /* one producing thread's blocks (opaque) */

struct ch_feed {
    struct sl_wh *wh;                /* borrowed */
    const struct ch_plan *plan;      /* borrowed */
    uint64_t marker;                 /* the attempt's token, every row's */
    const char *db;                  /* where the staging tables are */
    const char *tmp;                 /* the staging table's name */
    bool done[SL_CH_MAX_SHARDS];     /* shards not sent to (their part is
                                        recorded); rows are still counted */
    bool tmp_made[SL_CH_MAX_SHARDS]; /* a staging table exists there */
    struct ch_upload *up[SL_CH_MAX_SHARDS][SL_CH_STREAMS];
    unsigned streams;     /* streams per shard in use */
    struct ch_prod *main; /* the calling thread's producer */
    uint64_t rows, sum;   /* rows fed, their sl_row_hash sum */
    uint64_t srows[SL_CH_MAX_SHARDS], ssum[SL_CH_MAX_SHARDS]; /* per shard */
};

/* Create the staging table on every shard not done and start its streams.
 * f is zeroed but for wh, plan, marker, db, tmp and done. */
SL_NODISCARD int sl__ch_feed_start(struct ch_feed *f, struct sl_error *err);
/* Feed file i of b: on several threads when its source splits it, else on
 * this one; sets its rows_loaded. */
SL_NODISCARD int sl__ch_feed_file(struct ch_feed *f, struct sl_batch *b,
                                  size_t i, struct sl_error *err);
/* Send what is held and end every stream; the server's answers. */
SL_NODISCARD int sl__ch_feed_finish(struct ch_feed *f, struct sl_error *err);
void sl__ch_feed_abort(struct ch_feed *f);   /* abandon the streams */
void sl__ch_feed_drop(struct ch_feed *f);    /* drop the staging tables */
void sl__ch_feed_release(struct ch_feed *f); /* abort, free the producer */

/* ---- the audit trail and batches (clickhouse.c, clickhouse_load.c) --------
 */

/* Create the audit tables (_sluice_loads and _sluice_files on shard 0,
 * _sluice_parts on every shard) unless done on this handle. */
SL_NODISCARD int sl__ch_audit_ready(struct sl_wh *wh, struct sl_error *err);
/* Is batch id recorded in _sluice_loads? */
SL_NODISCARD int sl__ch_batch_recorded(struct sl_wh *wh, const char *id,
                                       bool *out_yes, struct sl_error *err);
/* Which of n fingerprints has table ("dataset.table") loaded in a committed
 * batch? */
SL_NODISCARD int sl__ch_fps_loaded(struct sl_wh *wh, const char *table,
                                   const char *const *fps, size_t n,
                                   bool *out_yes, struct sl_error *err);
/* The local (MergeTree) table of t rows are written to: `db`.`name` on one
 * server, `db`.`name_local` on a cluster. */
SL_NODISCARD int sl__ch_local_table(struct sl_wh *wh, const struct sl_table *t,
                                    struct sl_buf *b);
SL_NODISCARD int sl__ch_load_batch(struct sl_wh *wh, struct sl_batch *b,
                                   struct sl_error *err);

#endif
