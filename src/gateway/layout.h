/* layout.h - a gateway folder: its staged folders, how a file is named in
 * each, the atomic moves between them, the .error.json beside a failed file,
 * and `sluice init`. gateway stage.
 *
 *   raw/ transformed/ cloud_ready/ sent/ failed/ quarantine/ schemas/
 *   .sluice/ledger.db .sluice/lock sluice.json
 *
 * Paths handed around are relative to the gateway folder ("raw/t/a.json");
 * every move is a rename(2) inside it, so it is atomic. */
#ifndef SL_GATEWAY_LAYOUT_H
#define SL_GATEWAY_LAYOUT_H

#include "core/common.h"
#include "core/error.h"

#include <stddef.h>

#define SL_GW_PATH 4096

/* Create the folders, sluice.json and an empty registry in dir (which may
 * exist; nothing in it is overwritten: an existing sluice.json is kept).
 * example: also the reference platform's three tables and a few sample
 * files in raw/. */
SL_NODISCARD int sl_gw_init(const char *dir, bool example,
                            struct sl_error *err);

/* Is a name under raw/ one a producer is still writing? (a component that
 * starts with '.', or a name ending in .tmp, .part or .partial) */
bool sl_gw_name_hidden(const char *name);

/* Has some process the file at path open for writing? (a producer writing
 * straight into raw/ instead of renaming in). Asked with a read lease,
 * which the kernel refuses while the file has a writer; false when it
 * cannot tell (a file of another owner, a file system without leases). */
bool sl_gw_open_for_writing(const char *path);

/* The table folder of a raw name: its first component ("t" of "t/x/a.json"),
 * copied into out; false when the file sits directly in raw/. */
bool sl_gw_table_dir(const char *raw_name, char *out, size_t size);

/* "<id>-<base>" for a file's later names: base is the raw name's last
 * component; "<id>r-<base>" for a file a rule routed (a ledger rebuilt from
 * the folders must not take it for one of its folder's table). */
void sl_gw_staged_name(int64_t id, const char *raw_name, bool ruled, char *out,
                       size_t size);

/* "sent/<yyyy>/<mm>/<dd>/<table>/<name>" for the UTC day of when_us. */
void sl_gw_sent_path(int64_t when_us, const char *table, const char *name,
                     char *out, size_t size);

/* The temporary name a file is written under before its rename to rel: the
 * same folder, ".<base>.sluice-tmp". */
void sl_gw_tmp_path(const char *rel, char *out, size_t size);

/* Rename root/from to root/to, creating to's folders. -SL_ENOTFOUND when
 * from does not exist (and to does not either), SL_OK when from is gone but
 * to exists (a move a crash already made), -SL_ENOSPC, -SL_EIO. */
SL_NODISCARD int sl_gw_move(const char *root, const char *from, const char *to,
                            struct sl_error *err);

/* Hard-link root/from as root/to too, creating to's folders: how a file
 * feeding several destinations (fan-out) leaves raw/, once per route; the
 * last route's service unlinks raw/. SL_OK when to exists already (a link a
 * crash already made), -SL_ENOTFOUND when neither exists, -SL_ENOSPC,
 * -SL_EIO. */
SL_NODISCARD int sl_gw_link(const char *root, const char *from, const char *to,
                            struct sl_error *err);

/* snprintf for paths: false (out truncated) when the result does not fit. */
bool sl_gw_pathf(char *out, size_t size, const char *fmt, ...) SL_PRINTF(3, 4);

/* root "/" rel into out ("" if it does not fit). */
void sl_gw_abs(const char *root, const char *rel, char *out, size_t size);

/* Does root/rel exist? */
bool sl_gw_exists(const char *root, const char *rel);

/* Create root/rel's parent folders. */
SL_NODISCARD int sl_gw_mkdirs(const char *root, const char *rel,
                              struct sl_error *err);

/* Write root/<rel>.error.json (atomically: temporary file, then rename):
 * {"file", "table", "class", "code", "message", "attempts", "first_try",
 * "last_try"}. Times are microseconds since the epoch, written as RFC 3339. */
struct sl_gw_failure {
    const char *raw_name, *table, *err_class, *code, *message;
    int attempts;
    int64_t first_us, last_us;
};
SL_NODISCARD int sl_gw_write_error(const char *root, const char *rel,
                                   const struct sl_gw_failure *f,
                                   struct sl_error *err);

/* "2026-12-02T15:04:05.123456Z" */
void sl_gw_time_text(int64_t us, char *out, size_t size);
int64_t sl_gw_now_us(void);

#endif
