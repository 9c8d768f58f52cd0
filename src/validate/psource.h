/* psource.h - one plain file validated by several threads at once. The file is
 * mapped and cut into parts of about 8 MB at line breaks; each thread opens a
 * cursor and pulls rows from it, parts being handed out in file order to whichever
 * cursor asks next. Rows therefore reach the sinks in no global order; counts and
 * rejects are merged in file order at the end (sl_psource_finish), with the same
 * line numbers, byte offsets and record numbers a one-thread pass gives.
 * validate stage. */
#ifndef SL_VALIDATE_PSOURCE_H
#define SL_VALIDATE_PSOURCE_H

#include "core/common.h"
#include "core/error.h"
#include "schema/schema.h"
#include "validate/row.h"
#include "validate/validator.h"

struct sl_psource;
struct sl_pcursor;

/* Map path and plan its parts. Returns SL_OK with *out = NULL when the file cannot
 * be split: compressed, not a regular file, under 1 MB, or CSV that allows quoted
 * newlines (a line break may then sit inside a record). o->progress is called as
 * parts finish, from the cursors' threads, never two calls at once.
 * With o->fingerprint, the SHA-256 of the file is taken on a thread of its own
 * while the cursors run. On an error (ENOMEM, an unreadable CSV header, the
 * file changed) *out stays NULL: nothing is left to close. */
SL_NODISCARD int sl_psource_open(const struct sl_table *t, const struct sl_vopts *o,
                                 const char *path, struct sl_psource **out,
                                 struct sl_error *err);
/* A cursor for one thread: its own validator, created from the plan the source
 * compiled once in sl_psource_open (so a cursor costs no compile). */
SL_NODISCARD int sl_pcursor_open(struct sl_psource *s, struct sl_pcursor **out,
                                 struct sl_error *err);
/* Validate rows, handing valid ones to rows (NULL: count only), until the sink
 * returns SL_ROW_PAUSE (*done = false: call again for more) or no part is left
 * (*done = true). Cursors of one source may run on different threads at once. On
 * an error (err set) the other cursors stop at their next call. */
SL_NODISCARD int sl_pcursor_next(struct sl_pcursor *c, const struct sl_row_sink *rows,
                                 bool *done, struct sl_error *err);
void sl_pcursor_close(struct sl_pcursor *c); /* NULL ok */
/* Once every cursor is done (or closed): totals, raw size and fingerprint into st,
 * and the rejects to the sink in file order. */
SL_NODISCARD int sl_psource_finish(struct sl_psource *s, const struct sl_reject_sink *rejects,
                                   struct sl_file_stats *st, struct sl_error *err);
void sl_psource_close(struct sl_psource *s); /* NULL ok; waits for the hash thread */
/* Did a cursor fail (its error was returned to its caller)? The totals are
 * then those of the parts read. */
bool sl_psource_failed(struct sl_psource *s);

#endif
