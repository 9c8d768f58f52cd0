/* opts.c - option parsing shared by the subcommands (bq load's names). cli. */
#include "core/common.h"

#include "cli/cli.h"
#include "warehouse/driver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_print_error(const char *cmd, const struct sl_error *err)
{
    fprintf(stderr, "sluice %s: error: %s", cmd,
            err->msg[0] ? err->msg : sl_strerror(err->code));
    if (err->column[0]) {
        fprintf(stderr, " (field %s)", err->column);
    }
    fprintf(stderr, " [%s, %s]\n", sl_errname(err->code),
            sl_errclass(err->code));
}

static int bad(const char *opt, const char *why)
{
    fprintf(stderr, "sluice: option %s: %s (see --help)\n", opt, why);
    return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0' || *s == '-') {
        return false;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

/* A delimiter or quote option: one byte, "\t"/"tab" for TAB. */
static int parse_char(const char *opt, const char *s, int *out,
                      bool allow_empty)
{
    if (strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0 ||
        strcmp(s, "\t") == 0) {
        *out = '\t';
        return 0;
    }
    if (*s == '\0') {
        if (allow_empty) {
            *out = -1;
            return 0;
        }
        return bad(opt, "must be one character");
    }
    if (s[1] != '\0') {
        return bad(opt, "must be one single-byte character");
    }
    *out = (unsigned char)s[0];
    return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *o, const char *help,
              bool want_files)
{
    memset(o, 0, sizeof(*o));
    sl_vopts_default(&o->v);
    o->warehouse = getenv("SLUICE_WAREHOUSE");
    if (o->warehouse == NULL) {
        o->warehouse = SL_DEFAULT_WAREHOUSE;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (unsigned)ncpu;
    o->query_format = "table";
    o->lock_timeout_ms = 60000;
    o->files = calloc((size_t)argc + 1, sizeof(*o->files));
    if (o->files == NULL) {
        fprintf(stderr, "sluice: out of memory\n");
        return 4;
    }
    bool only_files = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_files || a[0] != '-' || strcmp(a, "-") == 0) {
            if (!want_files) {
                return bad(a, "unexpected argument");
            }
            o->files[o->n_files++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_files = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(help, stdout);
            exit(0);
        }
        /* --name=value or --name value */
        char name[64];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof(name)) {
            return bad(a, "unknown option");
        }
        memcpy(name, a, nl);
        name[nl] = '\0';
        static const char *flags[] = {"--ignore-unknown-values",
                                      "--allow-quoted-newlines",
                                      "--allow-jagged-rows",
                                      "--header",
                                      "--force",
                                      "--quiet",
                                      "--replace",
                                      "--noreplace",
                                      "--write"};
        bool is_flag = false;
        for (size_t k = 0; k < SL_ARRAY_LEN(flags); k++) {
            is_flag |= strcmp(name, flags[k]) == 0;
        }
        if (!is_flag) {
            if (eq) {
                val = eq + 1;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                return bad(name, "needs a value");
            }
        } else if (eq) {
            return bad(name, "takes no value");
        }
        uint64_t u;
        int ch, rc;
        if (strcmp(name, "--schemas") == 0) {
            o->schemas = val;
        } else if (strcmp(name, "--table") == 0) {
            o->table = val;
        } else if (strcmp(name, "--warehouse") == 0) {
            o->warehouse = val;
        } else if (strcmp(name, "--rejects") == 0) {
            o->rejects = val;
        } else if (strcmp(name, "--format") == 0) {
            o->format = val;
            o->query_format = val;
        } else if (strcmp(name, "--max-bad-records") == 0) {
            if (!parse_u64(val, &o->v.max_bad)) {
                return bad(name, "must be a non-negative integer");
            }
        } else if (strcmp(name, "--threads") == 0) {
            if (!parse_u64(val, &u) || u == 0 || u > 64) {
                return bad(name, "must be 1..64");
            }
            o->threads = (unsigned)u;
        } else if (strcmp(name, "--max-row-size") == 0) {
            if (!parse_u64(val, &u) || u == 0) {
                return bad(name, "must be a positive number of bytes");
            }
            o->v.max_row_size = (size_t)u;
        } else if (strcmp(name, "--max-value-size") == 0) {
            if (!parse_u64(val, &u) || u == 0) {
                return bad(name, "must be a positive number of bytes");
            }
            o->v.max_value_size = (size_t)u;
        } else if (strcmp(name, "--skip-leading-rows") == 0) {
            if (!parse_u64(val, &o->v.skip_leading_rows)) {
                return bad(name, "must be a non-negative integer");
            }
        } else if (strcmp(name, "--field-delimiter") == 0) {
            if ((rc = parse_char(name, val, &ch, false)) != 0) {
                return rc;
            }
            o->v.csv.delim = (char)ch;
        } else if (strcmp(name, "--quote") == 0) {
            if ((rc = parse_char(name, val, &ch, true)) != 0) {
                return rc;
            }
            o->v.csv.quote = ch;
        } else if (strcmp(name, "--null-marker") == 0) {
            o->v.null_marker = val;
        } else if (strcmp(name, "--encoding") == 0) {
            if (strcasecmp(val, "UTF-8") == 0 || strcasecmp(val, "UTF8") == 0) {
                o->v.csv.latin1 = false;
            } else if (strcasecmp(val, "ISO-8859-1") == 0 ||
                       strcasecmp(val, "ISO_8859_1") == 0 ||
                       strcasecmp(val, "latin1") == 0) {
                o->v.csv.latin1 = true;
            } else {
                return bad(name, "must be UTF-8 or ISO-8859-1");
            }
        } else if (strcmp(name, "--ignore-unknown-values") == 0) {
            o->v.ignore_unknown = true;
        } else if (strcmp(name, "--allow-quoted-newlines") == 0) {
            o->v.csv.allow_quoted_newlines = true;
        } else if (strcmp(name, "--allow-jagged-rows") == 0) {
            o->v.allow_jagged = true;
        } else if (strcmp(name, "--header") == 0) {
            o->v.header = true;
        } else if (strcmp(name, "--force") == 0) {
            o->force = true;
        } else if (strcmp(name, "--quiet") == 0) {
            o->quiet = true;
        } else if (strcmp(name, "--write") == 0) {
            o->write = true;
        } else if (strcmp(name, "--replace") == 0) {
            o->batch_flags = SL_BATCH_TRUNCATE;
        } else if (strcmp(name, "--noreplace") == 0) {
            o->batch_flags = 0;
        } else if (strcmp(name, "--write_disposition") == 0 ||
                   strcmp(name, "--write-disposition") == 0) {
            if (strcasecmp(val, "WRITE_APPEND") == 0) {
                o->batch_flags = 0;
            } else if (strcasecmp(val, "WRITE_TRUNCATE") == 0) {
                o->batch_flags = SL_BATCH_TRUNCATE;
            } else if (strcasecmp(val, "WRITE_EMPTY") == 0) {
                o->batch_flags = SL_BATCH_EMPTY;
            } else {
                return bad(
                    name,
                    "must be WRITE_APPEND, WRITE_TRUNCATE or WRITE_EMPTY");
            }
        } else if (strcmp(name, "--lock-timeout") == 0) {
            double secs = 0;
            char *end = NULL;
            secs = val != NULL ? strtod(val, &end) : -1;
            if (val == NULL || end == val || *end != '\0' || secs < 0 ||
                secs > 86400) {
                return bad(name, "must be a number of seconds (0..86400)");
            }
            o->lock_timeout_ms = (uint32_t)(secs * 1000);
        } else {
            return bad(name, "unknown option");
        }
    }
    if (o->format != NULL && want_files && strcmp(o->format, "ndjson") != 0 &&
        strcmp(o->format, "csv") != 0 && strcmp(o->format, "json") != 0 &&
        strcmp(o->format, "jsonl") != 0) {
        return bad("--format", "must be ndjson or csv");
    }
    return 0;
}
