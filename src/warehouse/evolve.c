/* evolve.c - a registry against a warehouse, for any driver: read what the
 * warehouse holds once, diff each table (schema/plan.c), decide which tables
 * change, and hand those to the driver's one-transaction apply. warehouse
 * stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "warehouse/evolve.h"

#include <string.h>

void sl_wh_table_state_release(struct sl_wh_table_state *st)
{
    if (st == NULL) {
        return;
    }
    sl_table_destroy(st->have);
    sl__free(st->drift);
    sl__free(st->foreign);
    memset(st, 0, sizeof(*st));
}

void sl_evolve_release(struct sl_evolve *ev)
{
    if (ev == NULL) {
        return;
    }
    for (size_t i = 0; i < ev->n_tables; i++) {
        sl_plan_release(&ev->tables[i].plan);
        sl_wh_table_state_release(&ev->tables[i].st);
    }
    sl__free(ev->tables);
    memset(ev, 0, sizeof(*ev));
}

/* Plan one table from its state. */
static int plan_one(struct sl_evolve_table *et, bool allow_unsafe,
                    struct sl_error *err)
{
    const struct sl_wh_table_state *st = &et->st;
    int rc;
    if (st->foreign != NULL) {
        /* nothing Sluice can diff against: one blocked change says why */
        rc = sl_plan_diff(et->want, et->want, &et->plan, err);
        rc = rc == SL_OK ? sl_plan_add_drift(&et->plan, "") : rc;
        if (rc != SL_OK) {
            return rc;
        }
        struct sl_change *ch = &et->plan.changes[0];
        struct sl_buf what;
        sl__buf_init(&what);
        /* (a table that does not exist: the warehouse cannot hold the
         * definition, e.g. ClickHouse and two REPEATED fields in a RECORD) */
        char *reason = sl__strdup(
            st->exists ? "Sluice cannot read the table as a definition, so "
                         "it cannot plan changes to it"
                       : "this warehouse cannot hold the definition as it "
                         "is");
        char *advice = sl__strdup(
            st->exists ? "convert or move the column with SQL (or load into "
                         "another table); Sluice only changes tables whose "
                         "every column has a type a definition maps to "
                         "(docs/TYPES.md)"
                       : "change the definition, or load the table into "
                         "another warehouse (docs/TYPES.md says what each "
                         "warehouse holds)");
        int brc = st->drift != NULL
                      ? sl__buf_printf(&what, "changed outside Sluice: %s; %s",
                                       st->drift, st->foreign)
                      : sl__buf_printf(&what, "%s", st->foreign);
        if (reason == NULL || advice == NULL || brc != SL_OK) {
            sl__free(reason);
            sl__free(advice);
            sl__buf_release(&what);
            return SL_ERR(err, -SL_ENOMEM, "out of memory while planning");
        }
        sl__free(ch->what);
        sl__free(ch->reason);
        sl__free(ch->advice);
        ch->what = what.data; /* the buffer's text is a sl__malloc string */
        ch->reason = reason;
        ch->advice = advice;
        ch->blocked = true;
        et->plan.n_blocked++;
        et->status = SL_EV_REFUSED;
        return SL_OK;
    }
    const struct sl_table *have =
        !st->exists ? NULL : (st->same ? et->want : st->have);
    if (st->same) {
        /* recorded as wanted and the catalog agrees: nothing to diff */
        memset(&et->plan, 0, sizeof(et->plan));
        et->plan.have = et->plan.want = et->want;
        rc = SL_OK;
    } else {
        rc = sl_plan_diff(have, et->want, &et->plan, err);
    }
    if (rc == SL_OK && st->drift != NULL) {
        rc = sl_plan_add_drift(&et->plan, st->drift);
    }
    if (rc != SL_OK) {
        return rc;
    }
    const struct sl_plan *p = &et->plan;
    if (p->n_blocked > 0 || (p->n_unsafe > 0 && !allow_unsafe)) {
        et->status = SL_EV_REFUSED;
    } else if (!st->exists) {
        et->status = SL_EV_CREATE;
    } else if (p->n_changes > 0) {
        et->status = SL_EV_CHANGE;
    } else {
        et->status = SL_EV_UNCHANGED;
        et->record_only = !st->recorded;
    }
    return SL_OK;
}

int sl_evolve_plan(const struct sl_wh_ops *ops, struct sl_wh *wh,
                   const struct sl_registry *reg, unsigned flags,
                   struct sl_evolve *out, struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    out->allow_unsafe = (flags & SL_WH_ALLOW_UNSAFE) != 0;
    if (ops->schema_read == NULL || ops->schema_apply == NULL) {
        return SL_ERR(err, -SL_EUSAGE,
                      "the %s driver cannot plan schema changes", ops->scheme);
    }
    size_t n = reg->n_tables;
    if (n == 0) {
        return SL_OK;
    }
    out->tables = sl__calloc(n, sizeof(*out->tables));
    struct sl_wh_table_state *st = sl__calloc(n, sizeof(*st));
    if (out->tables == NULL || st == NULL) {
        sl__free(st);
        return SL_ERR(err, -SL_ENOMEM, "out of memory while planning");
    }
    out->n_tables = n;
    int rc = ops->schema_read(wh, (const struct sl_table *const *)reg->tables,
                              n, st, err);
    for (size_t i = 0; i < n; i++) {
        out->tables[i].want = reg->tables[i];
        out->tables[i].st = st[i]; /* ownership moves, also on failure */
    }
    sl__free(st);
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        struct sl_evolve_table *et = &out->tables[i];
        rc = plan_one(et, out->allow_unsafe, err);
        out->n_create += et->status == SL_EV_CREATE;
        out->n_change += et->status == SL_EV_CHANGE;
        out->n_unchanged += et->status == SL_EV_UNCHANGED;
        out->n_refused += et->status == SL_EV_REFUSED;
    }
    return rc;
}

static int registry_unchanged(void *ud, struct sl_error *err)
{
    const struct sl_registry *reg = ud;
    bool changed = false;
    int rc = sl_registry_changed(reg, &changed, err);
    if (rc == SL_OK && changed) {
        rc = SL_ERR(err, -SL_ESCHEMA,
                    "definitions under %s changed while applying; nothing "
                    "was applied: run `sluice schema plan` again",
                    reg->dir);
    }
    return rc;
}

int sl_evolve_apply(const struct sl_wh_ops *ops, struct sl_wh *wh,
                    const struct sl_evolve *ev, const struct sl_registry *reg,
                    size_t *out_applied, struct sl_error *err)
{
    *out_applied = 0;
    const struct sl_plan **plans = sl__calloc(ev->n_tables + 1, sizeof(*plans));
    if (plans == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory while applying");
    }
    size_t n = 0, applied = 0;
    for (size_t i = 0; i < ev->n_tables; i++) {
        const struct sl_evolve_table *et = &ev->tables[i];
        bool change = et->status == SL_EV_CREATE || et->status == SL_EV_CHANGE;
        if (change || et->record_only) {
            plans[n++] = &et->plan;
            applied += change;
        }
    }
    struct sl_wh_apply_opts o = {
        .flags = ev->allow_unsafe ? SL_WH_ALLOW_UNSAFE : 0,
        .before_commit = reg != NULL ? registry_unchanged : NULL,
        .ud = (void *)reg,
    };
    int rc = n > 0 ? ops->schema_apply(wh, plans, n, &o, err) : SL_OK;
    sl__free(plans);
    if (rc == SL_OK) {
        *out_applied = applied;
    }
    return rc;
}
