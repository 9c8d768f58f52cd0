/* input.c - file/stdin reader with gzip (multi-member, zero padding after the
 * last member ignored as gzip does) and zstd decoding, BOM stripping, UTF-16
 * and UTF-32 refused with advice, and a raw-bytes SHA-256. parse stage. */
#include "core/common.h"
#include "parse/input.h"
#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define RAW_CAP (1u << 20)

struct sl_input {
    int fd;                  /* owned unless stdin */
    char path[256];          /* for messages */
    enum sl_codec codec;
    unsigned char *raw;      /* raw read buffer, RAW_CAP bytes */
    size_t raw_pos, raw_len; /* unread raw bytes are raw[raw_pos..raw_len) */
    bool raw_eof;
    uint64_t raw_total;      /* raw bytes read from fd */
    uint64_t out_total;      /* decoded bytes handed out */
    uint64_t file_size;      /* 0 if unknown */
    z_stream zs;
    bool zs_init, zs_member_done;
    bool zs_zero_tail;       /* zero padding after the last member began */
    ZSTD_DStream *zd;
    size_t zd_last;          /* last ZSTD_decompressStream return: 0 = frame complete */
    EVP_MD_CTX *sha;
    bool bom_checked, had_bom;
    unsigned char head[4];   /* first decoded bytes, read to look for a BOM or
                                the NULs of UTF-16/32 text */
    size_t head_pos, head_len; /* head[head_pos..head_len) not yet handed out */
};

/* At end of a regular file: the bytes read must be the file's size at open and
 * now; a file that shrank or grew while being read is an error, never a silently
 * partial load. */
static int check_unchanged(struct sl_input *in, struct sl_error *err)
{
    struct stat st;
    if (in->file_size == 0 || in->fd == STDIN_FILENO) {
        return SL_OK;
    }
    if (fstat(in->fd, &st) != 0 || (uint64_t)st.st_size != in->file_size ||
        in->raw_total != in->file_size) {
        SL_ERR(err, -SL_EIO,
               "%s: the file changed while being read (%llu bytes at open, %llu read, %llu now)",
               in->path, (unsigned long long)in->file_size, (unsigned long long)in->raw_total,
               (unsigned long long)st.st_size);
        sl__error_path(err, in->path);
        return -SL_EIO;
    }
    return SL_OK;
}

/* Read more raw bytes after the unread ones (moved to the front first). */
static int read_more(struct sl_input *in, struct sl_error *err)
{
    size_t have = in->raw_len - in->raw_pos;
    memmove(in->raw, in->raw + in->raw_pos, have);
    in->raw_pos = 0;
    in->raw_len = have;
    for (;;) {
        ssize_t n = read(in->fd, in->raw + have, RAW_CAP - have);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int e = errno;
            SL_ERR(err, -SL_EIO, "%s: read error after %llu bytes: %s", in->path,
                   (unsigned long long)in->raw_total, strerror(e));
            err->sub = e;
            sl__error_path(err, in->path);
            return -SL_EIO;
        }
        in->raw_len = have + (size_t)n;
        in->raw_total += (uint64_t)n;
        if (n == 0) {
            in->raw_eof = true;
            return check_unchanged(in, err);
        }
        if (in->sha != NULL) {
            EVP_DigestUpdate(in->sha, in->raw + have, (size_t)n);
        }
        return SL_OK;
    }
}

static int fill_raw(struct sl_input *in, struct sl_error *err)
{
    if (in->raw_pos < in->raw_len || in->raw_eof) {
        return SL_OK;
    }
    return read_more(in, err);
}

int sl_input_open(const char *path, bool fingerprint, struct sl_input **out,
                  struct sl_error *err)
{
    *out = NULL;
    struct sl_input *in = sl__calloc(1, sizeof(*in));
    if (in == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory opening %s", path);
    }
    in->fd = -1;
    snprintf(in->path, sizeof(in->path), "%s", path);
    int rc = SL_OK;
    in->raw = sl__malloc(RAW_CAP);
    if (fingerprint) {
        in->sha = EVP_MD_CTX_new();
    }
    if (in->raw == NULL || (fingerprint && (in->sha == NULL ||
        EVP_DigestInit_ex(in->sha, EVP_sha256(), NULL) != 1))) {
        rc = SL_ERR(err, -SL_ENOMEM, "out of memory opening %s", path);
        goto fail;
    }
    if (strcmp(path, "-") == 0) {
        in->fd = STDIN_FILENO;
    } else {
        in->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (in->fd < 0) {
            int e = errno;
            rc = SL_ERR(err, -SL_EIO, "%s: cannot open: %s", path, strerror(e));
            err->sub = e;
            goto fail;
        }
        struct stat st;
        if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode)) {
            in->file_size = (uint64_t)st.st_size;
        } else if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc = SL_ERR(err, -SL_EIO,
                        "%s is a directory, not a data file: give the files in "
                        "it (e.g. %s/*.ndjson)",
                        path, path);
            goto fail;
        }
    }
    /* sniff the magic bytes: gather at least 4 raw bytes (or eof) */
    while (!in->raw_eof && in->raw_len - in->raw_pos < 4) {
        if ((rc = read_more(in, err)) != SL_OK) {
            goto fail;
        }
    }
    const unsigned char *m = in->raw + in->raw_pos;
    size_t avail = in->raw_len - in->raw_pos;
    if (avail >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        in->codec = SL_CODEC_GZIP;
        if (inflateInit2(&in->zs, 15 + 16) != Z_OK) {
            rc = SL_ERR(err, -SL_ENOMEM, "%s: cannot start gzip decoder", path);
            goto fail;
        }
        in->zs_init = true;
    } else if (avail >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
        in->codec = SL_CODEC_ZSTD;
        in->zd = ZSTD_createDStream();
        if (in->zd == NULL) {
            rc = SL_ERR(err, -SL_ENOMEM, "%s: cannot start zstd decoder", path);
            goto fail;
        }
        ZSTD_initDStream(in->zd);
        in->zd_last = 1;
    }
    *out = in;
    return SL_OK;
fail:
    sl__error_path(err, path);
    sl_input_close(in);
    return rc;
}

void sl_input_close(struct sl_input *in)
{
    if (in == NULL) {
        return;
    }
    if (in->fd >= 0 && in->fd != STDIN_FILENO) {
        close(in->fd);
    }
    if (in->zs_init) {
        inflateEnd(&in->zs);
    }
    ZSTD_freeDStream(in->zd);
    EVP_MD_CTX_free(in->sha);
    sl__free(in->raw);
    sl__free(in);
}

static int corrupt(struct sl_input *in, struct sl_error *err, const char *what)
{
    SL_ERR(err, -SL_ECORRUPT, "%s: %s (after %llu decoded bytes)", in->path, what,
           (unsigned long long)in->out_total);
    err->byte_off = in->out_total;
    sl__error_path(err, in->path);
    return -SL_ECORRUPT;
}

static int read_gzip(struct sl_input *in, char *buf, size_t cap, size_t *out_n,
                     struct sl_error *err)
{
    size_t got = 0;
    while (got == 0) {
        int rc = fill_raw(in, err);
        if (rc != SL_OK) {
            return rc;
        }
        if (in->raw_pos == in->raw_len) { /* raw eof */
            if (!in->zs_member_done) {
                return corrupt(in, err, "truncated gzip stream");
            }
            break;
        }
        if (in->zs_member_done) {
            /* zero bytes after a complete member are padding (tape blocks,
             * some writers), which gzip itself accepts ("decompression OK,
             * trailing zero bytes ignored"): skipped to the end; anything but
             * zeros after them is not padding */
            if (in->zs_zero_tail || in->raw[in->raw_pos] == 0) {
                in->zs_zero_tail = true;
                while (in->raw_pos < in->raw_len && in->raw[in->raw_pos] == 0) {
                    in->raw_pos++;
                }
                if (in->raw_pos < in->raw_len) {
                    return corrupt(in, err,
                                   "data after the zero padding that ends the "
                                   "gzip stream");
                }
                continue;
            }
            if (in->raw[in->raw_pos] != 0x1f) {
                return corrupt(in, err,
                               "data after the end of the gzip stream (not "
                               "another gzip member)");
            }
            /* another member follows (concatenated gzip) */
            inflateReset(&in->zs);
            in->zs_member_done = false;
        }
        in->zs.next_in = in->raw + in->raw_pos;
        in->zs.avail_in = (uInt)(in->raw_len - in->raw_pos);
        in->zs.next_out = (unsigned char *)buf;
        in->zs.avail_out = (uInt)(cap > 0x40000000u ? 0x40000000u : cap);
        int z = inflate(&in->zs, Z_NO_FLUSH);
        in->raw_pos = in->raw_len - in->zs.avail_in;
        got = (size_t)((char *)in->zs.next_out - buf);
        if (z == Z_STREAM_END) {
            in->zs_member_done = true;
        } else if (z == Z_BUF_ERROR && got == 0 && in->zs.avail_in == 0) {
            continue; /* needs more raw input */
        } else if (z != Z_OK) {
            return corrupt(in, err, in->zs.msg ? in->zs.msg : "corrupt gzip data");
        }
    }
    *out_n = got;
    return SL_OK;
}

static int read_zstd(struct sl_input *in, char *buf, size_t cap, size_t *out_n,
                     struct sl_error *err)
{
    size_t got = 0;
    while (got == 0) {
        int rc = fill_raw(in, err);
        if (rc != SL_OK) {
            return rc;
        }
        if (in->raw_pos == in->raw_len) {
            if (in->zd_last != 0) {
                return corrupt(in, err, "truncated zstd stream");
            }
            break;
        }
        ZSTD_inBuffer ib = {in->raw, in->raw_len, in->raw_pos};
        ZSTD_outBuffer ob = {buf, cap, 0};
        size_t r = ZSTD_decompressStream(in->zd, &ob, &ib);
        if (ZSTD_isError(r)) {
            return corrupt(in, err, ZSTD_getErrorName(r));
        }
        in->zd_last = r;
        in->raw_pos = ib.pos;
        got = ob.pos;
    }
    *out_n = got;
    return SL_OK;
}

static int read_decoded(struct sl_input *in, char *buf, size_t cap, size_t *out_n,
                        struct sl_error *err)
{
    *out_n = 0;
    if (in->codec == SL_CODEC_GZIP) {
        return read_gzip(in, buf, cap, out_n, err);
    }
    if (in->codec == SL_CODEC_ZSTD) {
        return read_zstd(in, buf, cap, out_n, err);
    }
    int rc = fill_raw(in, err);
    if (rc == SL_OK) {
        size_t n = in->raw_len - in->raw_pos;
        if (n > cap) {
            n = cap;
        }
        memcpy(buf, in->raw + in->raw_pos, n);
        in->raw_pos += n;
        *out_n = n;
    }
    return rc;
}

const char *sl_input_sniff_encoding(const void *p, size_t n, bool *out_bom)
{
    const unsigned char *b = p;
    *out_bom = true;
    if (n >= 4 && b[0] == 0xFF && b[1] == 0xFE && b[2] == 0 && b[3] == 0) {
        return "UTF-32LE";
    }
    if (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF) {
        return "UTF-32BE";
    }
    if (n >= 2 && b[0] == 0xFF && b[1] == 0xFE) {
        return "UTF-16LE";
    }
    if (n >= 2 && b[0] == 0xFE && b[1] == 0xFF) {
        return "UTF-16BE";
    }
    *out_bom = false;
    if (n < 4) {
        return NULL;
    }
    /* No BOM: ASCII text in these encodings has NULs at fixed places. UTF-8
     * text never starts so (a NUL is no character of NDJSON or CSV text). */
    if (b[0] != 0 && b[1] == 0 && b[2] == 0 && b[3] == 0) {
        return "UTF-32LE";
    }
    if (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] != 0) {
        return "UTF-32BE";
    }
    if (b[0] != 0 && b[1] == 0 && b[2] != 0 && b[3] == 0) {
        return "UTF-16LE";
    }
    if (b[0] == 0 && b[1] != 0 && b[2] == 0 && b[3] != 0) {
        return "UTF-16BE";
    }
    return NULL;
}

/* -SL_ECORRUPT when the first decoded bytes are UTF-16 or UTF-32 text: say
 * which, how it shows, and how to convert the file (decompressing it first
 * when it is compressed: codec). */
static int check_encoding(const char *path, enum sl_codec codec,
                          const unsigned char *p, size_t n,
                          struct sl_error *err)
{
    bool bom = false;
    const char *enc = sl_input_sniff_encoding(p, n, &bom);
    if (enc == NULL) {
        return SL_OK;
    }
    char how[64];
    if (bom) {
        snprintf(how, sizeof(how), "it starts with the byte order mark %s",
                 strcmp(enc, "UTF-32LE") == 0   ? "FF FE 00 00"
                 : strcmp(enc, "UTF-32BE") == 0 ? "00 00 FE FF"
                 : strcmp(enc, "UTF-16LE") == 0 ? "FF FE"
                                                : "FE FF");
    } else {
        snprintf(how, sizeof(how), "NUL bytes between its ASCII characters");
    }
    const char *unz = codec == SL_CODEC_GZIP   ? "gzip -dc"
                      : codec == SL_CODEC_ZSTD ? "zstd -dc"
                                               : NULL;
    if (strcmp(path, "-") == 0) {
        SL_ERR(err, -SL_ECORRUPT,
               "standard input is %s text (%s), not UTF-8: convert it first, "
               "e.g. %s%siconv -f %s -t UTF-8%s | sluice ... -",
               enc, how, unz ? unz : "", unz ? " FILE | " : "", enc,
               unz ? "" : " FILE");
    } else if (unz != NULL) {
        SL_ERR(err, -SL_ECORRUPT,
               "%s is %s text (%s) once decompressed, not UTF-8: convert it "
               "first, e.g. %s %s | iconv -f %s -t UTF-8 > %s.utf8",
               path, enc, how, unz, path, enc, path);
    } else {
        SL_ERR(err, -SL_ECORRUPT,
               "%s is %s text (%s), not UTF-8: convert it first, e.g. "
               "iconv -f %s -t UTF-8 %s > %s.utf8",
               path, enc, how, enc, path, path);
    }
    sl__error_path(err, path);
    return -SL_ECORRUPT;
}

/* A UTF-8 BOM at the very start is dropped (U11) and sl_input_had_bom then
 * says so (callers that report file positions add it back); UTF-16 and UTF-32
 * text is refused. The first four decoded bytes are gathered into in->head
 * first, so the marks are found however the caller's cap, the gzip members,
 * zstd frames or pipe reads split them. */
static int check_bom(struct sl_input *in, struct sl_error *err)
{
    while (in->head_len < sizeof(in->head)) {
        size_t n = 0;
        int rc = read_decoded(in, (char *)in->head + in->head_len,
                              sizeof(in->head) - in->head_len, &n, err);
        if (rc != SL_OK) {
            return rc;
        }
        if (n == 0) {
            break;
        }
        in->head_len += n;
    }
    in->bom_checked = true;
    int rc = check_encoding(in->path, in->codec, in->head, in->head_len, err);
    if (rc != SL_OK) {
        return rc;
    }
    if (in->head_len >= 3 && memcmp(in->head, "\xEF\xBB\xBF", 3) == 0) {
        in->had_bom = true;
        in->head_pos = 3;
    }
    return SL_OK;
}

int sl_input_read(struct sl_input *in, char *buf, size_t cap, size_t *out_n,
                  struct sl_error *err)
{
    *out_n = 0;
    int rc;
    size_t n = 0;
    if (!in->bom_checked && (rc = check_bom(in, err)) != SL_OK) {
        return rc;
    }
    if (in->head_pos < in->head_len) {
        n = in->head_len - in->head_pos;
        if (n > cap) {
            n = cap;
        }
        memcpy(buf, in->head + in->head_pos, n);
        in->head_pos += n;
    } else if ((rc = read_decoded(in, buf, cap, &n, err)) != SL_OK) {
        return rc;
    }
    in->out_total += n;
    *out_n = n;
    return SL_OK;
}

enum sl_codec sl_input_codec(const struct sl_input *in)
{
    return in->codec;
}

uint64_t sl_input_raw_bytes(const struct sl_input *in)
{
    return in->raw_total;
}

uint64_t sl_input_total_size(const struct sl_input *in)
{
    return in->file_size;
}

bool sl_input_had_bom(const struct sl_input *in)
{
    return in->had_bom;
}

static void hex_digest(EVP_MD_CTX *ctx, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * len] = '\0';
}

void sl_input_fingerprint(struct sl_input *in, char *out)
{
    EVP_MD_CTX *copy = in->sha ? EVP_MD_CTX_new() : NULL;
    if (copy == NULL || EVP_MD_CTX_copy_ex(copy, in->sha) != 1) {
        out[0] = '\0';
        EVP_MD_CTX_free(copy);
        return;
    }
    hex_digest(copy, out);
    EVP_MD_CTX_free(copy);
}

struct sl_sha256 {
    EVP_MD_CTX *ctx;
};

struct sl_sha256 *sl_sha256_new(void)
{
    struct sl_sha256 *h = sl__malloc(sizeof(*h));
    if (h == NULL) {
        return NULL;
    }
    h->ctx = EVP_MD_CTX_new();
    if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        sl__free(h);
        return NULL;
    }
    return h;
}

void sl_sha256_update_map(struct sl_sha256 *h, const char *map, size_t n)
{
    /* In 8 MB slices, dropping each slice's pages once hashed: the page cache
     * keeps them, but they no longer count in this process's resident memory. */
    const size_t slice = 8u << 20;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (size_t done = 0; done < n;) {
        size_t k = n - done < slice ? n - done : slice;
        EVP_DigestUpdate(h->ctx, map + done, k);
        uintptr_t from = (uintptr_t)(map + done);
        if (from % page == 0 && k == slice) {
            madvise((void *)from, k, MADV_DONTNEED);
        }
        done += k;
    }
}

void sl_sha256_final_hex(struct sl_sha256 *h, char *out)
{
    hex_digest(h->ctx, out);
}

void sl_sha256_free(struct sl_sha256 *h)
{
    if (h != NULL) {
        EVP_MD_CTX_free(h->ctx);
        sl__free(h);
    }
}

int sl_input_map(const char *path, const char **out_map, size_t *out_len,
                 size_t *out_bom_size, struct sl_error *err)
{
    *out_map = NULL;
    *out_len = 0;
    *out_bom_size = 0;
    if (strcmp(path, "-") == 0) {
        return SL_OK;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        SL_ERR(err, -SL_EIO, "%s: cannot open: %s", path, strerror(e));
        sl__error_path(err, path);
        return -SL_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 4) {
        close(fd);
        return SL_OK;
    }
    size_t len = (size_t)st.st_size;
    const unsigned char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        return SL_OK; /* fall back to streaming */
    }
    if ((m[0] == 0x1f && m[1] == 0x8b) ||
        (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)) {
        munmap((void *)m, len);
        return SL_OK;
    }
    int rc = check_encoding(path, SL_CODEC_NONE, m, len, err);
    if (rc != SL_OK) {
        munmap((void *)m, len);
        return rc;
    }
    madvise((void *)m, len, MADV_SEQUENTIAL);
    size_t bom = (memcmp(m, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
    *out_map = (const char *)m + bom;
    *out_len = len - bom;
    *out_bom_size = bom;
    return SL_OK;
}

void sl_input_unmap(const char *map, size_t len, size_t bom_size)
{
    if (map != NULL) {
        munmap((void *)(map - bom_size), len + bom_size);
    }
}

int sl_sha256_fd(int fd, char out[65], struct sl_error *err)
{
    enum { CAP = 1 << 18 };
    unsigned char *buf = sl__malloc(CAP);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = SL_OK;
    if (buf == NULL || ctx == NULL ||
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = SL_ERR(err, -SL_ENOMEM, "out of memory hashing a file");
    }
    for (off_t off = 0; rc == SL_OK;) {
        ssize_t n = pread(fd, buf, CAP, off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int e = errno;
            rc = SL_ERR(err, -SL_EIO, "read error: %s", strerror(e));
            break;
        }
        if (n == 0) {
            break;
        }
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        off += n;
    }
    if (rc == SL_OK) {
        static const char h[] = "0123456789abcdef";
        unsigned char md[32];
        unsigned int len = 0;
        EVP_DigestFinal_ex(ctx, md, &len);
        for (int i = 0; i < 32; i++) {
            out[2 * i] = h[md[i] >> 4];
            out[2 * i + 1] = h[md[i] & 15];
        }
        out[64] = '\0';
    }
    EVP_MD_CTX_free(ctx);
    sl__free(buf);
    return rc;
}

int sl_input_check_text(const char *path, const void *p, size_t n,
                        struct sl_error *err)
{
    return check_encoding(path, SL_CODEC_NONE, p, n, err);
}
