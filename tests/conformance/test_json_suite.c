/* test_json_suite.c - conformance of the NDJSON scanner (src/validate/ndjson.c)
 * with JSONTestSuite (https://github.com/nst/JSONTestSuite, test_parsing/):
 * y_ files are JSON, n_ files are not and must be rejected with a located
 * syntax error, i_ files are implementation-defined and each outcome is fixed
 * here and explained in docs/DECISIONS.md ("JSONTestSuite i_ files").
 *
 * Every file is checked twice against a table whose only field is a NULLABLE
 * JSON column `j` (unknown keys ignored):
 *   (a) top level: the whole file is one NDJSON row. JSON that is an object is
 *       accepted, any other JSON value is rejected as "not a JSON object"
 *       (never as a syntax error); non-JSON is a syntax reject naming the byte
 *       position within the row.
 *   (b) wrapped: the row {"j": <file>} is accepted iff the file is JSON, and
 *       a syntax reject points inside the file's bytes (usually the same
 *       byte as in (a); not always: "{}}" closes the wrapper itself).
 * Files with raw newlines are still one row here: the row API takes a buffer.
 * Reads SL_SHARED_DIR in place; exits 77 (ctest skip) when it is absent. */
#include "core/common.h"

#include "../support/testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SKIP_CODE 77
#define WRAP_HEAD "{\"j\": "
#define WRAP_TAIL "}"

/* The implementation-defined cases. accept = the content is taken as JSON
 * (object rows load, other values are "not a JSON object", and as a JSON
 * column value it loads); reject = a located syntax error. Keep in step with
 * docs/DECISIONS.md, which gives the reason for each line. */
struct idecision {
    const char *file;
    bool accept;
};

static const struct idecision idecisions[] = {
    /* numbers: syntactically valid; range is the column type's business */
    {"i_number_double_huge_neg_exp.json", true},
    {"i_number_huge_exp.json", true},
    {"i_number_neg_int_huge_exp.json", true},
    {"i_number_pos_double_huge_exp.json", true},
    {"i_number_real_neg_overflow.json", true},
    {"i_number_real_pos_overflow.json", true},
    {"i_number_real_underflow.json", true},
    {"i_number_too_big_neg_int.json", true},
    {"i_number_too_big_pos_int.json", true},
    {"i_number_very_big_negative_int.json", true},
    /* lone or broken surrogate escapes: not representable in UTF-8 */
    {"i_object_key_lone_2nd_surrogate.json", false},
    {"i_string_1st_surrogate_but_2nd_missing.json", false},
    {"i_string_1st_valid_surrogate_2nd_invalid.json", false},
    {"i_string_incomplete_surrogate_and_escape_valid.json", false},
    {"i_string_incomplete_surrogate_pair.json", false},
    {"i_string_incomplete_surrogates_escape_valid.json", false},
    {"i_string_invalid_lonely_surrogate.json", false},
    {"i_string_invalid_surrogate.json", false},
    {"i_string_inverted_surrogates_U+1D11E.json", false},
    {"i_string_lone_second_surrogate.json", false},
    /* invalid UTF-8 bytes: BigQuery requires valid UTF-8 */
    {"i_string_UTF-8_invalid_sequence.json", false},
    {"i_string_UTF8_surrogate_U+D800.json", false},
    {"i_string_invalid_utf-8.json", false},
    {"i_string_iso_latin_1.json", false},
    {"i_string_lone_utf8_continuation_byte.json", false},
    {"i_string_not_in_unicode_range.json", false},
    {"i_string_overlong_sequence_2_bytes.json", false},
    {"i_string_overlong_sequence_6_bytes.json", false},
    {"i_string_overlong_sequence_6_bytes_null.json", false},
    {"i_string_truncated-utf-8.json", false},
    /* other encodings: NDJSON input is UTF-8 */
    {"i_string_UTF-16LE_with_BOM.json", false},
    {"i_string_utf16BE_no_BOM.json", false},
    {"i_string_utf16LE_no_BOM.json", false},
    /* structure */
    {"i_structure_500_nested_arrays.json", true}, /* at the limit, not over */
    {"i_structure_UTF-8_BOM_empty_object.json",
     false}, /* as a row; see below */
};
#define N_IDECISIONS (sizeof(idecisions) / sizeof(idecisions[0]))

/* Through sl_validate_file the input layer drops a UTF-8 BOM at the start of
 * a file (U11), so this one file loads as a file though not as a bare row. */
#define BOM_FILE   "i_structure_UTF-8_BOM_empty_object.json"
#define DEPTH_BOMB "n_structure_100000_opening_arrays.json"

static int failures;
static unsigned
    same_pos; /* n_/i_ rejects located at the same byte both times */

#define FAIL(...)                                                              \
    do {                                                                       \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                 \
        fputc('\n', stderr);                                                   \
        failures++;                                                            \
    } while (0)

enum outcome {
    O_ACCEPT, /* the row validated */
    O_NOTOBJ, /* valid JSON, rejected because it is not an object */
    O_SYNTAX, /* rejected as not JSON, with a position */
    O_OTHER,  /* anything else: a reject without position or of another kind */
};

static const char *outcome_name(enum outcome o)
{
    switch (o) {
    case O_ACCEPT:
        return "accepted";
    case O_NOTOBJ:
        return "not-an-object";
    case O_SYNTAX:
        return "syntax-reject";
    default:
        return "other";
    }
}

struct result {
    enum outcome o;
    size_t pos; /* byte position named by a syntax reject */
    char reason[400];
};

/* The byte position a reject names ("position N"), or false if none. */
static bool reject_position(const char *reason, size_t *out)
{
    const char *p = strstr(reason, "position ");
    if (p == NULL) {
        return false;
    }
    p += strlen("position ");
    if (*p < '0' || *p > '9') {
        return false;
    }
    *out = (size_t)strtoull(p, NULL, 10);
    return true;
}

static bool is_syntax_reason(const char *reason)
{
    return strstr(reason, "JSON parsing error") != NULL ||
           strstr(reason, "invalid UTF-8") != NULL ||
           strstr(reason, "nesting deeper") != NULL;
}

static void run_row(struct sl_validator *v, const char *p, size_t n,
                    struct result *res)
{
    struct sl_reject r;
    memset(res, 0, sizeof(*res));
    int rc = sl_validate_ndjson_row(v, p, n, NULL, &r);
    if (rc < 0) {
        fprintf(stderr, "sl_validate_ndjson_row: %s\n", sl_strerror(rc));
        abort();
    }
    if (rc == 0) {
        res->o = O_ACCEPT;
        return;
    }
    snprintf(res->reason, sizeof(res->reason), "%s",
             r.reason ? r.reason : "(null)");
    if (strstr(res->reason, "not a JSON object") != NULL) {
        res->o = O_NOTOBJ;
        return;
    }
    res->o = O_OTHER;
    if (r.field == NULL && is_syntax_reason(res->reason) &&
        reject_position(res->reason, &res->pos) && res->pos <= n) {
        res->o = O_SYNTAX;
    }
}

static bool first_is_brace(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n &&
           (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) {
        i++;
    }
    return i < n && p[i] == '{';
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct idecision *find_decision(const char *name)
{
    for (size_t i = 0; i < N_IDECISIONS; i++) {
        if (strcmp(idecisions[i].file, name) == 0) {
            return &idecisions[i];
        }
    }
    return NULL;
}

/* Check one file; counts go to *ok when it behaved as expected. */
static void check_file(struct sl_validator *v, const char *dir,
                       const char *name, unsigned *y_ok, unsigned *n_ok,
                       unsigned *i_ok)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    size_t n = 0;
    char *buf = tu_read(path, &n);
    if (buf == NULL) {
        FAIL("%s: cannot read", path);
        return;
    }
    size_t hl = strlen(WRAP_HEAD), tl = strlen(WRAP_TAIL);
    char *wrapped = malloc(hl + n + tl);
    if (wrapped == NULL) {
        abort();
    }
    memcpy(wrapped, WRAP_HEAD, hl);
    memcpy(wrapped + hl, buf, n);
    memcpy(wrapped + hl + n, WRAP_TAIL, tl);

    struct result top, wrap;
    run_row(v, buf, n, &top);
    run_row(v, wrapped, hl + n + tl, &wrap);

    /* The two framings must agree on whether the content is JSON. */
    bool top_json = top.o == O_ACCEPT || top.o == O_NOTOBJ;
    bool wrap_json = wrap.o == O_ACCEPT;
    bool is_obj = first_is_brace(buf, n);
    bool consistent = true;
    if (top.o == O_OTHER || (wrap.o != O_ACCEPT && wrap.o != O_SYNTAX)) {
        consistent = false;
    } else if (top_json != wrap_json) {
        consistent = false;
    } else if (top_json && (top.o == O_ACCEPT) != is_obj) {
        consistent = false;
    } else if (!top_json && (wrap.pos < hl || wrap.pos > hl + n + tl)) {
        /* the error is located inside the file's bytes (or the closing brace
         * when the file ends early or closes the wrapper itself) */
        consistent = false;
    } else if (!top_json && wrap.pos == top.pos + hl) {
        same_pos++;
    }
    if (!consistent) {
        FAIL("%s: top level %s (%s), wrapped %s (%s)", name,
             outcome_name(top.o), top.reason, outcome_name(wrap.o),
             wrap.reason);
    }

    if (name[0] == 'y') {
        if (consistent && top_json) {
            (*y_ok)++;
        } else if (consistent) {
            FAIL("%s: valid JSON rejected: %s", name, top.reason);
        }
    } else if (name[0] == 'n') {
        if (consistent && !top_json) {
            (*n_ok)++;
        } else if (consistent) {
            FAIL("%s: invalid JSON accepted (top level %s)", name,
                 outcome_name(top.o));
        }
        if (strcmp(name, DEPTH_BOMB) == 0 &&
            strstr(top.reason, "nesting") == NULL) {
            FAIL("%s: want a nesting reject, got: %s", name, top.reason);
        }
    } else {
        const struct idecision *d = find_decision(name);
        if (d == NULL) {
            FAIL("%s: no decision recorded (top level %s: %s)", name,
                 outcome_name(top.o), top.reason);
        } else if (consistent && top_json == d->accept) {
            (*i_ok)++;
        } else if (consistent) {
            FAIL("%s: decided %s, got %s (%s)", name,
                 d->accept ? "accept" : "reject", outcome_name(top.o),
                 top.reason);
        }
    }
    if (getenv("SL_JSON_SUITE_VERBOSE") != NULL) {
        printf("%-60s %-14s %-14s %s\n", name, outcome_name(top.o),
               outcome_name(wrap.o), top.reason);
    }
    free(wrapped);
    free(buf);
}

/* The BOM file goes through the file reader, which strips the BOM. */
static void check_bom_file(const char *dir)
{
    struct sl_table *t =
        tu_table("{\"fields\": [{\"name\": \"j\", \"type\": \"JSON\"}]}");
    struct sl_vopts o;
    sl_vopts_default(&o);
    struct sl_validator *v = NULL;
    struct sl_error err = {0};
    if (sl_validator_create(t, &o, &v, &err) != SL_OK) {
        FAIL("validator: %s", err.msg);
        sl_table_destroy(t);
        return;
    }
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, BOM_FILE);
    struct sl_file_stats st;
    memset(&st, 0, sizeof(st));
    int rc = sl_validate_file(v, path, NULL, NULL, &st, &err);
    if (rc != SL_OK || st.rows != 1 || st.valid != 1) {
        FAIL("%s as a file: rc %d, %llu rows, %llu valid (%s)", BOM_FILE, rc,
             (unsigned long long)st.rows, (unsigned long long)st.valid,
             err.msg);
    }
    sl_validator_destroy(v);
    sl_table_destroy(t);
}

/* The UTF-16 files, rejected as rows, are refused whole by the file reader,
 * which names the encoding (and how to convert it) instead of reporting a
 * JSON syntax error at byte 0. */
static void check_utf16_files(const char *dir)
{
    static const struct {
        const char *file, *enc;
    } files[] = {
        {"i_string_UTF-16LE_with_BOM.json", "UTF-16LE"},
        {"i_string_utf16BE_no_BOM.json", "UTF-16BE"},
        {"i_string_utf16LE_no_BOM.json", "UTF-16LE"},
    };
    struct sl_table *t =
        tu_table("{\"fields\": [{\"name\": \"j\", \"type\": \"JSON\"}]}");
    struct sl_vopts o;
    sl_vopts_default(&o);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct sl_validator *v = NULL;
        struct sl_error err = {0};
        if (sl_validator_create(t, &o, &v, &err) != SL_OK) {
            FAIL("validator: %s", err.msg);
            break;
        }
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, files[i].file);
        struct sl_file_stats st;
        memset(&st, 0, sizeof(st));
        int rc = sl_validate_file(v, path, NULL, NULL, &st, &err);
        if (rc != -SL_ECORRUPT || strstr(err.msg, files[i].enc) == NULL ||
            strstr(err.msg, "iconv") == NULL) {
            FAIL("%s as a file: rc %d (%s), want SL_ECORRUPT naming %s",
                 files[i].file, rc, err.msg, files[i].enc);
        }
        sl_validator_destroy(v);
    }
    sl_table_destroy(t);
}

/* Every i_ file must be explained in docs/DECISIONS.md. */
static void check_docs(void)
{
#ifdef SL_SOURCE_DIR
    size_t n = 0;
    char *doc = tu_read(SL_SOURCE_DIR "/docs/DECISIONS.md", &n);
    if (doc == NULL) {
        FAIL("docs/DECISIONS.md is missing");
        return;
    }
    const char *sec = strstr(doc, "JSONTestSuite i_ files");
    if (sec == NULL) {
        FAIL("docs/DECISIONS.md has no \"JSONTestSuite i_ files\" section");
    } else {
        for (size_t i = 0; i < N_IDECISIONS; i++) {
            char want[256];
            snprintf(want, sizeof(want), "`%s` | %s", idecisions[i].file,
                     idecisions[i].accept ? "accept" : "reject");
            if (strstr(sec, want) == NULL) {
                FAIL("docs/DECISIONS.md: no line \"%s\"", want);
            }
        }
    }
    free(doc);
#endif
}

int main(void)
{
    const char *dir = tu_shared("data/json-test-suite/test_parsing");
    if (dir == NULL) {
        printf("skipped: ../shared/data/json-test-suite not found\n");
        return SKIP_CODE;
    }
    char dirpath[4096];
    snprintf(dirpath, sizeof(dirpath), "%s", dir);

    DIR *d = opendir(dirpath);
    if (d == NULL) {
        printf("skipped: ../shared/data/json-test-suite not found\n");
        return SKIP_CODE;
    }
    char **names = NULL;
    size_t n_names = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if ((nm[0] != 'y' && nm[0] != 'n' && nm[0] != 'i') || nm[1] != '_' ||
            strstr(nm, ".json") == NULL) {
            continue;
        }
        if (n_names == cap) {
            cap = cap ? cap * 2 : 512;
            names = realloc(names, cap * sizeof(*names));
            if (names == NULL) {
                abort();
            }
        }
        names[n_names++] = strdup(nm);
    }
    closedir(d);
    qsort(names, n_names, sizeof(*names), by_name);

    struct sl_table *t =
        tu_table("{\"fields\": [{\"name\": \"j\", \"type\": \"JSON\", "
                 "\"mode\": \"NULLABLE\"}]}");
    struct sl_vopts o;
    sl_vopts_default(&o);
    o.ignore_unknown = true;
    struct sl_validator *v = NULL;
    struct sl_error err = {0};
    if (sl_validator_create(t, &o, &v, &err) != SL_OK) {
        fprintf(stderr, "validator: %s\n", err.msg);
        return 1;
    }

    unsigned y_n = 0, n_n = 0, i_n = 0, y_ok = 0, n_ok = 0, i_ok = 0;
    for (size_t i = 0; i < n_names; i++) {
        switch (names[i][0]) {
        case 'y':
            y_n++;
            break;
        case 'n':
            n_n++;
            break;
        default:
            i_n++;
            break;
        }
        check_file(v, dirpath, names[i], &y_ok, &n_ok, &i_ok);
        free(names[i]);
    }
    free(names);
    for (size_t i = 0; i < N_IDECISIONS; i++) {
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dirpath, idecisions[i].file);
        struct stat st;
        if (stat(path, &st) != 0) {
            FAIL("%s: decided but not in the suite", idecisions[i].file);
        }
    }
    if (y_n != 95 || n_n != 188 || i_n != 35) {
        FAIL("suite has %u y_, %u n_, %u i_ files; want 95, 188, 35", y_n, n_n,
             i_n);
    }
    check_bom_file(dirpath);
    check_utf16_files(dirpath);
    check_docs();

    printf("y: %u/%u accepted, n: %u/%u rejected, i: %u/%u as documented "
           "(%u rejects at the same byte in both framings)\n",
           y_ok, y_n, n_ok, n_n, i_ok, i_n, same_pos);
    sl_validator_destroy(v);
    sl_table_destroy(t);
    if (failures > 0) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    return 0;
}
