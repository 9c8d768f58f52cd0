/* test_csv.c - unit tests for the RFC 4180 CSV reader (src/parse/csv.c).
 * Table cases are run twice: with the whole input at once, and grown one byte
 * at a time from each record start (exercising every SL_CSV_NEED_MORE path);
 * both must render the same records. Buffers are exact-size heap copies so
 * ASan catches any read past len. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/error.h"
#include "parse/csv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- rendering ------------------------------------------------------------
 * One call result per token, tokens separated by a space:
 *   R[unquoted]{quoted}/L     a record and the line breaks it consumed
 *   B:tag@I[..]{..}/L         a bad record; tag names the reason, I the field
 * Field bytes are escaped: \n \r \t \0 and \xHH for other control and high
 * bytes, so expectations stay readable and byte exact. */

#define OUT_MAX 8192

struct out {
    char s[OUT_MAX];
    size_t len;
};

static void out_puts(struct out *o, const char *s)
{
    size_t n = strlen(s);
    assert_true(o->len + n < OUT_MAX);
    memcpy(o->s + o->len, s, n + 1);
    o->len += n;
}

static void out_byte(struct out *o, unsigned char b)
{
    char t[8];
    switch (b) {
    case '\n':
        out_puts(o, "\\n");
        return;
    case '\r':
        out_puts(o, "\\r");
        return;
    case '\t':
        out_puts(o, "\\t");
        return;
    case '\0':
        out_puts(o, "\\0");
        return;
    default:
        break;
    }
    if (b < 0x20 || b >= 0x7f) {
        snprintf(t, sizeof(t), "\\x%02x", b);
    } else {
        t[0] = (char)b;
        t[1] = '\0';
    }
    out_puts(o, t);
}

static const char *reason_tag(const char *r)
{
    if (r == NULL) {
        return "none";
    }
    if (strcmp(r, "data between close quote character and field separator") ==
        0) {
        return "junk";
    }
    if (strcmp(r, "quoted newline not allowed") == 0) {
        return "nl";
    }
    if (strcmp(r, "unterminated quoted field") == 0) {
        return "unterm";
    }
    if (strcmp(r, "NUL byte in data") == 0) {
        return "nul";
    }
    return "other";
}

static void render(struct out *o, const struct sl_csv *c, int st,
                   uint64_t lines)
{
    char t[64];
    if (o->len > 0) {
        out_puts(o, " ");
    }
    if (st == SL_CSV_BAD) {
        snprintf(t, sizeof(t), "B:%s@%zu", reason_tag(c->bad_reason),
                 c->bad_field_idx);
        out_puts(o, t);
    } else {
        assert_int_equal(st, SL_CSV_RECORD);
        assert_null(c->bad_reason);
        out_puts(o, "R");
    }
    for (size_t i = 0; i < c->n_fields; i++) {
        const struct sl_csv_field *f = &c->fields[i];
        assert_non_null(f->p);
        out_puts(o, f->quoted ? "{" : "[");
        for (size_t k = 0; k < f->len; k++) {
            out_byte(o, (unsigned char)f->p[k]);
        }
        out_puts(o, f->quoted ? "}" : "]");
    }
    snprintf(t, sizeof(t), "/%llu", (unsigned long long)lines);
    out_puts(o, t);
}

static char *dup_exact(const char *s, size_t n)
{
    char *d = malloc(n ? n : 1);
    assert_non_null(d);
    if (n > 0) {
        memcpy(d, s, n);
    }
    return d;
}

/* The whole input at once, eof = true. */
static void run_whole(struct sl_csv *c, const char *in, size_t len,
                      struct out *o)
{
    char *buf = dup_exact(in, len);
    size_t pos = 0;
    for (;;) {
        size_t used = 99;
        uint64_t lines = 99;
        int st = sl_csv_next(c, buf + pos, len - pos, true, &used, &lines);
        assert_true(st >= 0);
        assert_int_not_equal(st, SL_CSV_NEED_MORE);
        if (st == SL_CSV_END) {
            assert_int_equal(used, 0);
            assert_int_equal(pos, len);
            break;
        }
        assert_true(used > 0 && used <= len - pos);
        render(o, c, st, lines);
        pos += used;
    }
    free(buf);
}

/* From each record start, offer 0, 1, 2, ... bytes until a record comes back;
 * eof only once the window reaches the end of the input. */
static void run_bytewise(struct sl_csv *c, const char *in, size_t len,
                         struct out *o)
{
    size_t pos = 0, avail = 0;
    for (;;) {
        bool eof = pos + avail == len;
        char *buf = dup_exact(in + pos, avail);
        size_t used = 99;
        uint64_t lines = 99;
        int st = sl_csv_next(c, buf, avail, eof, &used, &lines);
        assert_true(st >= 0);
        if (st == SL_CSV_NEED_MORE) {
            assert_false(eof);
            assert_int_equal(used, 0);
            assert_int_equal(lines, 0);
            avail++;
        } else if (st == SL_CSV_END) {
            assert_true(eof);
            assert_int_equal(pos, len);
            free(buf);
            break;
        } else {
            assert_true(used > 0 && used <= avail);
            render(o, c, st, lines);
            pos += used;
            avail = 0;
        }
        free(buf);
    }
}

/* ---- table cases ------------------------------------------------------- */

struct csv_case {
    const char *name;
    const char *in;
    size_t in_len; /* 0 = strlen(in); set it for inputs holding NUL */
    const char *want;
    int quote;    /* 0 = '"' */
    char delim;   /* 0 = ',' */
    bool noquote; /* quote = -1 */
    bool nl;      /* allow_quoted_newlines */
    bool latin1;
};

static const struct csv_case cases[] = {
    /* framing */
    {.name = "simple",
     .in = "a,b,c\n1,2,3\n",
     .want = "R[a][b][c]/1 R[1][2][3]/1"},
    {.name = "last record without terminator",
     .in = "a,b\n1,2",
     .want = "R[a][b]/1 R[1][2]/0"},
    {.name = "empty input", .in = "", .want = ""},
    {.name = "single field", .in = "x", .want = "R[x]/0"},
    {.name = "crlf", .in = "a,b\r\nc\r\n", .want = "R[a][b]/1 R[c]/1"},
    {.name = "cr only", .in = "a,b\rc\r", .want = "R[a][b]/1 R[c]/1"},
    {.name = "mixed terminators",
     .in = "a\r\n\nb\rc",
     .want = "R[a]/1 R[]/1 R[b]/1 R[c]/0"},
    {.name = "cr cr is two breaks",
     .in = "a\r\rb",
     .want = "R[a]/1 R[]/1 R[b]/0"},
    {.name = "lf cr is two breaks",
     .in = "a\n\rb",
     .want = "R[a]/1 R[]/1 R[b]/0"},
    {.name = "empty line is one empty field", .in = "\n", .want = "R[]/1"},
    {.name = "empty crlf lines", .in = "\r\n\r\n", .want = "R[]/1 R[]/1"},
    {.name = "trailing delimiter", .in = "a,\nb,", .want = "R[a][]/1 R[b][]/0"},
    {.name = "only delimiters", .in = ",,\n", .want = "R[][][]/1"},
    {.name = "no whitespace trimming",
     .in = " a , b \n",
     .want = "R[ a ][ b ]/1"},

    /* delimiters */
    {.name = "tab",
     .in = "a\tb\t\"c\td,e\"\n",
     .delim = '\t',
     .want = "R[a][b]{c\\td,e}/1"},
    {.name = "pipe",
     .in = "a|b,c|\"d|e\"\n",
     .delim = '|',
     .want = "R[a][b,c]{d|e}/1"},
    {.name = "semicolon",
     .in = "1;\"x;y\";3,5\r\n",
     .delim = ';',
     .want = "R[1]{x;y}[3,5]/1"},
    {.name = "comma is text under tab",
     .in = "a,b\tc\n",
     .delim = '\t',
     .want = "R[a,b][c]/1"},

    /* quoting */
    {.name = "quoted fields", .in = "\"a\",\"b,c\"\n", .want = "R{a}{b,c}/1"},
    {.name = "doubled quote",
     .in = "\"say \"\"hi\"\"\",x",
     .want = "R{say \"hi\"}[x]/0"},
    {.name = "only a doubled quote", .in = "\"\"\"\"", .want = "R{\"}/0"},
    {.name = "doubled quotes at edges",
     .in = "\"\"\"a\"\"\"\n",
     .want = "R{\"a\"}/1"},
    {.name = "several scratch fields",
     .in = "\"a\"\"b\",c,\"d\"\"e\",\"f\"\n",
     .want = "R{a\"b}[c]{d\"e}{f}/1"},
    {.name = "empty quoted vs unquoted", .in = ",\"\",\n", .want = "R[]{}[]/1"},
    {.name = "empty quoted last", .in = "a,\"\"", .want = "R[a]{}/0"},
    {.name = "quote inside unquoted is literal",
     .in = "a\"b,c\"\"d,e\"\n",
     .want = "R[a\"b][c\"\"d][e\"]/1"},
    {.name = "coordinates",
     .in = "1,37'37.8\"N 121'2\"W,x\n",
     .want = "R[1][37'37.8\"N 121'2\"W][x]/1"},
    {.name = "quote after space is literal",
     .in = " \"a\",b",
     .want = "R[ \"a\"][b]/0"},
    {.name = "json in csv",
     .in = "3,\"{\"\"id\"\": 10}\"\n",
     .want = "R[3]{{\"id\": 10}}/1"},
    {.name = "single quote char",
     .in = "'a,b','it''s',\"x\"\n",
     .quote = '\'',
     .want = "R{a,b}{it's}[\"x\"]/1"},

    /* quoted newlines */
    {.name = "quoted lf allowed",
     .in = "\"a\nb\",c\nd\n",
     .nl = true,
     .want = "R{a\\nb}[c]/2 R[d]/1"},
    {.name = "quoted crlf allowed kept verbatim",
     .in = "\"a\r\nb\"\r\nx",
     .nl = true,
     .want = "R{a\\r\\nb}/2 R[x]/0"},
    {.name = "quoted cr allowed",
     .in = "\"a\rb\"\n",
     .nl = true,
     .want = "R{a\\rb}/2"},
    {.name = "many quoted newlines",
     .in = "\"\n\n\r\n\r\"\n",
     .nl = true,
     .want = "R{\\n\\n\\r\\n\\r}/5"},
    {.name = "quoted newline refused",
     .in = "1,\"multi\nline\",n\n2\n",
     .want = "B:nl@1[1]{multi}/1 R[line\"][n]/1 R[2]/1"},
    {.name = "quoted crlf refused",
     .in = "\"a\r\nb\"\n",
     .want = "B:nl@0{a}/1 R[b\"]/1"},
    {.name = "quoted cr refused",
     .in = "\"a\rb\"\n",
     .want = "B:nl@0{a}/1 R[b\"]/1"},
    {.name = "quoted newline refused after escape",
     .in = "\"a\"\"\nb",
     .want = "B:nl@0{a\"}/1 R[b]/0"},

    /* bad records */
    {.name = "junk after close quote",
     .in = "4,\"Eve\"x,y\n5\n",
     .want = "B:junk@1[4]{Eve}[y]/1 R[5]/1"},
    {.name = "space after close quote",
     .in = "\"a\" ,b",
     .want = "B:junk@0{a}[b]/0"},
    {.name = "junk then quoted field keeps delimiters",
     .in = "\"a\"x,\"b,c\"\nz",
     .want = "B:junk@0{a}{b,c}/1 R[z]/0"},
    {.name = "junk with quotes",
     .in = "\"a\"b\"c,d\n",
     .want = "B:junk@0{a}[d]/1"},
    {.name = "first problem wins",
     .in = "\"a\"x,\"b\"y\n",
     .want = "B:junk@0{a}{b}/1"},
    {.name = "unterminated quote at eof",
     .in = "a,\"bc",
     .want = "B:unterm@1[a]{bc}/0"},
    {.name = "unterminated quote spans lines",
     .in = "a,\"b\nc",
     .nl = true,
     .want = "B:unterm@1[a]{b\\nc}/1"},
    {.name = "lone quote", .in = "\"", .want = "B:unterm@0{}/0"},
    {.name = "NUL in unquoted",
     .in = "a,b\0c,d\ne\n",
     .in_len = 10,
     .want = "B:nul@1[a][b\\0c][d]/1 R[e]/1"},
    {.name = "NUL in quoted",
     .in = "\"a\0\"\n",
     .in_len = 5,
     .want = "B:nul@0{a\\0}/1"},
    {.name = "NUL alone", .in = "\0", .in_len = 1, .want = "B:nul@0[\\0]/0"},

    /* no-quote mode */
    {.name = "noquote",
     .in = "\"a,b\"\",c\n",
     .noquote = true,
     .want = "R[\"a][b\"\"][c]/1"},
    {.name = "noquote newline ends record",
     .in = "\"a\nb\"",
     .noquote = true,
     .want = "R[\"a]/1 R[b\"]/0"},

    /* encodings */
    {.name = "latin1",
     .in = "caf\xe9,\"\xfc\"\"x\"\n",
     .latin1 = true,
     .want = "R[caf\\xc3\\xa9]{\\xc3\\xbc\"x}/1"},
    {.name = "latin1 range ends",
     .in = "\x80\xff,\xa0",
     .latin1 = true,
     .want = "R[\\xc2\\x80\\xc3\\xbf][\\xc2\\xa0]/0"},
    {.name = "latin1 ascii is zero copy text",
     .in = "abc,\"d\"",
     .latin1 = true,
     .want = "R[abc]{d}/0"},
    {.name = "latin1 high delimiter",
     .in = "a\xfe\x62\xe9\n",
     .latin1 = true,
     .delim = (char)0xfe,
     .want = "R[a][b\\xc3\\xa9]/1"},
    {.name = "latin1 quoted newline",
     .in = "\"\xe9\n\xe8\"",
     .latin1 = true,
     .nl = true,
     .want = "R{\\xc3\\xa9\\n\\xc3\\xa8}/1"},
    {.name = "utf8 passes through",
     .in = "caf\xc3\xa9,\xca\xa4\n",
     .want = "R[caf\\xc3\\xa9][\\xca\\xa4]/1"},
};

static void open_case(struct sl_csv *c, const struct csv_case *k)
{
    struct sl_csv_opts o;
    sl_csv_opts_default(&o);
    if (k->delim != 0) {
        o.delim = k->delim;
    }
    if (k->quote != 0) {
        o.quote = k->quote;
    }
    if (k->noquote) {
        o.quote = -1;
    }
    o.allow_quoted_newlines = k->nl;
    o.latin1 = k->latin1;
    assert_int_equal(sl_csv_init(c, &o), SL_OK);
}

static void run_case(void **state)
{
    const struct csv_case *k = *state;
    size_t len = k->in_len ? k->in_len : strlen(k->in);
    struct sl_csv c;
    struct out whole = {.len = 0}, bytewise = {.len = 0};
    whole.s[0] = bytewise.s[0] = '\0';

    open_case(&c, k);
    run_whole(&c, k->in, len, &whole);
    run_bytewise(&c, k->in, len, &bytewise);
    sl_csv_release(&c);

    if (strcmp(whole.s, k->want) != 0) {
        print_error("case '%s'\n  want: %s\n  got:  %s\n", k->name, k->want,
                    whole.s);
    }
    assert_string_equal(whole.s, k->want);
    if (strcmp(bytewise.s, k->want) != 0) {
        print_error("case '%s' (byte by byte)\n  want: %s\n  got:  %s\n",
                    k->name, k->want, bytewise.s);
    }
    assert_string_equal(bytewise.s, k->want);
}

/* ---- dedicated tests --------------------------------------------------- */

static int next_str(struct sl_csv *c, const char *s, size_t len, bool eof,
                    size_t *used, uint64_t *lines)
{
    char *buf = dup_exact(s, len);
    int st = sl_csv_next(c, buf, len, eof, used, lines);
    free(buf); /* fields may point into buf: only use st/used/lines */
    return st;
}

static void test_init_options(void **state)
{
    (void)state;
    struct sl_csv c;
    struct sl_csv_opts o;
    sl_csv_opts_default(&o);
    assert_int_equal(o.delim, ',');
    assert_int_equal(o.quote, '"');
    assert_false(o.allow_quoted_newlines);
    assert_false(o.latin1);

    assert_int_equal(sl_csv_init(&c, NULL), SL_OK);
    assert_int_equal(c.opts.delim, ',');
    sl_csv_release(&c);

    static const struct {
        char delim;
        int quote;
    } bad[] = {
        {'\n', '"'}, {'\r', '"'}, {'\0', '"'}, {',', ','},  {',', 0},
        {',', 256},  {',', -2},   {',', '\n'}, {',', '\r'},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
        o.delim = bad[i].delim;
        o.quote = bad[i].quote;
        assert_int_equal(sl_csv_init(&c, &o), -SL_EINVAL);
        sl_csv_release(&c); /* releasable after a failed init */
    }
    o.delim = ',';
    o.quote = 0xff; /* a high quote byte is fine */
    assert_int_equal(sl_csv_init(&c, &o), SL_OK);
    sl_csv_release(&c);
    sl_csv_release(&c); /* twice is harmless */
    sl_csv_release(NULL);
}

static void test_end_and_empty(void **state)
{
    (void)state;
    struct sl_csv c;
    size_t used = 7;
    uint64_t lines = 7;
    assert_int_equal(sl_csv_init(&c, NULL), SL_OK);
    assert_int_equal(sl_csv_next(&c, "", 0, true, &used, &lines), SL_CSV_END);
    assert_int_equal(used, 0);
    assert_int_equal(lines, 0);
    assert_int_equal(sl_csv_next(&c, "", 0, false, &used, &lines),
                     SL_CSV_NEED_MORE);
    assert_int_equal(sl_csv_next(&c, NULL, 0, true, &used, &lines), SL_CSV_END);
    sl_csv_release(&c);
}

static void test_need_more_then_full(void **state)
{
    (void)state;
    struct sl_csv c;
    size_t used = 0;
    uint64_t lines = 0;
    assert_int_equal(sl_csv_init(&c, NULL), SL_OK);

    static const char full[] = "a,\"b\"\"c\",d\r\nnext";
    /* every strict prefix up to the CRLF asks for more */
    for (size_t n = 0; n <= 11; n++) {
        used = 5;
        assert_int_equal(next_str(&c, full, n, false, &used, &lines),
                         SL_CSV_NEED_MORE);
        assert_int_equal(used, 0);
    }
    /* then the caller supplies more starting at the same record */
    char *buf = dup_exact(full, sizeof(full) - 1);
    assert_int_equal(
        sl_csv_next(&c, buf, sizeof(full) - 1, false, &used, &lines),
        SL_CSV_RECORD);
    assert_int_equal(used, 12);
    assert_int_equal(lines, 1);
    assert_int_equal(c.n_fields, 3);
    assert_memory_equal(c.fields[0].p, "a", 1);
    assert_int_equal(c.fields[1].len, 3);
    assert_memory_equal(c.fields[1].p, "b\"c", 3);
    assert_true(c.fields[1].quoted);
    assert_memory_equal(c.fields[2].p, "d", 1);
    /* "next" has no terminator: more, until eof */
    assert_int_equal(sl_csv_next(&c, buf + used, 4, false, &used, &lines),
                     SL_CSV_NEED_MORE);
    assert_int_equal(sl_csv_next(&c, buf + 12, 4, true, &used, &lines),
                     SL_CSV_RECORD);
    assert_int_equal(used, 4);
    assert_int_equal(lines, 0);
    assert_int_equal(sl_csv_next(&c, buf + 16, 0, true, &used, &lines),
                     SL_CSV_END);
    free(buf);
    sl_csv_release(&c);
}

static void test_need_more_edges(void **state)
{
    (void)state;
    struct sl_csv c;
    size_t used;
    uint64_t lines;
    assert_int_equal(sl_csv_init(&c, NULL), SL_OK);
    /* a trailing CR may be half of CRLF */
    assert_int_equal(next_str(&c, "a\r", 2, false, &used, &lines),
                     SL_CSV_NEED_MORE);
    assert_int_equal(next_str(&c, "a\r", 2, true, &used, &lines),
                     SL_CSV_RECORD);
    assert_int_equal(used, 2);
    assert_int_equal(next_str(&c, "a\r\n", 3, false, &used, &lines),
                     SL_CSV_RECORD);
    assert_int_equal(used, 3);
    assert_int_equal(lines, 1);
    assert_int_equal(next_str(&c, "a\rb", 3, false, &used, &lines),
                     SL_CSV_RECORD);
    assert_int_equal(used, 2);
    /* a quote as the last byte may be half of "" */
    assert_int_equal(next_str(&c, "\"a\"", 3, false, &used, &lines),
                     SL_CSV_NEED_MORE);
    assert_int_equal(next_str(&c, "\"a\"\"", 4, false, &used, &lines),
                     SL_CSV_NEED_MORE);
    assert_int_equal(next_str(&c, "\"a\"", 3, true, &used, &lines),
                     SL_CSV_RECORD);
    assert_int_equal(used, 3);
    /* an open quote without eof is never an error yet */
    assert_int_equal(next_str(&c, "\"abc", 4, false, &used, &lines),
                     SL_CSV_NEED_MORE);
    sl_csv_release(&c);

    /* refused quoted newline: a trailing CR must still see its LF */
    assert_int_equal(sl_csv_init(&c, NULL), SL_OK);
    assert_int_equal(next_str(&c, "\"a\r", 3, false, &used, &lines),
                     SL_CSV_NEED_MORE);
    assert_int_equal(next_str(&c, "\"a\r\n", 4, false, &used, &lines),
                     SL_CSV_BAD);
    assert_int_equal(used, 4);
    assert_int_equal(lines, 1);
    sl_csv_release(&c);
}

static void test_bad_reasons(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *reason;
        size_t idx, used;
    } bad[] = {
        {"a,\"b\"c,d\nz",
         "data between close quote character and field "
         "separator",
         1, 9},
        {"\"a\nb\"\n", "quoted newline not allowed", 0, 3},
        {"x,y,\"open", "unterminated quoted field", 2, 9},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
        struct sl_csv c;
        size_t used;
        uint64_t lines;
        assert_int_equal(sl_csv_init(&c, NULL), SL_OK);
        assert_int_equal(
            next_str(&c, bad[i].in, strlen(bad[i].in), true, &used, &lines),
            SL_CSV_BAD);
        assert_string_equal(c.bad_reason, bad[i].reason);
        assert_int_equal(c.bad_field_idx, bad[i].idx);
        assert_int_equal(used, bad[i].used);
        /* the next good record clears the verdict */
        assert_int_equal(next_str(&c, "ok\n", 3, true, &used, &lines),
                         SL_CSV_RECORD);
        assert_null(c.bad_reason);
        sl_csv_release(&c);
    }
    struct sl_csv c;
    size_t used;
    uint64_t lines;
    assert_int_equal(sl_csv_init(&c, NULL), SL_OK);
    assert_int_equal(next_str(&c, "a,b,\0\n", 6, true, &used, &lines),
                     SL_CSV_BAD);
    assert_string_equal(c.bad_reason, "NUL byte in data");
    assert_int_equal(c.bad_field_idx, 2);
    assert_int_equal(used, 6);
    sl_csv_release(&c);
}

static void test_zero_copy(void **state)
{
    (void)state;
    struct sl_csv c;
    size_t used;
    uint64_t lines;
    static const char in[] = "abc,\"de,f\",\"g\"\"h\"\n";
    assert_int_equal(sl_csv_init(&c, NULL), SL_OK);
    assert_int_equal(sl_csv_next(&c, in, sizeof(in) - 1, true, &used, &lines),
                     SL_CSV_RECORD);
    assert_int_equal(c.n_fields, 3);
    assert_ptr_equal(c.fields[0].p, in);     /* unquoted: in place */
    assert_ptr_equal(c.fields[1].p, in + 5); /* quoted, no escape: in place */
    assert_int_equal(c.fields[1].len, 4);
    assert_ptr_equal(c.fields[2].p, c.scratch.data); /* unescaped: scratch */
    assert_int_equal(c.fields[2].len, 3);
    assert_memory_equal(c.fields[2].p, "g\"h", 3);
    sl_csv_release(&c);
}

/* Doubling the window on NEED_MORE, as a real caller does; returns the
 * number of sl_csv_next calls made. */
static int next_doubling(struct sl_csv *c, const char *in, size_t len,
                         size_t *used, uint64_t *lines)
{
    size_t avail = len < 4096 ? len : 4096;
    int calls = 0;
    for (;;) {
        calls++;
        int st = sl_csv_next(c, in, avail, avail == len, used, lines);
        if (st != SL_CSV_NEED_MORE) {
            assert_int_equal(st, SL_CSV_RECORD);
            return calls;
        }
        avail = avail * 2 < len ? avail * 2 : len;
    }
}

static void test_wide_record(void **state)
{
    (void)state;
    enum { N = 10000 };
    struct sl_csv c;
    size_t used;
    uint64_t lines;
    char *in = malloc((size_t)N * 10 + 2);
    assert_non_null(in);
    size_t len = 0;
    for (int i = 0; i < N; i++) {
        if (i % 2 == 0) {
            len += (size_t)sprintf(in + len, "%d,", i);
        } else {
            len += (size_t)sprintf(in + len, "\"%d\"\"\",", i); /* "7""" */
        }
    }
    in[len - 1] = '\n';

    assert_int_equal(sl_csv_init(&c, NULL), SL_OK);
    assert_int_equal(sl_csv_next(&c, in, len, true, &used, &lines),
                     SL_CSV_RECORD);
    assert_int_equal(used, len);
    assert_int_equal(lines, 1);
    assert_int_equal(c.n_fields, N);
    for (int i = 0; i < N; i++) {
        char want[16];
        int n = sprintf(want, i % 2 == 0 ? "%d" : "%d\"", i);
        assert_int_equal(c.fields[i].len, (size_t)n);
        assert_memory_equal(c.fields[i].p, want, (size_t)n);
        assert_int_equal(c.fields[i].quoted, i % 2 == 1);
    }
    assert_true(c.fields_cap >= N);

    /* Warm: no allocation at all for the same or narrower records. */
    sl_alloc_fail_after(0); /* resets the call counter */
    assert_int_equal(sl_csv_next(&c, in, len, true, &used, &lines),
                     SL_CSV_RECORD);
    assert_int_equal(sl_csv_next(&c, "1,2,3\n", 6, true, &used, &lines),
                     SL_CSV_RECORD);
    assert_int_equal(sl_alloc_count(), 0);

    /* The same record offered in growing windows. */
    assert_true(next_doubling(&c, in, len, &used, &lines) > 1);
    assert_int_equal(c.n_fields, N);
    assert_memory_equal(c.fields[N - 1].p, "9999\"", 5);
    free(in);
    sl_csv_release(&c);
}

static void test_huge_field(void **state)
{
    (void)state;
    const size_t big = (size_t)10 << 20; /* 10 MB of text */
    struct sl_csv c;
    size_t used;
    uint64_t lines;
    char *in = malloc(big + 16);
    assert_non_null(in);

    /* unquoted: zero copy */
    memset(in, 'x', big);
    in[big] = ',';
    in[big + 1] = 'y';
    in[big + 2] = '\n';
    assert_int_equal(sl_csv_init(&c, NULL), SL_OK);
    assert_true(next_doubling(&c, in, big + 3, &used, &lines) > 1);
    assert_int_equal(used, big + 3);
    assert_int_equal(c.n_fields, 2);
    assert_ptr_equal(c.fields[0].p, in);
    assert_int_equal(c.fields[0].len, big);

    /* quoted with an escape every 1000 bytes: built in scratch */
    in[0] = '"';
    for (size_t i = 1000; i + 1 < big; i += 1000) {
        in[i] = '"';
        in[i + 1] = '"';
    }
    in[big] = '"';
    in[big + 1] = ',';
    in[big + 2] = 'y';
    in[big + 3] = '\n';
    assert_int_equal(next_doubling(&c, in, big + 4, &used, &lines) > 1, 1);
    assert_int_equal(used, big + 4);
    assert_int_equal(c.n_fields, 2);
    const struct sl_csv_field *f = &c.fields[0];
    assert_true(f->quoted);
    size_t quotes = 0, xs = 0;
    for (size_t i = 0; i < f->len; i++) {
        quotes += f->p[i] == '"';
        xs += f->p[i] == 'x';
    }
    assert_int_equal(f->len, big - 1 - quotes);
    assert_int_equal(quotes + xs, f->len);
    assert_int_equal(quotes, (big - 2) / 1000);
    assert_memory_equal(c.fields[1].p, "y", 1);

    /* The next small record does not keep a 16 MB scratch alive. */
    assert_int_equal(sl_csv_next(&c, "\"a\"\"\"\n", 6, true, &used, &lines),
                     SL_CSV_RECORD);
    assert_true(c.scratch.cap < ((size_t)1 << 20));
    free(in);
    sl_csv_release(&c);
}

static void test_line_counts(void **state)
{
    (void)state;
    /* Breaks: 1 (LF) + 1 (CRLF) + 1 (CR) + 2 quoted (CRLF, LF) + 1 (LF)
     * + 1 empty line (CRLF) + 0 (last record) = 7. */
    static const char in[] = "a\nb\r\nc\r\"q\r\nr\ns\",t\n\r\nlast";
    struct sl_csv_opts o;
    sl_csv_opts_default(&o);
    o.allow_quoted_newlines = true;
    struct sl_csv c;
    assert_int_equal(sl_csv_init(&c, &o), SL_OK);
    static const uint64_t want[] = {1, 1, 1, 3, 1, 0};
    size_t pos = 0, len = sizeof(in) - 1;
    uint64_t total = 0;
    size_t n = 0;
    for (;;) {
        size_t used;
        uint64_t lines;
        int st = sl_csv_next(&c, in + pos, len - pos, true, &used, &lines);
        if (st == SL_CSV_END) {
            break;
        }
        assert_int_equal(st, SL_CSV_RECORD);
        assert_true(n < SL_ARRAY_LEN(want));
        assert_int_equal(lines, want[n]);
        total += lines;
        pos += used;
        n++;
    }
    assert_int_equal(n, SL_ARRAY_LEN(want));
    assert_int_equal(total, 7);
    sl_csv_release(&c);
}

/* Random short inputs over a hostile alphabet, every option combination:
 * feeding byte by byte must give exactly what the whole buffer gives, and the
 * records must cover the input. A deterministic generator keeps failures
 * reproducible (the failing input is printed). */
static void test_random_feeding_agrees(void **state)
{
    (void)state;
    static const char alphabet[] = {'a',  ',',  '"',    '\r',
                                    '\n', '\0', '\xe9', ';'};
    uint32_t seed = 12345;
    char in[48];
    for (int iter = 0; iter < 4000; iter++) {
        seed = seed * 1664525u + 1013904223u;
        size_t len = (seed >> 8) % sizeof(in);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1664525u + 1013904223u;
            in[i] = alphabet[(seed >> 16) % sizeof(alphabet)];
        }
        struct csv_case k = {.name = "random"};
        k.noquote = iter % 5 == 4;
        k.nl = (iter & 1) != 0;
        k.latin1 = (iter & 2) != 0;
        k.delim = iter % 3 == 0 ? ';' : ',';
        struct sl_csv c;
        struct out whole = {.len = 0}, bytewise = {.len = 0};
        whole.s[0] = bytewise.s[0] = '\0';
        open_case(&c, &k);
        run_whole(&c, in, len, &whole);
        run_bytewise(&c, in, len, &bytewise);
        sl_csv_release(&c);
        if (strcmp(whole.s, bytewise.s) != 0) {
            struct out shown = {.len = 0};
            shown.s[0] = '\0';
            for (size_t i = 0; i < len; i++) {
                out_byte(&shown, (unsigned char)in[i]);
            }
            print_error("iteration %d input '%s'\n  whole:    %s\n"
                        "  bytewise: %s\n",
                        iter, shown.s, whole.s, bytewise.s);
        }
        assert_string_equal(whole.s, bytewise.s);
    }
}

/* Fail allocation N = 1, 2, ... until the parse succeeds: each failure must
 * be -SL_ENOMEM, consume nothing, and leave the reader usable. */
static void test_oom_sweep(void **state)
{
    (void)state;
    static const char in[] =
        "\"a\"\"b\",c,\"d\"\"e\",\xe9,5,6,7,8,9,10,11,12,13,14,15,16,17,18\n";
    struct sl_csv_opts o;
    sl_csv_opts_default(&o);
    o.latin1 = true;
    int failures = 0;
    for (uint64_t n = 1;; n++) {
        struct sl_csv c;
        size_t used = 5;
        uint64_t lines = 5;
        assert_int_equal(sl_csv_init(&c, &o), SL_OK);
        sl_alloc_fail_after(n);
        int st = sl_csv_next(&c, in, sizeof(in) - 1, true, &used, &lines);
        uint64_t made = sl_alloc_count();
        sl_alloc_fail_after(0);
        if (st == -SL_ENOMEM) {
            failures++;
            assert_int_equal(used, 0);
            /* retry without injection on the same reader */
            st = sl_csv_next(&c, in, sizeof(in) - 1, true, &used, &lines);
        }
        assert_int_equal(st, SL_CSV_RECORD);
        assert_int_equal(used, sizeof(in) - 1);
        assert_int_equal(c.n_fields, 18);
        assert_memory_equal(c.fields[0].p, "a\"b", 3);
        assert_memory_equal(c.fields[2].p, "d\"e", 3);
        assert_memory_equal(c.fields[3].p, "\xc3\xa9", 2);
        assert_memory_equal(c.fields[17].p, "18", 2);
        sl_csv_release(&c);
        if (made < n) {
            break; /* no allocation was failed: the sweep is complete */
        }
        assert_true(n < 64);
    }
    assert_int_equal(failures, 3); /* fields 16 and 32, scratch */
}

int main(void)
{
    static struct CMUnitTest tests[SL_ARRAY_LEN(cases) + 11];
    size_t n = 0;
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        tests[n++] = (struct CMUnitTest){cases[i].name, run_case, NULL, NULL,
                                         (void *)&cases[i]};
    }
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_init_options),
        cmocka_unit_test(test_end_and_empty),
        cmocka_unit_test(test_need_more_then_full),
        cmocka_unit_test(test_need_more_edges),
        cmocka_unit_test(test_bad_reasons),
        cmocka_unit_test(test_zero_copy),
        cmocka_unit_test(test_wide_record),
        cmocka_unit_test(test_huge_field),
        cmocka_unit_test(test_line_counts),
        cmocka_unit_test(test_random_feeding_agrees),
        cmocka_unit_test(test_oom_sweep),
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(fixed); i++) {
        tests[n++] = fixed[i];
    }
    if (n != SL_ARRAY_LEN(tests)) {
        fprintf(stderr, "test table size mismatch\n");
        return 1;
    }
    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
