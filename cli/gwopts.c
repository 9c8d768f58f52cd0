/* gwopts.c - parsing the gateway commands' options (gwopts.h). cli. */
#include "core/common.h"

#include "cli/gwopts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *cmd, const char *opt, const char *why)
{
    fprintf(stderr, "sluice %s: option %s: %s (see sluice %s --help)\n", cmd,
            opt, why, cmd);
    return 2;
}

/* --name=value or --name value into *val; false after a message. */
static bool value_of(const char *cmd, int argc, char **argv, int *i,
                     const char *eq, const char **val, int *rc)
{
    if (eq != NULL) {
        *val = eq + 1;
        return true;
    }
    if (*i + 1 >= argc) {
        *rc = bad(cmd, argv[*i], "needs a value");
        return false;
    }
    *val = argv[++*i];
    return true;
}

static int one(const char *cmd, unsigned takes, struct gw_opts *o,
               const char *name, int argc, char **argv, int *i, const char *eq)
{
    int rc = 0;
    const char *v = NULL;
    if (strcmp(name, "--gateway") == 0) {
        return value_of(cmd, argc, argv, i, eq, &o->gateway, &rc) ? 0 : rc;
    }
    if ((takes & GW_ONCE) && strcmp(name, "--once") == 0) {
        o->once = true;
    } else if ((takes & GW_THREADS) && strcmp(name, "--threads") == 0) {
        if (!value_of(cmd, argc, argv, i, eq, &v, &rc)) {
            return rc;
        }
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || *end || n < 1 || n > 64) {
            return bad(cmd, name, "must be 1..64");
        }
        o->threads = (unsigned)n;
    } else if ((takes & GW_LOG) && strcmp(name, "--log-format") == 0) {
        if (!value_of(cmd, argc, argv, i, eq, &v, &rc)) {
            return rc;
        }
        if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0) {
            return bad(cmd, name, "takes text or json");
        }
        o->log_json = strcmp(v, "json") == 0;
    } else if ((takes & GW_LOG) && strcmp(name, "--verbose") == 0) {
        o->verbose = true;
    } else if ((takes & GW_LOG) && strcmp(name, "--quiet") == 0) {
        o->quiet = true;
    } else if ((takes & GW_JSON) && strcmp(name, "--json") == 0) {
        o->json = true;
    } else if ((takes & GW_TABLE) && strcmp(name, "--table") == 0) {
        return value_of(cmd, argc, argv, i, eq, &o->table, &rc) ? 0 : rc;
    } else if ((takes & GW_RETRY) && strcmp(name, "--all") == 0) {
        o->all = true;
    } else if ((takes & GW_RETRY) && strcmp(name, "--quarantine") == 0) {
        return value_of(cmd, argc, argv, i, eq, &o->quarantine, &rc) ? 0 : rc;
    } else if ((takes & GW_SINCE) && strcmp(name, "--since") == 0) {
        return value_of(cmd, argc, argv, i, eq, &o->since, &rc) ? 0 : rc;
    } else if ((takes & GW_SINCE) && strcmp(name, "--force") == 0) {
        o->force = true;
    } else if ((takes & GW_REPAIR) && strcmp(name, "--repair") == 0) {
        o->repair = true;
    } else {
        return bad(cmd, name, "unknown option for this command");
    }
    return eq != NULL && v == NULL ? bad(cmd, name, "takes no value") : 0;
}

int gw_parse(const char *cmd, int argc, char **argv, const char *help,
             unsigned takes, struct gw_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->gateway = getenv("SLUICE_GATEWAY");
    o->files = calloc((size_t)argc + 1, sizeof(*o->files));
    if (o->files == NULL) {
        fprintf(stderr, "sluice %s: out of memory\n", cmd);
        return 4;
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(help, stdout);
            exit(0);
        }
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (!(takes & GW_RETRY)) {
                return bad(cmd, a, "unexpected argument");
            }
            o->files[o->n_files++] = a;
            continue;
        }
        char name[64];
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof(name)) {
            return bad(cmd, a, "unknown option for this command");
        }
        memcpy(name, a, nl);
        name[nl] = '\0';
        int rc = one(cmd, takes, o, name, argc, argv, &i, eq);
        if (rc != 0) {
            return rc;
        }
    }
    if (o->gateway == NULL) {
        fprintf(stderr, "sluice %s: --gateway DIR is required (see --help)\n",
                cmd);
        return 2;
    }
    return 0;
}
