/* csv_int.h - CSV reader internals shared by csv.c and csvindex.c; not for use
 * outside src/parse/. parse stage. */
#ifndef SL_PARSE_CSV_INT_H
#define SL_PARSE_CSV_INT_H

#include "core/common.h"
#include "parse/csv.h"

/* Double c->fields (the first array holds 16). 0 or -SL_ENOMEM. */
SL_NODISCARD int sl__csv_grow_fields(struct sl_csv *c);
/* The text of a quoted field [from, to) with each doubled quote qb kept once,
 * appended to c->scratch; f->p stays NULL until sl__csv_finish_record. False
 * on allocation failure. */
SL_NODISCARD bool sl__csv_put_unescaped(struct sl_csv *c, struct sl_csv_field *f,
                                        const unsigned char *from, const unsigned char *to,
                                        unsigned char qb);
/* Point the fields built in scratch (p == NULL) at their text. */
void sl__csv_finish_record(struct sl_csv *c);
/* Which mask builder sl_csv_index uses, for tests: -1 the best the CPU has (the
 * default), 0 SSE2 (or plain C without SSE2), 1 AVX2, 2 AVX-512 (BW, VL, VBMI2,
 * with BMI2 and PCLMUL), each if the CPU has it (else 0). Returns the one now in
 * use. Not thread-safe: set it before indexing. */
int sl__csv_index_isa(int want);

#endif
