/* harness_csv.c - fuzz body for the CSV reader (src/parse/csv.c). The first
 * three input bytes choose the options and the feeding pattern; the rest is
 * the CSV text. Invariants:
 *  - sl_csv_init refuses exactly the options csv.h calls unusable;
 *  - parsing the whole buffer at once (eof) consumes every byte, each
 *    RECORD/BAD consumes at least one byte, the line breaks reported add up to
 *    the line breaks in the input, and field spans are readable;
 *  - feeding the same bytes in small growing pieces (answering NEED_MORE with
 *    more bytes) yields exactly the same records, statuses and fields;
 *  - with ISO-8859-1 decoding every field is valid UTF-8;
 *  - a good record written back as CSV (every field quoted) parses to the same
 *    fields;
 *  - walking the buffer with the record index (csvindex.c) where it applies
 *    and sl_csv_next elsewhere yields exactly the records of sl_csv_next alone,
 *    with the SSE2 and (where the CPU has it) the AVX2 mask builder.
 * tests; included by fuzz_csv.c and tests/conformance/test_fuzz_replay.c. */
#include "core/common.h"

#include "core/error.h"
#include "fuzz_common.h"
#include "parse/csv.h"
#include "parse/csv_int.h"
#include "validate/coerce.h"

/* One record as parsed, copied out of the reader. */
struct hc_rec {
    int status;
    size_t used;
    uint64_t lines;
    size_t n_fields;
    char *text;      /* the fields' bytes back to back */
    size_t *len;     /* n_fields lengths */
    bool *quoted;    /* n_fields flags */
    const char *bad; /* bad_reason */
};

struct hc_list {
    struct hc_rec *r;
    size_t n, cap;
};

static void hc_free(struct hc_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->r[i].text);
        free(l->r[i].len);
        free(l->r[i].quoted);
    }
    free(l->r);
    l->r = NULL;
    l->n = l->cap = 0;
}

static void hc_keep(struct hc_list *l, const struct sl_csv *c, int st,
                    size_t used, uint64_t lines, const char *buf,
                    size_t buf_len)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->r = realloc(l->r, l->cap * sizeof(*l->r));
        FZ_CHECK(l->r != NULL, "out of memory");
    }
    struct hc_rec *r = &l->r[l->n++];
    r->status = st;
    r->used = used;
    r->lines = lines;
    r->n_fields = c->n_fields;
    r->bad = c->bad_reason;
    r->len = calloc(c->n_fields + 1, sizeof(*r->len));
    r->quoted = calloc(c->n_fields + 1, sizeof(*r->quoted));
    FZ_CHECK(r->len != NULL && r->quoted != NULL, "out of memory");
    size_t total = 0;
    for (size_t i = 0; i < c->n_fields; i++) {
        total += c->fields[i].len;
    }
    r->text = malloc(total + 1);
    FZ_CHECK(r->text != NULL, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < c->n_fields; i++) {
        const struct sl_csv_field *f = &c->fields[i];
        /* a span lies in the caller's buffer or in the reader's scratch */
        bool in_buf =
            f->len == 0 || (f->p >= buf && f->p + f->len <= buf + buf_len);
        bool in_scratch = f->len == 0 ||
                          (c->scratch.data != NULL && f->p >= c->scratch.data &&
                           f->p + f->len <= c->scratch.data + c->scratch.len);
        FZ_CHECK(in_buf || in_scratch,
                 "field %zu points outside buffer and scratch", i);
        if (f->len > 0) {
            memcpy(r->text + o, f->p, f->len);
        }
        o += f->len;
        r->len[i] = f->len;
        r->quoted[i] = f->quoted;
    }
}

static bool hc_same(const struct hc_rec *a, const struct hc_rec *b)
{
    if (a->status != b->status || a->used != b->used || a->lines != b->lines ||
        a->n_fields != b->n_fields) {
        return false;
    }
    if (a->status == SL_CSV_BAD) {
        return a->bad == b->bad; /* fields are best effort for bad records */
    }
    size_t total = 0;
    for (size_t i = 0; i < a->n_fields; i++) {
        if (a->len[i] != b->len[i] || a->quoted[i] != b->quoted[i]) {
            return false;
        }
        total += a->len[i];
    }
    return memcmp(a->text, b->text, total) == 0;
}

/* Parse all of buf with eof set from the start. */
static void hc_parse_all(struct sl_csv *c, const char *buf, size_t len,
                         struct hc_list *out)
{
    size_t pos = 0;
    for (;;) {
        size_t used = 0;
        uint64_t lines = 0;
        int st = sl_csv_next(c, buf + pos, len - pos, true, &used, &lines);
        FZ_CHECK(st >= 0, "sl_csv_next: %d", st);
        FZ_CHECK(st != SL_CSV_NEED_MORE, "NEED_MORE at eof (pos %zu of %zu)",
                 pos, len);
        if (st == SL_CSV_END) {
            FZ_CHECK(pos == len, "END with %zu bytes left", len - pos);
            return;
        }
        FZ_CHECK(used > 0 && used <= len - pos, "used %zu of %zu", used,
                 len - pos);
        hc_keep(out, c, st, used, lines, buf + pos, len - pos);
        pos += used;
    }
}

/* Parse buf as it arrives in pieces of `step` bytes (more when a record needs
 * them), like the streaming loop does. */
static void hc_parse_pieces(struct sl_csv *c, const char *buf, size_t len,
                            size_t step, struct hc_list *out)
{
    size_t pos = 0, avail = step < len ? step : len;
    unsigned waits = 0; /* NEED_MORE answers in a row for this record */
    for (;;) {
        bool eof = avail == len;
        size_t used = 0;
        uint64_t lines = 0;
        int st = sl_csv_next(c, buf + pos, avail - pos, eof, &used, &lines);
        FZ_CHECK(st >= 0, "sl_csv_next: %d", st);
        if (st == SL_CSV_END) {
            FZ_CHECK(eof && pos == len, "END early at %zu of %zu", pos, len);
            return;
        }
        if (st == SL_CSV_NEED_MORE) {
            FZ_CHECK(!eof, "NEED_MORE at eof");
            /* after a few small steps, double what the record has so far so
             * one long record costs O(n log n), not O(n^2 / step) */
            size_t more =
                ++waits > 4 && avail - pos > step ? avail - pos : step;
            avail = avail + more < len ? avail + more : len;
            continue;
        }
        waits = 0;
        FZ_CHECK(used > 0 && used <= avail - pos, "used %zu of %zu", used,
                 avail - pos);
        hc_keep(out, c, st, used, lines, buf + pos, avail - pos);
        pos += used;
        if (avail == pos && !eof) {
            avail = avail + step < len ? avail + step : len;
        }
    }
}

/* Parse all of buf with the index wherever it takes records (re-indexed after
 * each record it leaves to sl_csv_next), as the validator's block loop does. */
static void hc_parse_indexed(struct sl_csv *c, const char *buf, size_t len,
                             struct hc_list *out)
{
    size_t pos = 0, ix_base = 0, ix_end = 0;
    for (;;) {
        size_t used = 0;
        uint64_t lines = 0;
        int st;
        if (pos >= ix_end && pos < len) {
            size_t b = sl_csv_index(c, buf + pos, len - pos);
            FZ_CHECK(b <= SL_CSV_INDEX_WINDOW && b <= len - pos,
                     "index covered %zu bytes", b);
            FZ_CHECK(b == 0 || buf[pos + b - 1] == '\n',
                     "index ends without LF");
            ix_base = pos;
            ix_end = pos + b;
        }
        if (pos < ix_end) {
            st = sl_csv_index_next(c, buf + ix_base, &used);
            FZ_CHECK(st == SL_CSV_RECORD, "index_next: %d", st);
            FZ_CHECK(used > 0 && pos + used <= ix_end, "index used %zu", used);
            lines = 1;
        } else {
            st = sl_csv_next(c, buf + pos, len - pos, true, &used, &lines);
            FZ_CHECK(st >= 0 && st != SL_CSV_NEED_MORE, "sl_csv_next: %d", st);
            if (st == SL_CSV_END) {
                return;
            }
        }
        hc_keep(out, c, st, used, lines, buf + pos, len - pos);
        pos += used;
    }
}

static uint64_t hc_count_breaks(const char *p, size_t n)
{
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            k++;
        } else if (p[i] == '\r') {
            k++;
            if (i + 1 < n && p[i + 1] == '\n') {
                i++;
            }
        }
    }
    return k;
}

/* Write the good records of l back as CSV with every field quoted. */
static char *hc_write(const struct hc_list *l, const struct sl_csv_opts *o,
                      size_t *out_len, size_t *out_recs)
{
    size_t cap = 64;
    for (size_t i = 0; i < l->n; i++) {
        size_t total = 0;
        for (size_t k = 0; k < l->r[i].n_fields; k++) {
            total += l->r[i].len[k];
        }
        cap += 2 * total + 3 * l->r[i].n_fields + 2;
    }
    char *w = malloc(cap);
    FZ_CHECK(w != NULL, "out of memory");
    size_t n = 0, recs = 0;
    char q = (char)o->quote;
    for (size_t i = 0; i < l->n; i++) {
        const struct hc_rec *r = &l->r[i];
        if (r->status != SL_CSV_RECORD) {
            continue;
        }
        const char *t = r->text;
        for (size_t k = 0; k < r->n_fields; k++) {
            if (k > 0) {
                w[n++] = o->delim;
            }
            w[n++] = q;
            for (size_t b = 0; b < r->len[k]; b++) {
                if (t[b] == q) {
                    w[n++] = q;
                }
                w[n++] = t[b];
            }
            w[n++] = q;
            t += r->len[k];
        }
        w[n++] = '\n';
        recs++;
    }
    *out_len = n;
    *out_recs = recs;
    return w;
}

static int harness_csv(const uint8_t *data, size_t size)
{
    if (size < 3) {
        return 0;
    }
    struct sl_csv_opts o;
    sl_csv_opts_default(&o);
    o.delim = (char)data[0];
    o.quote = data[1] == 0 ? -1 : data[1];
    o.allow_quoted_newlines = data[2] & 1;
    o.latin1 = (data[2] & 2) != 0;
    size_t step = (size_t)(data[2] >> 2) + 1; /* 1..64 */
    const char *buf = (const char *)data + 3;
    size_t len = size - 3;

    unsigned char d = (unsigned char)o.delim;
    bool usable =
        d != 0 && d != '\r' && d != '\n' &&
        (o.quote == -1 || (o.quote != '\r' && o.quote != '\n' && o.quote != d));
    struct sl_csv c;
    int rc = sl_csv_init(&c, &o);
    FZ_CHECK((rc == SL_OK) == usable,
             "sl_csv_init returned %d for delim %d quote %d", rc, d, o.quote);
    if (rc != SL_OK) {
        sl_csv_release(&c);
        return 0;
    }

    struct hc_list whole = {0}, pieces = {0};
    hc_parse_all(&c, buf, len, &whole);
    size_t consumed = 0;
    uint64_t lines = 0;
    for (size_t i = 0; i < whole.n; i++) {
        consumed += whole.r[i].used;
        lines += whole.r[i].lines;
        if (o.latin1 && whole.r[i].status == SL_CSV_RECORD) {
            size_t total = 0;
            for (size_t k = 0; k < whole.r[i].n_fields; k++) {
                total += whole.r[i].len[k];
            }
            FZ_CHECK(sl__utf8_count(whole.r[i].text, total) >= 0,
                     "latin1 record %zu is not UTF-8", i);
        }
    }
    FZ_CHECK(consumed == len, "consumed %zu of %zu", consumed, len);
    FZ_CHECK(lines == hc_count_breaks(buf, len), "lines %llu, breaks %llu",
             (unsigned long long)lines,
             (unsigned long long)hc_count_breaks(buf, len));

    struct sl_csv c2;
    FZ_CHECK(sl_csv_init(&c2, &o) == SL_OK, "second init");
    hc_parse_pieces(&c2, buf, len, step, &pieces);
    FZ_CHECK(pieces.n == whole.n, "%zu records in pieces of %zu, %zu at once",
             pieces.n, step, whole.n);
    for (size_t i = 0; i < whole.n; i++) {
        FZ_CHECK(
            hc_same(&whole.r[i], &pieces.r[i]),
            "record %zu differs in pieces of %zu (status %d/%d, used %zu/%zu)",
            i, step, whole.r[i].status, pieces.r[i].status, whole.r[i].used,
            pieces.r[i].used);
    }
    hc_free(&pieces);
    sl_csv_release(&c2);

    /* the record index against sl_csv_next, with each mask builder */
    for (int isa = 0; isa <= 2; isa++) {
        if (sl__csv_index_isa(isa) != isa) {
            continue;
        }
        struct sl_csv ci;
        FZ_CHECK(sl_csv_init(&ci, &o) == SL_OK, "index init");
        struct hc_list ixl = {0};
        hc_parse_indexed(&ci, buf, len, &ixl);
        FZ_CHECK(ixl.n == whole.n, "%zu records through the index, %zu without", ixl.n,
                 whole.n);
        for (size_t i = 0; i < whole.n; i++) {
            const struct hc_rec *a = &whole.r[i], *b = &ixl.r[i];
            FZ_CHECK(hc_same(a, b) && (a->status != SL_CSV_BAD || a->n_fields == b->n_fields),
                     "record %zu differs through the index (isa %d, status %d/%d, used %zu/%zu)",
                     i, isa, a->status, b->status, a->used, b->used);
        }
        hc_free(&ixl);
        sl_csv_release(&ci);
    }
    sl__csv_index_isa(-1);

    /* Round trip of good records, when the written form can carry them:
     * quoting on, no decoding, and newlines allowed inside quotes if a field
     * holds one. A record of one empty unquoted field is a blank line: it
     * round-trips as "" (quoted), so compare text only. */
    if (o.quote != -1 && !o.latin1) {
        bool ok = true;
        for (size_t i = 0; i < whole.n && ok; i++) {
            const struct hc_rec *r = &whole.r[i];
            size_t total = 0;
            for (size_t k = 0; k < r->n_fields; k++) {
                total += r->len[k];
            }
            if (r->status == SL_CSV_RECORD && !o.allow_quoted_newlines &&
                (memchr(r->text, '\n', total) ||
                 memchr(r->text, '\r', total))) {
                ok = false;
            }
        }
        if (ok) {
            size_t wlen = 0, recs = 0;
            char *w = hc_write(&whole, &o, &wlen, &recs);
            struct sl_csv c3;
            FZ_CHECK(sl_csv_init(&c3, &o) == SL_OK, "third init");
            struct hc_list again = {0};
            hc_parse_all(&c3, w, wlen, &again);
            FZ_CHECK(again.n == recs, "%zu records written, %zu read back",
                     recs, again.n);
            size_t k = 0;
            for (size_t i = 0; i < whole.n; i++) {
                const struct hc_rec *a = &whole.r[i];
                if (a->status != SL_CSV_RECORD) {
                    continue;
                }
                const struct hc_rec *b = &again.r[k++];
                FZ_CHECK(b->status == SL_CSV_RECORD &&
                             b->n_fields == a->n_fields,
                         "record %zu read back as status %d with %zu fields "
                         "(had %zu)",
                         i, b->status, b->n_fields, a->n_fields);
                size_t total = 0;
                for (size_t f = 0; f < a->n_fields; f++) {
                    FZ_CHECK(a->len[f] == b->len[f],
                             "record %zu field %zu length", i, f);
                    total += a->len[f];
                }
                FZ_CHECK(memcmp(a->text, b->text, total) == 0,
                         "record %zu text", i);
            }
            hc_free(&again);
            sl_csv_release(&c3);
            free(w);
        }
    }
    hc_free(&whole);
    sl_csv_release(&c);
    return 0;
}
