/* evolve.h - schema evolution against a warehouse, backend-neutral: what the
 * driver ops schema_read / schema_apply / schema_update_in_tx exchange, and
 * sl_evolve_plan / sl_evolve_apply, which take a whole registry from the
 * warehouse's state to its definitions (`sluice schema plan` and `apply`;
 * docs/EVOLUTION.md). warehouse stage. */
#ifndef SL_WAREHOUSE_EVOLVE_H
#define SL_WAREHOUSE_EVOLVE_H

#include "core/buf.h"
#include "core/common.h"
#include "core/error.h"
#include "schema/plan.h"
#include "schema/schema.h"
#include "warehouse/driver.h"

/* ---- what the driver ops exchange --------------------------------------- */

/* One table as the warehouse holds it (filled by ops->schema_read). */
struct sl_wh_table_state {
    bool exists;           /* the table is in the warehouse */
    bool same;             /* it is exactly the wanted definition (recorded
                              with the same fingerprint, catalog agreeing):
                              `have` is NULL, the want itself stands for it */
    struct sl_table *have; /* the definition it has now; owned, NULL when
                              absent or `same` */
    bool recorded;         /* the warehouse holds a record of the definition
                              last applied (else it is read from the catalog) */
    char *drift;   /* owned; how the table differs from its record (changed
                      outside Sluice), NULL when it does not */
    char *foreign; /* owned; why Sluice cannot take the table as it is (a
                      column type no definition maps to), NULL normally */
};

/* Free what st owns; NULL is a no-op. */
void sl_wh_table_state_release(struct sl_wh_table_state *st);

#define SL_WH_ALLOW_UNSAFE         1u /* schema_apply: unsafe changes too */
#define SL_WH_ALLOW_FIELD_ADDITION 1u /* schema_update_in_tx: new fields */
#define SL_WH_ALLOW_FIELD_RELAXATION                                           \
    2u /* schema_update_in_tx: REQUIRED to                                     \
          NULLABLE */

/* How ops->schema_apply runs. */
struct sl_wh_apply_opts {
    unsigned flags; /* SL_WH_ALLOW_UNSAFE */
    /* Called after the last change, before the commit; a non-zero return
     * rolls everything back and is returned (err set by the hook). NULL: no
     * hook. */
    int (*before_commit)(void *ud, struct sl_error *err);
    void *ud;
};

/* The ops' contracts (struct sl_wh_ops in driver.h):
 *
 * schema_read(wh, want, n, out, err): for each want[i], fill out[i] (zeroed by
 *   the caller) with what the warehouse holds under want[i]'s dataset.table.
 *   The catalog and the records of applied definitions are read once for all
 *   n tables. A table whose columns differ from its record gets `drift`; one
 *   without a record is described from the catalog, taking from want[i] what
 *   the catalog cannot say (descriptions, and types stored alike) when the
 *   stored form agrees. Errors: -SL_EWAREHOUSE (catalog unreadable),
 *   -SL_ENOMEM; out[] entries filled so far must still be released.
 *   Refused during a load (wh has one in progress).
 *
 * schema_apply(wh, plans, n, opts, err): in one transaction, take each
 *   plans[i]->want's table from plans[i]->have (NULL: create it) to
 *   plans[i]->want, record want as its applied definition and each change in
 *   the history. A plan holding an unsafe change is applied only with
 *   SL_WH_ALLOW_UNSAFE, and a blocked change never: both are -SL_ESCHEMA
 *   before anything runs. Any failure rolls back: the warehouse is as it was.
 *   Plans with no change only record the definition (a table created before
 *   records were kept). Refused during a load.
 *
 * schema_update_in_tx(wh, t, allow, out_applied, err): for the load path
 *   (BigQuery's schemaUpdateOptions). Inside the transaction the caller has
 *   open on wh (a load's, after its BEGIN and before it appends), make t's
 *   table match t using only additions of NULLABLE/REPEATED fields
 *   (SL_WH_ALLOW_FIELD_ADDITION) and REQUIRED-to-NULLABLE relaxations
 *   (SL_WH_ALLOW_FIELD_RELAXATION); description and option changes ride
 *   along. The new definition and the history are written in the same
 *   transaction. Anything else (a type change, a drop, a new REQUIRED
 *   column, drift, a missing table) is -SL_ESCHEMA naming the first such
 *   change, with nothing done; a warehouse failure is -SL_EWAREHOUSE. Either
 *   way the caller rolls back. Never BEGINs, COMMITs or ROLLBACKs itself.
 *   *out_applied is the number of changes made (0: already equal). */

/* ---- a whole registry --------------------------------------------------- */

enum sl_evolve_status {
    SL_EV_UNCHANGED, /* nothing to do (maybe a record to write) */
    SL_EV_CREATE,    /* the table is created */
    SL_EV_CHANGE,    /* safe changes (or unsafe ones, allowed) are applied */
    SL_EV_REFUSED,   /* unsafe or blocked changes: left as it is */
};

struct sl_evolve_table {
    const struct sl_table *want; /* borrowed from the registry */
    struct sl_wh_table_state st; /* owned */
    struct sl_plan plan;         /* owned */
    enum sl_evolve_status status;
    bool record_only; /* unchanged, but its definition is not recorded yet */
};

struct sl_evolve {
    struct sl_evolve_table *tables; /* owned, in registry order */
    size_t n_tables;
    size_t n_create, n_change, n_unchanged, n_refused;
    bool allow_unsafe; /* planned with SL_WH_ALLOW_UNSAFE */
};

/* Plan every table of reg against the warehouse: one ops->schema_read for all
 * of them, then sl_plan_diff per table. flags: SL_WH_ALLOW_UNSAFE lets unsafe
 * (not blocked) changes count as applicable. *out must be released with
 * sl_evolve_release, also after a failure. -SL_EUSAGE when the driver has no
 * schema evolution, -SL_EWAREHOUSE, -SL_ENOMEM. */
SL_NODISCARD int sl_evolve_plan(const struct sl_wh_ops *ops, struct sl_wh *wh,
                                const struct sl_registry *reg, unsigned flags,
                                struct sl_evolve *out, struct sl_error *err);

/* Apply every table of ev whose status is CREATE or CHANGE (and record the
 * definitions of record_only ones) in one ops->schema_apply transaction.
 * When reg is non-NULL, the transaction is rolled back if its definition
 * files changed since it was loaded (-SL_ESCHEMA: "... changed while
 * applying"). *out_applied counts the tables created or changed. */
SL_NODISCARD int sl_evolve_apply(const struct sl_wh_ops *ops, struct sl_wh *wh,
                                 const struct sl_evolve *ev,
                                 const struct sl_registry *reg,
                                 size_t *out_applied, struct sl_error *err);

void sl_evolve_release(struct sl_evolve *ev);

#endif
