/* schema_out.c - a schema plan as people read it (text) and as programs read
 * it (one JSON document, docs/EVOLUTION.md). cli. */
#include "core/common.h"

#include "cli/schema_cli.h"
#include "core/buf.h"
#include "schema/plan.h"

#include <string.h>

/* ---- text ------------------------------------------------------------------
 */

static const char *mark(const struct sl_change *c)
{
    if (!c->safe) {
        return "!";
    }
    return c->kind == SL_CH_CREATE || c->kind == SL_CH_ADD ? "+" : "~";
}

static void print_changes(const struct sl_plan *p, FILE *f, bool why)
{
    for (size_t i = 0; i < p->n_changes; i++) {
        const struct sl_change *c = &p->changes[i];
        if (c->kind == SL_CH_CREATE) {
            continue;
        }
        fprintf(f, "  %s %s%s\n", mark(c), c->what,
                c->blocked ? "  (unsafe; not possible in place)"
                : !c->safe ? "  (unsafe)"
                           : "");
        if (why && !c->safe) {
            fprintf(f, "      why: %s\n      do:  %s\n", c->reason, c->advice);
        }
    }
}

size_t schema_count_files(const char *problems)
{
    size_t n = 0;
    const char *prev = NULL;
    size_t prev_len = 0;
    for (const char *l = problems; l != NULL && *l != '\0';) {
        const char *nl = strchr(l, '\n');
        const char *end = strstr(l, ".json: ");
        size_t len =
            end != NULL && (nl == NULL || end < nl) ? (size_t)(end - l) + 5 : 0;
        if (len > 0 &&
            (prev == NULL || len != prev_len || memcmp(prev, l, len) != 0)) {
            n++;
            prev = l;
            prev_len = len;
        }
        l = nl != NULL ? nl + 1 : NULL;
    }
    return n;
}

void schema_print_text(const struct schema_report *r, FILE *out, FILE *err)
{
    const struct sl_evolve *ev = r->ev;
    for (size_t i = 0; ev != NULL && i < ev->n_tables; i++) {
        const struct sl_evolve_table *et = &ev->tables[i];
        const struct sl_table *t = et->want;
        switch (et->status) {
        case SL_EV_CREATE:
            if (!r->quiet) {
                fprintf(out, "%s %s.%s (%zu columns)\n",
                        r->applied ? "created" : "create", t->dataset, t->name,
                        t->root.n_fields);
            }
            break;
        case SL_EV_CHANGE:
            if (!r->quiet) {
                fprintf(out, "%s %s.%s\n", r->applied ? "changed" : "change",
                        t->dataset, t->name);
                print_changes(&et->plan, out, true);
            }
            break;
        case SL_EV_REFUSED:
            fprintf(err, "refused %s.%s: %zu unsafe change%s%s\n", t->dataset,
                    t->name, et->plan.n_unsafe,
                    et->plan.n_unsafe == 1 ? "" : "s",
                    r->applied ? "; the table was left as it is" : "");
            print_changes(&et->plan, err, true);
            break;
        case SL_EV_UNCHANGED:
            break;
        }
    }
    if (r->problems != NULL && r->problems[0] != '\0') {
        fprintf(err, "invalid definitions (%s):\n%s",
                r->applied ? "not applied" : "they would not be applied",
                r->problems);
    }
    size_t n = ev != NULL ? ev->n_tables : 0;
    fprintf(
        out,
        "%zu tables: %zu %s, %zu unchanged, %zu %s, %zu refused; %zu "
        "invalid definitions (%s, %.2f s)\n",
        n, ev != NULL ? ev->n_create : 0, r->applied ? "created" : "to create",
        ev != NULL ? ev->n_unchanged : 0, ev != NULL ? ev->n_change : 0,
        r->applied ? "changed" : "to change", ev != NULL ? ev->n_refused : 0,
        r->n_invalid, r->warehouse, r->seconds);
}

/* ---- JSON
 * -------------------------------------------------------------------- */

static void jstr(FILE *f, const char *s)
{
    struct sl_buf b;
    sl__buf_init(&b);
    if (s == NULL) {
        fputs("null", f);
    } else if (sl__buf_json_str(&b, s, strlen(s)) == SL_OK) {
        fwrite(b.data, 1, b.len, f);
    } else {
        fputs("\"\"", f);
    }
    sl__buf_release(&b);
}

static void jtype(FILE *f, const struct sl_field *fl)
{
    struct sl_buf b;
    sl__buf_init(&b);
    if (fl != NULL && sl_field_type_text(fl, &b) == SL_OK) {
        jstr(f, b.data);
    } else {
        fputs("null", f);
    }
    sl__buf_release(&b);
}

static const char *status_name(enum sl_evolve_status s)
{
    static const char *const names[] = {
        [SL_EV_UNCHANGED] = "unchanged",
        [SL_EV_CREATE] = "create",
        [SL_EV_CHANGE] = "change",
        [SL_EV_REFUSED] = "refused",
    };
    return names[s];
}

static void json_change(FILE *f, const struct sl_change *c)
{
    fprintf(f, "{\"kind\":\"%s\",\"path\":", sl_change_kind_name(c->kind));
    jstr(f, c->path);
    fprintf(f,
            ",\"safe\":%s,\"blocked\":%s,\"what\":", c->safe ? "true" : "false",
            c->blocked ? "true" : "false");
    jstr(f, c->what);
    fputs(",\"from\":", f);
    jtype(f, c->from);
    fputs(",\"to\":", f);
    jtype(f, c->to);
    fputs(",\"reason\":", f);
    jstr(f, c->reason);
    fputs(",\"advice\":", f);
    jstr(f, c->advice);
    fputc('}', f);
}

static void json_table(FILE *f, const struct sl_evolve_table *et)
{
    char name[2100];
    snprintf(name, sizeof(name), "%s.%s", et->want->dataset, et->want->name);
    fputs("{\"table\":", f);
    jstr(f, name);
    fputs(",\"file\":", f);
    jstr(f, et->want->file);
    fprintf(f, ",\"status\":\"%s\",\"exists\":%s,\"recorded\":%s,\"drift\":",
            status_name(et->status), et->st.exists ? "true" : "false",
            et->st.recorded ? "true" : "false");
    jstr(f, et->st.drift != NULL ? et->st.drift : et->st.foreign);
    fputs(",\"changes\":[", f);
    for (size_t i = 0; i < et->plan.n_changes; i++) {
        fputs(i > 0 ? "," : "", f);
        json_change(f, &et->plan.changes[i]);
    }
    fputs("]}", f);
}

static void json_invalid(FILE *f, const char *problems)
{
    bool first = true;
    for (const char *l = problems; l != NULL && *l != '\0';) {
        const char *nl = strchr(l, '\n');
        size_t len = nl != NULL ? (size_t)(nl - l) : strlen(l);
        char line[2048];
        snprintf(line, sizeof(line), "%.*s", (int)len, l);
        char *end = strstr(line, ".json: ");
        fputs(first ? "" : ",", f);
        first = false;
        fputs("{\"file\":", f);
        if (end != NULL) {
            end[5] = '\0';
            jstr(f, line);
            fputs(",\"problem\":", f);
            jstr(f, end + 7);
        } else {
            fputs("null,\"problem\":", f);
            jstr(f, line);
        }
        fputc('}', f);
        l = nl != NULL ? nl + 1 : NULL;
    }
}

void schema_print_json(const struct schema_report *r, FILE *out)
{
    const struct sl_evolve *ev = r->ev;
    size_t unsafe = 0;
    fputs("{\"warehouse\":", out);
    jstr(out, r->warehouse);
    fprintf(out, ",\"applied\":%s,\"tables\":[", r->applied ? "true" : "false");
    for (size_t i = 0; ev != NULL && i < ev->n_tables; i++) {
        fputs(i > 0 ? ",\n" : "\n", out);
        json_table(out, &ev->tables[i]);
        unsafe += ev->tables[i].plan.n_unsafe;
    }
    fputs("],\n\"invalid\":[", out);
    json_invalid(out, r->problems);
    fprintf(out,
            "],\n\"summary\":{\"tables\":%zu,\"create\":%zu,\"change\":%zu,"
            "\"unchanged\":%zu,\"refused\":%zu,\"invalid\":%zu,"
            "\"unsafe_changes\":%zu}}\n",
            ev != NULL ? ev->n_tables : 0, ev != NULL ? ev->n_create : 0,
            ev != NULL ? ev->n_change : 0, ev != NULL ? ev->n_unchanged : 0,
            ev != NULL ? ev->n_refused : 0, r->n_invalid, unsafe);
}
