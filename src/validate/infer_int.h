/* infer_int.h - internals of schema inference shared by infer.c (state,
 * widening, output), infer_json.c (NDJSON rows) and infer_csv.c (CSV rows and
 * headers). validate stage; include only from src/validate/infer*.c. */
#ifndef SL_VALIDATE_INFER_INT_H
#define SL_VALIDATE_INFER_INT_H

#include "core/common.h"

#include "core/buf.h"
#include "core/error.h"
#include "parse/csv.h"
#include "validate/infer.h"

#define SL_INFER_MAX_ROW   (100u * 1024 * 1024) /* BigQuery's row limit */
#define SL_INFER_MAX_DEPTH 15                   /* RECORD levels, §1.6 */
#define SL_INFER_MAX_NAME  300                  /* column name chars, §1.5 */

/* What the values of a field are, from the narrowest; widening is a join on
 * NONE < {BOOL, INT < FLOAT, DATE, TIME, TIMESTAMP} < STRING, with RECORD
 * apart (joined with anything else it is a conflict). */
enum ikind {
    IK_NONE, /* nothing but nulls (or empty arrays) so far */
    IK_BOOL,
    IK_INT,
    IK_FLOAT,
    IK_DATE,
    IK_TIME,
    IK_TIMESTAMP,
    IK_STRING,
    IK_RECORD,
};

/* Where something was first seen: a file of the inference and a line. */
struct iloc {
    uint32_t file; /* index into sl_infer.files */
    uint64_t line; /* 1-based */
};

/* One field: a key of JSON objects (all spellings that differ only in case)
 * or a CSV column. */
struct inode {
    char *name;              /* first spelling, owned, NUL-terminated */
    size_t name_len;         /* bytes */
    struct inode *parent;    /* enclosing RECORD, NULL for the root */
    unsigned level;          /* RECORD nesting: top-level fields are 1 */
    enum ikind kind;         /* widened kind of the values (elements) */
    enum ikind scalar_first; /* kind of the first scalar value */
    bool seen_array;         /* some value was an array */
    bool seen_single;        /* some value was a non-null non-array */
    struct iloc array_at;    /* first array */
    struct iloc single_at;   /* first non-null non-array value */
    struct iloc record_at;   /* first object (value or element) */
    struct iloc scalar_at;   /* first scalar (value or element) */
    uint64_t nonnull;        /* occurrences present and not null */
    uint64_t objects;        /* RECORD: objects seen (root: rows) */
    uint64_t mark;           /* object generation that last set this key */
    struct inode **kids;     /* sub-fields in first-seen order, owned */
    size_t n_kids;           /* used */
    size_t cap_kids;         /* allocated */
    uint32_t *lookup;        /* case-insensitive index+1 into kids, owned */
    uint32_t lookup_cap;     /* power of 2, 0 = none yet */
};

/* Per-file CSV column state, merged into the root at the end of the file. */
struct icol {
    enum ikind kind;  /* widened over this file's data rows */
    uint64_t nonnull; /* data rows with a non-null value */
};

/* Reading state of one input. */
struct ifile {
    const char *name; /* as given, borrowed */
    uint32_t idx;     /* index into sl_infer.files */
    uint64_t line_no; /* line of the row being read, 1-based */
    uint64_t off;     /* byte offset of the row being read */
    uint64_t rows;    /* data rows merged */
    bool done;        /* the sample is complete */
    /* CSV */
    struct sl_csv csv;   /* the reader */
    bool csv_ready;      /* csv was initialised */
    uint64_t skip_left;  /* leading rows still to skip */
    bool want_candidate; /* the next row is the header candidate */
    bool have_candidate; /* cand holds it */
    struct sl_buf cand;  /* the candidate's cells, back to back */
    size_t *cand_end;    /* end offset of each cell in cand, owned */
    bool *cand_quoted;   /* each cell was quoted, owned */
    size_t n_cand;       /* cells */
    uint64_t cand_line;  /* its line */
    struct icol *cols;   /* this file's columns, owned */
    size_t n_cols;       /* widest data row so far */
    size_t cap_cols;     /* allocated */
    size_t min_cols;     /* fewest values in a data row (SIZE_MAX: none) */
};

struct sl_infer {
    struct sl_infer_opts o; /* copy; o.null_marker points at marker */
    char *marker;           /* owned copy of the null marker */
    struct inode root;      /* the row: a RECORD of the top-level fields */
    char **files;           /* names of the inputs fed, owned */
    size_t n_files;
    uint64_t gen;             /* object generation (duplicate keys) */
    struct sl_buf scratch;    /* unescaped JSON strings */
    struct sl_infer_stats st; /* counters */
    bool skip_known;          /* st.load_skip_rows was set by a file */
    struct ifile *cur;        /* the file being read, NULL between files */
};

/* ---- infer.c: fields and widening ------------------------------------- */

/* The kind of a text value as BigQuery's autodetect reads JSON strings and
 * CSV fields: INT, FLOAT, BOOL, DATE, TIME, TIMESTAMP or STRING (never
 * NONE). Each kind is confirmed by the load coercion of that type. */
enum ikind sl__infer_text_kind(const char *s, size_t n);
/* The kind of a JSON number token (already checked against the grammar). */
enum ikind sl__infer_number_kind(const char *s, size_t n, bool is_int);
/* The join of two kinds; IK_RECORD with another kind gives IK_RECORD and
 * *conflict = true. */
enum ikind sl__infer_join(enum ikind a, enum ikind b, bool *conflict);
const char *sl__infer_kind_name(enum ikind k);

/* Sub-field of rec named (name, len), ASCII case-insensitively, or NULL.
 * *hint is the index to try first (the next key in first-seen order); it is
 * moved past the match. */
struct inode *sl__infer_find(struct inode *rec, const char *name, size_t len,
                             size_t *hint);
/* Append a new sub-field named (name, len) to rec. NULL on ENOMEM. */
struct inode *sl__infer_add(struct inode *rec, const char *name, size_t len);

/* A value of kind k (not NONE) for field n at the current row: widen, or
 * -SL_ESCHEMA for an object and a scalar, or RECORDs nested too deep. */
SL_NODISCARD int sl__infer_note(struct sl_infer *inf, struct inode *n,
                                enum ikind k, struct sl_error *err);
/* A non-null value of n that is (array) or is not an array: -SL_ESCHEMA when
 * the field has had the other shape. Counts the occurrence as non-null. */
SL_NODISCARD int sl__infer_shape(struct sl_infer *inf, struct inode *n,
                                 bool array, struct sl_error *err);
/* Set err (returns code): column = n's dotted path (n may be NULL), path,
 * line and byte offset = the current row's; the message is "FILE: line N: "
 * and fmt. */
int sl__infer_fail(struct sl_infer *inf, const struct inode *n,
                   struct sl_error *err, int code, const char *fmt, ...)
    SL_PRINTF(5, 6);
/* Whether a JSON key is a column name BigQuery takes as it is: the classic
 * rule, at most 300 characters, no reserved prefix at the top level. *why
 * says what is wrong. */
bool sl__infer_name_ok(const char *s, size_t n, bool top, const char **why);
/* "FILE:LINE" of a location, into out (cap bytes). */
void sl__infer_where(const struct sl_infer *inf, struct iloc at, char *out,
                     size_t cap);

/* ---- infer_json.c ------------------------------------------------------- */

/* Merge one NDJSON row (n bytes, no newline; not blank) into inf. */
SL_NODISCARD int sl__infer_json_row(struct sl_infer *inf, const char *p,
                                    size_t n, struct sl_error *err);

/* ---- infer_csv.c -------------------------------------------------------- */

/* Per-file CSV state: prepare f, take records from buf[0, len) (eof: no more
 * bytes follow) and report the bytes of whole records used, then finish the
 * file (header decision, merge into the root). release frees f's CSV parts
 * and accepts a file that was never begun. */
SL_NODISCARD int sl__infer_csv_begin(struct sl_infer *inf, struct ifile *f,
                                     struct sl_error *err);
SL_NODISCARD int sl__infer_csv_feed(struct sl_infer *inf, struct ifile *f,
                                    const char *buf, size_t len, bool eof,
                                    size_t *out_used, struct sl_error *err);
SL_NODISCARD int sl__infer_csv_end(struct sl_infer *inf, struct ifile *f,
                                   struct sl_error *err);
void sl__infer_csv_release(struct ifile *f);

#endif
