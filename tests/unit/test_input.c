/* test_input.c - unit tests for the input layer (src/parse/input.c): the
 * UTF-16/UTF-32 sniffing (by byte order mark and by NUL pattern) and its error
 * through every way in (streamed, mapped, gzip-compressed), the UTF-8 BOM
 * kept apart from those, zero padding after a gzip stream accepted as gzip
 * does and other trailing bytes refused, and a directory named as such. */
#include "core/common.h"

#include "core/error.h"
#include "parse/input.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

static char dir[] = "/tmp/sl-test-input.XXXXXX";

/* ---- sniffing --------------------------------------------------------------
 */

struct sniff_case {
    const char *bytes;
    size_t len;
    const char *want; /* NULL = readable */
    bool bom;
};

#define S(lit) lit, sizeof(lit) - 1
static const struct sniff_case sniff_cases[] = {
    /* byte order marks; FF FE 00 00 is UTF-32LE, as iconv reads it */
    {S("\xFF\xFE\x00\x00{\x00\x00\x00"), "UTF-32LE", true},
    {S("\x00\x00\xFE\xFF\x00\x00\x00{"), "UTF-32BE", true},
    {S("\xFF\xFE{\x00"), "UTF-16LE", true},
    {S("\xFE\xFF\x00{"), "UTF-16BE", true},
    {S("\xFF\xFE"), "UTF-16LE", true}, /* a BOM alone */
    {S("\xFE\xFF"), "UTF-16BE", true},
    {S("\xFF\xFE\x00"), "UTF-16LE", true},
    /* no BOM: the NULs of ASCII text */
    {S("{\x00\"\x00"), "UTF-16LE", false},
    {S("\x00{\x00\""), "UTF-16BE", false},
    {S("{\x00\x00\x00"), "UTF-32LE", false},
    {S("\x00\x00\x00{"), "UTF-32BE", false},
    {S("i\x00"
       "d\x00,\x00"),
     "UTF-16LE", false},
    /* readable text, or too short to tell */
    {S("{\"a\":1}"), NULL, false},
    {S("\xEF\xBB\xBF{}"), NULL, false}, /* UTF-8 BOM: stripped, not refused */
    {S("id,name\n"), NULL, false},
    {S("caf\xe9"), NULL, false}, /* Latin-1 */
    {S("{\x00"), NULL, false},   /* two bytes without a BOM: no verdict */
    {S("a\x00"
       "b"),
     NULL, false},
    {S("\x00\x00\x00\x00"), NULL, false}, /* NULs only: not text of any kind */
    {S("a\x00\x00"
       "b"),
     NULL, false},
    {S(""), NULL, false},
};

static void test_sniff(void **state)
{
    (void)state;
    for (size_t i = 0; i < SL_ARRAY_LEN(sniff_cases); i++) {
        const struct sniff_case *c = &sniff_cases[i];
        bool bom = !c->bom;
        const char *got = sl_input_sniff_encoding(c->bytes, c->len, &bom);
        if (c->want == NULL) {
            if (got != NULL) {
                fail_msg("case %zu: got %s, want readable", i, got);
            }
        } else {
            if (got == NULL || strcmp(got, c->want) != 0) {
                fail_msg("case %zu: got %s, want %s", i, got ? got : "NULL",
                         c->want);
            }
            assert_int_equal(bom, c->bom);
        }
    }
}

/* ---- files -----------------------------------------------------------------
 */

static char *path_of(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
    return p[k];
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* data gzip-compressed (one member), then pad zero bytes and tail. */
static void write_gzip(const char *path, const void *data, size_t len,
                       size_t pad, const char *tail)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(
        deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)len) + 64;
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    z.next_in = (unsigned char *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(out, 1, n, f), n);
    for (size_t i = 0; i < pad; i++) {
        fputc(0, f);
    }
    if (tail != NULL) {
        fputs(tail, f);
    }
    assert_int_equal(fclose(f), 0);
    free(out);
}

/* Read path through sl_input to the end: the code, the decoded bytes in out
 * (up to cap; *out_len how many), the error in err. */
static int read_all(const char *path, char *out, size_t cap, size_t *out_len,
                    struct sl_error *err)
{
    struct sl_input *in = NULL;
    memset(err, 0, sizeof(*err));
    *out_len = 0;
    int rc = sl_input_open(path, false, &in, err);
    while (rc == SL_OK) {
        char buf[7]; /* small reads: marks split across calls */
        size_t n = 0;
        rc = sl_input_read(in, buf, sizeof(buf), &n, err);
        if (rc != SL_OK || n == 0) {
            break;
        }
        if (*out_len + n <= cap) {
            memcpy(out + *out_len, buf, n);
        }
        *out_len += n;
    }
    sl_input_close(in);
    return rc;
}

static void expect_refused(const char *path, const char *enc, const char *how)
{
    char out[64];
    size_t n = 0;
    struct sl_error err;
    int rc = read_all(path, out, sizeof(out), &n, &err);
    assert_int_equal(rc, -SL_ECORRUPT);
    assert_int_equal(n, 0); /* nothing handed out before the verdict */
    if (strstr(err.msg, enc) == NULL || strstr(err.msg, how) == NULL ||
        strstr(err.msg, "iconv -f ") == NULL || strstr(err.msg, path) == NULL) {
        fail_msg("message for %s: %s", path, err.msg);
    }
    assert_string_equal(err.path, path);
    /* the mapped way in says the same */
    const char *map = NULL;
    size_t len = 0, bom = 0;
    memset(&err, 0, sizeof(err));
    rc = sl_input_map(path, &map, &len, &bom, &err);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    char magic[2] = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t got = fread(magic, 1, 2, f);
    fclose(f);
    bool gz = got == 2 && (unsigned char)magic[0] == 0x1f &&
              (unsigned char)magic[1] == 0x8b;
    if (st.st_size >= 4 && !gz) {
        assert_int_equal(rc, -SL_ECORRUPT);
        assert_null(map);
        assert_non_null(strstr(err.msg, enc));
    } else {
        assert_int_equal(rc, SL_OK); /* not mapped: streamed, refused there */
        assert_null(map);
    }
}

static void test_utf16_utf32_files(void **state)
{
    (void)state;
    /* {"a":1} in each encoding, with and without a BOM */
    static const char le16[] = "{\0\"\0a\0\"\0:\0001\0}\0\n\0";
    static const char be16[] = "\0{\0\"\0a\0\"\0:\0001\0}\0\n";
    static const char le32[] = "{\0\0\0\"\0\0\0a\0\0\0";
    static const char be32[] = "\0\0\0{\0\0\0\"\0\0\0a";
    char buf[64];
    write_file(path_of("le16.ndjson"), le16, sizeof(le16) - 1);
    expect_refused(path_of("le16.ndjson"), "UTF-16LE", "NUL bytes");
    write_file(path_of("be16.ndjson"), be16, sizeof(be16) - 1);
    expect_refused(path_of("be16.ndjson"), "UTF-16BE", "NUL bytes");
    write_file(path_of("le32.ndjson"), le32, sizeof(le32) - 1);
    expect_refused(path_of("le32.ndjson"), "UTF-32LE", "NUL bytes");
    write_file(path_of("be32.csv"), be32, sizeof(be32) - 1);
    expect_refused(path_of("be32.csv"), "UTF-32BE", "NUL bytes");
    memcpy(buf, "\xFF\xFE", 2);
    memcpy(buf + 2, le16, sizeof(le16) - 1);
    write_file(path_of("bom16.ndjson"), buf, sizeof(le16) + 1);
    expect_refused(path_of("bom16.ndjson"), "UTF-16LE",
                   "byte order mark FF FE");
    memcpy(buf, "\xFE\xFF", 2);
    memcpy(buf + 2, be16, sizeof(be16) - 1);
    write_file(path_of("bom16be.ndjson"), buf, sizeof(be16) + 1);
    expect_refused(path_of("bom16be.ndjson"), "UTF-16BE",
                   "byte order mark FE FF");
    write_file(path_of("bom32.ndjson"), "\xFF\xFE\0\0{\0\0\0", 8);
    expect_refused(path_of("bom32.ndjson"), "UTF-32LE",
                   "byte order mark FF FE 00 00");
    /* a BOM-only file (2 bytes: too short to map) */
    write_file(path_of("bomonly.csv"), "\xFF\xFE", 2);
    expect_refused(path_of("bomonly.csv"), "UTF-16LE", "FF FE");
    /* compressed: the decoded text is looked at, and the advice decompresses */
    write_gzip(path_of("le16.ndjson.gz"), le16, sizeof(le16) - 1, 0, NULL);
    expect_refused(path_of("le16.ndjson.gz"), "UTF-16LE", "gzip -dc");
}

static void test_readable_heads(void **state)
{
    (void)state;
    char out[64];
    size_t n = 0;
    struct sl_error err;
    /* a UTF-8 BOM is dropped, the rest handed out whole */
    write_file(path_of("bom8.ndjson"), "\xEF\xBB\xBF{}\n", 6);
    assert_int_equal(
        read_all(path_of("bom8.ndjson"), out, sizeof(out), &n, &err), SL_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "{}\n", 3);
    /* files shorter than the four bytes looked at */
    static const char *shorts[] = {"a", "ab", "abc", "\xEF\xBB\xBF", "{}\n\n"};
    for (size_t i = 0; i < SL_ARRAY_LEN(shorts); i++) {
        size_t len = strlen(shorts[i]);
        write_file(path_of("short"), shorts[i], len);
        assert_int_equal(read_all(path_of("short"), out, sizeof(out), &n, &err),
                         SL_OK);
        size_t skip = len >= 3 && memcmp(shorts[i], "\xEF\xBB\xBF", 3) == 0;
        assert_int_equal(n, len - 3 * skip);
        assert_memory_equal(out, shorts[i] + 3 * skip, n);
    }
    write_file(path_of("empty"), "", 0);
    assert_int_equal(read_all(path_of("empty"), out, sizeof(out), &n, &err),
                     SL_OK);
    assert_int_equal(n, 0);
}

static void test_gzip_zero_padding(void **state)
{
    (void)state;
    static const char text[] = "{\"a\":1}\n{\"a\":2}\n";
    char out[64];
    size_t n = 0;
    struct sl_error err;
    /* zero padding of any length, past the 1 MB raw buffer too: accepted */
    static const size_t pads[] = {1, 7, 512, 4096, (1u << 20) + 3};
    for (size_t i = 0; i < SL_ARRAY_LEN(pads); i++) {
        write_gzip(path_of("pad.gz"), text, sizeof(text) - 1, pads[i], NULL);
        int rc = read_all(path_of("pad.gz"), out, sizeof(out), &n, &err);
        if (rc != SL_OK) {
            fail_msg("%zu zero bytes: %s", pads[i], err.msg);
        }
        assert_int_equal(n, sizeof(text) - 1);
        assert_memory_equal(out, text, n);
    }
    /* zeros, then something else: not padding */
    write_gzip(path_of("padx.gz"), text, sizeof(text) - 1, 100, "x");
    assert_int_equal(read_all(path_of("padx.gz"), out, sizeof(out), &n, &err),
                     -SL_ECORRUPT);
    assert_non_null(strstr(err.msg, "after the zero padding"));
    /* other bytes straight after the stream */
    write_gzip(path_of("junk.gz"), text, sizeof(text) - 1, 0, "junk");
    assert_int_equal(read_all(path_of("junk.gz"), out, sizeof(out), &n, &err),
                     -SL_ECORRUPT);
    assert_non_null(strstr(err.msg, "after the end of the gzip stream"));
    /* two members, then padding: both members read */
    write_gzip(path_of("m1.gz"), text, sizeof(text) - 1, 0, NULL);
    write_gzip(path_of("m2.gz"), text, sizeof(text) - 1, 64, NULL);
    size_t l1 = 0, l2 = 0;
    char *a = NULL, *b = NULL;
    FILE *f = fopen(path_of("m1.gz"), "rb");
    assert_non_null(f);
    a = malloc(4096);
    l1 = fread(a, 1, 4096, f);
    fclose(f);
    f = fopen(path_of("m2.gz"), "rb");
    assert_non_null(f);
    b = malloc(4096);
    l2 = fread(b, 1, 4096, f);
    fclose(f);
    memcpy(a + l1, b, l2);
    write_file(path_of("two.gz"), a, l1 + l2);
    free(a);
    free(b);
    assert_int_equal(read_all(path_of("two.gz"), out, sizeof(out), &n, &err),
                     SL_OK);
    assert_int_equal(n, 2 * (sizeof(text) - 1));
}

static void test_directory(void **state)
{
    (void)state;
    char out[8];
    size_t n = 0;
    struct sl_error err;
    assert_int_equal(read_all(dir, out, sizeof(out), &n, &err), -SL_EIO);
    if (strstr(err.msg, "is a directory, not a data file") == NULL ||
        strstr(err.msg, dir) == NULL) {
        fail_msg("directory: %s", err.msg);
    }
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_utf16_utf32_files),
        cmocka_unit_test(test_readable_heads),
        cmocka_unit_test(test_gzip_zero_padding),
        cmocka_unit_test(test_directory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
