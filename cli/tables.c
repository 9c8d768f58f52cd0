/* tables.c - which table a validate or load writes to, and its definition:
 * a registry folder (--schemas), one BigQuery schema given as a file or in
 * bq's inline form (--schema, or bq load's positional SCHEMA), or, with
 * --autodetect and no definition, the schema inferred from the inputs. cli. */
#include "core/common.h"

#include "cli/cli.h"
#include "core/buf.h"
#include "validate/infer.h"
#include "warehouse/driver.h"
#include "warehouse/evolve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

int cli_check_schemas_dir(const char *cmd, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        return cli_fail(cmd, -SL_EUSAGE,
                        "--schemas %s: %s (a folder of table "
                        "definitions is expected)",
                        dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        bool one = strcmp(cmd, "validate") == 0 || strcmp(cmd, "load") == 0;
        return cli_fail(cmd, -SL_EUSAGE,
                        "--schemas %s is a file, not a folder of table "
                        "definitions%s%s",
                        dir, one ? "; for one schema file give --schema " : "",
                        one ? dir : "");
    }
    return 0;
}

/* dataset and table of o->table ("main" when no dataset is given). */
static void split_ref(const char *ref, char *ds, size_t ds_size,
                      const char **name)
{
    const char *dot = strchr(ref, '.');
    if (dot == NULL) {
        snprintf(ds, ds_size, "main");
        *name = ref;
    } else {
        snprintf(ds, ds_size, "%.*s", (int)(dot - ref), ref);
        *name = dot + 1;
    }
}

/* bq's inline schema "name[:TYPE],name2[:TYPE2]" (TYPE defaults to STRING,
 * every field NULLABLE: the form cannot say more) as a schema file's JSON. */
static int inline_json(const char *s, struct sl_buf *out)
{
    int rc = sl__buf_append(out, "[", 1);
    bool first = true;
    while (rc == SL_OK && *s != '\0') {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *colon = memchr(s, ':', len);
        size_t nl = colon ? (size_t)(colon - s) : len;
        const char *type = colon ? colon + 1 : "STRING";
        size_t tl = colon ? len - nl - 1 : 6;
        while (nl > 0 && s[0] == ' ') {
            s++;
            nl--;
        }
        while (nl > 0 && s[nl - 1] == ' ') {
            nl--;
        }
        while (tl > 0 && type[0] == ' ') {
            type++;
            tl--;
        }
        while (tl > 0 && type[tl - 1] == ' ') {
            tl--;
        }
        rc = sl__buf_append(
            out, first ? "{\"name\":" : ",{\"name\":", first ? 8 : 9);
        rc = rc ? rc : sl__buf_json_str(out, s, nl);
        rc = rc ? rc : sl__buf_append(out, ",\"type\":", 8);
        rc = rc ? rc : sl__buf_json_str(out, type, tl);
        rc = rc ? rc : sl__buf_append(out, "}", 1);
        first = false;
        s += len + (end != NULL);
        if (end != NULL && *s == '\0') {
            rc = sl__buf_append(out, ",{\"name\":\"\"}", 12); /* "a," */
        }
    }
    return rc ? rc : sl__buf_append(out, "]", 1);
}

/* --schema FILE | name:TYPE,...: the table, owned. */
static int schema_arg(struct cli_opts *o, const char *ds, const char *name,
                      struct sl_table **out)
{
    const char *arg = o->schema;
    struct stat st;
    struct sl_buf text;
    struct sl_error err = {0};
    sl__buf_init(&text);
    const char *file = arg;
    int rc;
    if (stat(arg, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            return cli_fail(o->name, -SL_EUSAGE,
                            "--schema %s is a folder: for a folder of table "
                            "definitions give --schemas %s",
                            arg, arg);
        }
        FILE *f = fopen(arg, "rb");
        char chunk[8192];
        size_t n;
        rc = f == NULL ? -SL_EIO : SL_OK;
        while (rc == SL_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
            rc = sl__buf_append(&text, chunk, n);
        }
        if (f != NULL && ferror(f)) {
            rc = -SL_EIO;
        }
        if (f != NULL) {
            fclose(f);
        }
        if (rc != SL_OK) {
            sl__buf_release(&text);
            return cli_fail(o->name, rc == -SL_EIO ? -SL_EUSAGE : rc,
                            "--schema %s: cannot read it: %s", arg,
                            strerror(errno));
        }
    } else if (strchr(arg, '/') != NULL || strstr(arg, ".json") != NULL ||
               *arg == '\0') {
        return cli_fail(o->name, -SL_EUSAGE,
                        "--schema %s: no such file (the inline form is "
                        "name:TYPE,name2:TYPE2)",
                        arg);
    } else {
        file = "inline schema";
        if ((rc = inline_json(arg, &text)) != SL_OK) {
            sl__buf_release(&text);
            return cli_fail(o->name, rc, "out of memory");
        }
    }
    rc = sl_table_parse(text.data ? text.data : "", text.len, file, ds, name,
                        out, &err);
    sl__buf_release(&text);
    if (rc != SL_OK) {
        if (file != arg) {
            sl__error_prefix(&err, "--schema %s: ", arg);
        }
        cli_print_error(o->name, &err);
        return sl_exit_code(rc);
    }
    return 0;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

enum sl_format cli_format_of(const struct cli_opts *o, const char *file)
{
    if (o->format != NULL) {
        return strcmp(o->format, "csv") == 0 ? SL_FMT_CSV : SL_FMT_NDJSON;
    }
    return (ends_with(file, ".csv") || ends_with(file, ".csv.gz") ||
            ends_with(file, ".csv.zst") || ends_with(file, ".tsv") ||
            ends_with(file, ".tsv.gz"))
               ? SL_FMT_CSV
               : SL_FMT_NDJSON;
}

/* The schema the inputs imply (schema inference, src/validate/infer.h), as
 * BigQuery's autodetect would give it. */
static int infer_table(struct cli_opts *o, const char *ds, const char *name,
                       struct sl_table **out)
{
    struct sl_infer_opts io;
    sl_infer_opts_default(&io);
    io.format = cli_format_of(o, o->files[0]);
    io.csv = o->v.csv;
    io.skip_leading_rows = o->v.skip_leading_rows;
    io.null_marker = o->v.null_marker;
    if (o->v.header) {
        io.header = SL_INFER_HEADER_YES;
    }
    struct sl_infer *inf = NULL;
    struct sl_error err = {0};
    struct sl_buf json;
    sl__buf_init(&json);
    int rc = sl_infer_create(&io, &inf, &err);
    for (size_t i = 0; rc == SL_OK && i < o->n_files; i++) {
        if (strcmp(o->files[i], "-") == 0) {
            sl_infer_destroy(inf);
            return cli_fail(o->name, -SL_EUSAGE,
                            "--autodetect reads the inputs twice (to infer, "
                            "then to load): stdin cannot be; give a file");
        }
        rc = sl_infer_file(inf, o->files[i], &err);
    }
    rc = rc ? rc : sl_infer_schema_json(inf, &json, &err);
    struct sl_infer_stats st;
    if (rc == SL_OK) {
        sl_infer_stats(inf, &st);
        if (io.format == SL_FMT_CSV && st.load_skip_rows > 0 &&
            o->v.skip_leading_rows == 0 && !o->v.header) {
            o->v.skip_leading_rows = st.load_skip_rows; /* the header row */
        }
    }
    sl_infer_destroy(inf);
    if (rc == SL_OK) {
        rc = sl_table_parse(json.data, json.len, "the inferred schema", ds,
                            name, out, &err);
    }
    sl__buf_release(&json);
    if (rc != SL_OK) {
        sl__error_prefix(&err, "--autodetect: ");
        cli_print_error(o->name, &err);
        return sl_exit_code(rc);
    }
    return 0;
}

/* --autodetect for a table with no definition: the warehouse's own table
 * when it exists (as bq load's autodetect keeps an existing table's
 * schema), else the schema the inputs imply. */
static int autodetect_table(struct cli_opts *o, const char *ds,
                            const char *name, struct sl_table **out)
{
    *out = NULL;
    int rc = infer_table(o, ds, name, out);
    const struct sl_wh_ops *ops =
        o->warehouse != NULL ? sl_wh_driver_for(o->warehouse) : NULL;
    if (rc != 0 || ops == NULL || ops->schema_read == NULL ||
        strcmp(o->name, "load") != 0) {
        return rc;
    }
    struct sl_wh_open_opts oo = {.mode = SL_WH_READ,
                                 .lock_timeout_ms = o->lock_timeout_ms};
    struct sl_wh *wh = NULL;
    struct sl_error err = {0};
    if (ops->open(o->warehouse, &oo, &wh, &err) != SL_OK) {
        return 0; /* no warehouse yet (or not now): the inferred one */
    }
    const struct sl_table *want = *out;
    struct sl_wh_table_state ts;
    memset(&ts, 0, sizeof(ts));
    if (ops->schema_read(wh, &want, 1, &ts, &err) == SL_OK && ts.exists &&
        !ts.same && ts.have != NULL && ts.drift == NULL &&
        ts.foreign == NULL) {
        sl_table_destroy(*out);
        *out = ts.have; /* takes it over */
        ts.have = NULL;
        if (!o->quiet) {
            printf("--autodetect: %s.%s exists: its schema is used\n", ds,
                   name);
        }
    }
    sl_wh_table_state_release(&ts);
    ops->close(wh);
    return 0;
}

/* "main.a, main.b, ... (N tables)" of a registry, for a table not found. */
static void list_tables(const struct sl_registry *reg, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < reg->n_tables && i < 8; i++) {
        n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s.%s",
                              i ? ", " : "", reg->tables[i]->dataset,
                              reg->tables[i]->name);
    }
    if (reg->n_tables > 8 && n < size) {
        snprintf(out + n, size - n, ", ... (%zu tables)", reg->n_tables);
    }
}

int cli_table_resolve(struct cli_opts *o, struct sl_registry **out_reg,
                      struct sl_table **out_own, const struct sl_table **out_t)
{
    *out_reg = NULL;
    *out_own = NULL;
    *out_t = NULL;
    char ds[1100];
    const char *name;
    split_ref(o->table, ds, sizeof(ds), &name);
    int rc;
    if (o->schemas != NULL && o->schema != NULL) {
        return cli_fail(o->name, -SL_EUSAGE,
                        "give the definition once: --schemas %s (a folder) "
                        "or --schema %s (one table), not both",
                        o->schemas, o->schema);
    }
    if (o->schema != NULL) {
        rc = schema_arg(o, ds, name, out_own);
        *out_t = *out_own;
        return rc;
    }
    if (o->schemas == NULL) {
        if (o->autodetect) {
            rc = autodetect_table(o, ds, name, out_own);
            *out_t = *out_own;
            return rc;
        }
        return cli_fail(o->name, -SL_EUSAGE,
                        "no definition for %s.%s: give --schemas DIR (a "
                        "folder of definitions), --schema FILE (or "
                        "name:TYPE,...), or --autodetect",
                        ds, name);
    }
    if ((rc = cli_check_schemas_dir(o->name, o->schemas)) != 0) {
        return rc;
    }
    struct sl_error err = {0};
    struct sl_buf problems;
    sl__buf_init(&problems);
    rc = sl_registry_load(o->schemas, &problems, out_reg, &err);
    if (rc != SL_OK) {
        cli_print_error(o->name, &err);
        sl__buf_release(&problems);
        return sl_exit_code(rc);
    }
    if (problems.len > 0 && !o->quiet) {
        fprintf(stderr,
                "sluice %s: warning: some definitions were refused:\n%s",
                o->name, problems.data);
    }
    sl__buf_release(&problems);
    *out_t = sl_registry_find(*out_reg, o->table);
    if (*out_t != NULL) {
        return 0;
    }
    if (o->autodetect) {
        rc = autodetect_table(o, ds, name, out_own);
        *out_t = *out_own;
        return rc;
    }
    char have[600];
    list_tables(*out_reg, have, sizeof(have));
    return cli_fail(o->name, -SL_ENOTFOUND,
                    "table %s is not defined in %s (or the name is "
                    "ambiguous: give DATASET.TABLE)%s%s%s",
                    o->table, o->schemas, have[0] ? "; it defines " : "",
                    have[0] ? have : "; it defines no table",
                    have[0] ? "" : "");
}

void cli_table_release(struct sl_registry *reg, struct sl_table *own)
{
    sl_table_destroy(own);
    sl_registry_destroy(reg);
}
