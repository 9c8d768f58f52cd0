/* input.h - a byte source for the validator: a file or stdin, with gzip and zstd
 * detected by magic bytes (not by name) and decoded on the fly, a UTF-8 BOM
 * stripped, UTF-16/UTF-32 text refused, and a SHA-256 fingerprint of the raw
 * bytes. parse stage. */
#ifndef SL_PARSE_INPUT_H
#define SL_PARSE_INPUT_H

#include "core/common.h"
#include "core/error.h"

enum sl_codec { SL_CODEC_NONE, SL_CODEC_GZIP, SL_CODEC_ZSTD };

struct sl_input;

/* Open path ("-" = standard input); fingerprint = also hash the raw bytes.
 * -SL_EIO with err naming the file if it cannot be opened (or is a directory).
 * Caller closes with sl_input_close. */
SL_NODISCARD int sl_input_open(const char *path, bool fingerprint, struct sl_input **out,
                               struct sl_error *err);
void sl_input_close(struct sl_input *in); /* NULL ok */

/* Read up to cap decoded bytes into buf; *out_n = 0 means end of input.
 * A truncated or corrupt compressed stream, or a read error, is -SL_ECORRUPT /
 * -SL_EIO with err naming the file and the decoded byte offset. Zero bytes
 * after the last gzip member are padding and ignored, as gzip does; other
 * bytes there are -SL_ECORRUPT. Decoded text that starts as UTF-16 or UTF-32
 * (sl_input_sniff_encoding) is -SL_ECORRUPT on the first read, the message
 * naming the encoding and an iconv command that converts the file. */
SL_NODISCARD int sl_input_read(struct sl_input *in, char *buf, size_t cap, size_t *out_n,
                               struct sl_error *err);

/* The encoding the first n bytes of decoded text show when it is one sluice
 * cannot read: "UTF-32LE", "UTF-32BE", "UTF-16LE" or "UTF-16BE", by byte order
 * mark (*out_bom true; FF FE 00 00 is UTF-32LE) or, without one, by the NUL
 * bytes ASCII characters have in those encodings in the first four bytes
 * (*out_bom false). NULL for anything else (UTF-8, Latin-1, binary). Pure. */
const char *sl_input_sniff_encoding(const void *p, size_t n, bool *out_bom);
/* -SL_ECORRUPT (the message naming the encoding and an iconv command) when
 * the first n bytes of plain file path are UTF-16 or UTF-32 text; SL_OK
 * otherwise. For readers that do not go through sl_input_read. */
SL_NODISCARD int sl_input_check_text(const char *path, const void *p, size_t n,
                                     struct sl_error *err);

enum sl_codec sl_input_codec(const struct sl_input *in);
uint64_t sl_input_raw_bytes(const struct sl_input *in);   /* raw bytes read so far */
uint64_t sl_input_total_size(const struct sl_input *in);  /* file size, 0 if unknown (pipe) */
bool sl_input_had_bom(const struct sl_input *in);
/* Hex SHA-256 of the raw bytes; complete only after end of input. out: 65 bytes. */
void sl_input_fingerprint(struct sl_input *in, char *out);

/* Whole-file mapping for parallel validation of plain (uncompressed) regular
 * files: returns SL_OK with *out_map = NULL when the file is compressed, not
 * regular, or empty; -SL_ECORRUPT for UTF-16/32 text, as sl_input_read. Unmap with sl_input_unmap. The BOM is skipped in the
 * returned base (and *out_bom_size says by how much). */
SL_NODISCARD int sl_input_map(const char *path, const char **out_map, size_t *out_len,
                              size_t *out_bom_size, struct sl_error *err);
void sl_input_unmap(const char *map, size_t len, size_t bom_size);
/* SHA-256 of a file mapped by sl_input_map, in steps so that the context is made
 * and freed outside the code that reads the mapping (a file that shrinks under
 * it faults, and the reader's guard jumps out: nothing may be allocated there).
 * sl_sha256_new returns NULL when out of memory. update_map hashes n bytes of
 * the mapping (from map - bom_size, the file's first byte) and releases the
 * pages it hashed from this process. final_hex writes 65 bytes. */
struct sl_sha256;
struct sl_sha256 *sl_sha256_new(void);
void sl_sha256_update_map(struct sl_sha256 *h, const char *map, size_t n);
void sl_sha256_final_hex(struct sl_sha256 *h, char *out);
void sl_sha256_free(struct sl_sha256 *h); /* NULL ok */

/* Hex SHA-256 (65 bytes) of everything fd reads from its start (pread: the
 * file offset is left alone). -SL_EIO naming nothing (the caller knows the
 * file), -SL_ENOMEM. */
SL_NODISCARD int sl_sha256_fd(int fd, char out[65], struct sl_error *err);

#endif
