/* harness_input.c - fuzz body for the decompression layer (src/parse/input.c):
 * the input goes to a scratch file read back through sl_input_open and
 * sl_input_read. The first byte picks a mode and a read size:
 *   mode 0, 3: the rest of the input is the file as is (plain, or whatever
 *              gzip/zstd magic the fuzzer writes: corrupt streams welcome);
 *   mode 1:    the rest, gzip-compressed (two members when long enough);
 *   mode 2:    the rest, zstd-compressed.
 * Invariants:
 *  - reading never fails on a file we compressed, and yields the original
 *    bytes (less a leading UTF-8 BOM); a plain file yields its bytes;
 *    UTF-16/32 text (by BOM or NUL pattern) fails at once with -SL_ECORRUPT;
 *  - reading in pieces of 1..64 bytes yields the same bytes (a common prefix
 *    when the stream is corrupt) and the same outcome as 64 KiB pieces;
 *  - a failure is -SL_ECORRUPT or -SL_EIO with a message, and the raw byte
 *    count never exceeds the file size.
 * tests; included by fuzz_input.c and tests/conformance/test_fuzz_replay.c. */
#include "core/common.h"

#include "fuzz_common.h"
#include "parse/input.h"

#include <zlib.h>
#include <zstd.h>

struct hi_read {
    int rc;    /* last sl_input_read result */
    char *out; /* decoded bytes */
    size_t len;
    enum sl_codec codec;
    bool bom;
};

/* Read path fully with reads of cap bytes. */
static void hi_read_all(const char *path, size_t cap, uint64_t file_size,
                        struct hi_read *res)
{
    memset(res, 0, sizeof(*res));
    struct sl_input *in = NULL;
    struct sl_error err = {0};
    int rc = sl_input_open(path, cap & 1, &in, &err);
    if (rc != SL_OK) {
        FZ_CHECK(rc == -SL_EIO || rc == -SL_ECORRUPT || rc == -SL_ENOMEM,
                 "open: %d", rc);
        FZ_CHECK(err.msg[0] != '\0', "open failed without a message");
        res->rc = rc;
        return;
    }
    res->codec = sl_input_codec(in);
    size_t have = 0, outcap = 4096;
    res->out = malloc(outcap);
    char *buf = malloc(cap);
    FZ_CHECK(res->out != NULL && buf != NULL, "out of memory");
    for (;;) {
        size_t n = 0;
        rc = sl_input_read(in, buf, cap, &n, &err);
        if (rc != SL_OK) {
            FZ_CHECK(rc == -SL_ECORRUPT || rc == -SL_EIO, "read: %d", rc);
            FZ_CHECK(err.msg[0] != '\0', "read failed without a message");
            break;
        }
        FZ_CHECK(n <= cap, "read %zu into %zu", n, cap);
        if (n == 0) {
            break;
        }
        if (have + n > outcap) {
            while (have + n > outcap) {
                outcap *= 2;
            }
            res->out = realloc(res->out, outcap);
            FZ_CHECK(res->out != NULL, "out of memory");
        }
        memcpy(res->out + have, buf, n);
        have += n;
        /* decompression bombs: the corpus files are small, stop early */
        if (have > (64u << 20)) {
            break;
        }
    }
    FZ_CHECK(sl_input_raw_bytes(in) <= file_size, "raw %llu > file %llu",
             (unsigned long long)sl_input_raw_bytes(in),
             (unsigned long long)file_size);
    res->rc = rc;
    res->len = have;
    res->bom = sl_input_had_bom(in);
    if (cap & 1) {
        char fp[65];
        sl_input_fingerprint(in, fp);
        FZ_CHECK(rc != SL_OK || strlen(fp) == 64, "fingerprint '%s'", fp);
    }
    sl_input_close(in);
    free(buf);
}

/* gzip of p[0..n) as one or two members (split at half). */
static uint8_t *hi_gzip(const uint8_t *p, size_t n, bool two, size_t *out_len)
{
    size_t cap = 2 * n + 256;
    uint8_t *out = malloc(cap);
    FZ_CHECK(out != NULL, "out of memory");
    size_t o = 0;
    size_t cut = two ? n / 2 : n;
    for (int m = 0; m < (two ? 2 : 1); m++) {
        const uint8_t *s = m == 0 ? p : p + cut;
        size_t sn = m == 0 ? cut : n - cut;
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        FZ_CHECK(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8,
                              Z_DEFAULT_STRATEGY) == Z_OK,
                 "deflateInit2");
        zs.next_in = (unsigned char *)(uintptr_t)s;
        zs.avail_in = (uInt)sn;
        zs.next_out = out + o;
        zs.avail_out = (uInt)(cap - o);
        FZ_CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END, "deflate");
        o = cap - zs.avail_out;
        deflateEnd(&zs);
    }
    *out_len = o;
    return out;
}

static uint8_t *hi_zstd(const uint8_t *p, size_t n, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(n);
    uint8_t *out = malloc(cap ? cap : 1);
    FZ_CHECK(out != NULL, "out of memory");
    size_t r = ZSTD_compress(out, cap, p, n, 3);
    FZ_CHECK(!ZSTD_isError(r), "ZSTD_compress: %s", ZSTD_getErrorName(r));
    *out_len = r;
    return out;
}

static int harness_input(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    unsigned mode = data[0] & 3;
    size_t small = (size_t)(data[0] >> 2) + 1; /* 1..64 */
    const uint8_t *body = data + 1;
    size_t blen = size - 1;
    uint8_t *file = NULL;
    size_t flen = 0;
    if (mode == 1) {
        file = hi_gzip(body, blen, blen >= 8, &flen);
    } else if (mode == 2) {
        file = hi_zstd(body, blen, &flen);
    }
    const char *path =
        file ? fz_scratch_file(file, flen) : fz_scratch_file(body, blen);
    uint64_t fsize = file ? flen : blen;

    struct hi_read big, little;
    hi_read_all(path, 64 * 1024, fsize, &big);
    hi_read_all(path, small, fsize, &little);

    FZ_CHECK(big.rc == little.rc, "reads of %zu bytes end %d, of 64 KiB %d",
             small, little.rc, big.rc);
    /* the same bytes; after a corrupt stream only a prefix is certain, as
     * bytes decoded in the same step as the error may or may not be handed
     * out first depending on the read size */
    size_t common = big.len < little.len ? big.len : little.len;
    FZ_CHECK(common == 0 || memcmp(big.out, little.out, common) == 0,
             "reads of %zu bytes and of 64 KiB give different bytes", small);
    FZ_CHECK(big.rc != SL_OK || big.len == little.len,
             "reads of %zu bytes give %zu bytes, of 64 KiB %zu", small,
             little.len, big.len);
    FZ_CHECK(big.bom == little.bom, "BOM seen with one read size only");

    /* What the decoded bytes must be when we know them. */
    bool known = mode == 1 || mode == 2 ||
                 !((blen >= 2 && body[0] == 0x1f && body[1] == 0x8b) ||
                   (blen >= 4 && memcmp(body, "\x28\xb5\x2f\xfd", 4) == 0));
    bool bom16 = false;
    const char *wide =
        known ? sl_input_sniff_encoding(body, blen < 4 ? blen : 4, &bom16)
              : NULL;
    if (wide != NULL) {
        /* UTF-16/32 text is refused on the first read, naming the encoding */
        FZ_CHECK(big.rc == -SL_ECORRUPT && big.len == 0,
                 "%s text read as %zu bytes, rc %d", wide, big.len, big.rc);
    } else if (known) {
        size_t skip = blen >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        FZ_CHECK(big.rc == SL_OK, "reading a good file failed: %d", big.rc);
        FZ_CHECK(big.codec == (mode == 1   ? SL_CODEC_GZIP
                               : mode == 2 ? SL_CODEC_ZSTD
                                           : SL_CODEC_NONE),
                 "codec %d for mode %u", big.codec, mode);
        FZ_CHECK(
            big.len == blen - skip &&
                (big.len == 0 || memcmp(big.out, body + skip, big.len) == 0),
            "decoded %zu bytes, want %zu", big.len, blen - skip);
        FZ_CHECK(big.bom == (skip == 3), "BOM flag %d", big.bom);
    }
    free(big.out);
    free(little.out);
    free(file);
    return 0;
}
