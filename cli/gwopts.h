/* gwopts.h - options of the gateway commands (run, status, health, retry,
 * replay, verify): a small parser of their own, since they share few options
 * with load and validate. cli. */
#ifndef SL_CLI_GWOPTS_H
#define SL_CLI_GWOPTS_H

#include "core/common.h"

enum {
    GW_ONCE = 1u << 0,    /* --once */
    GW_THREADS = 1u << 1, /* --threads N */
    GW_LOG = 1u << 2,     /* --log-format, --verbose, --quiet */
    GW_JSON = 1u << 3,    /* --json */
    GW_TABLE = 1u << 4,   /* --table T */
    GW_RETRY = 1u << 5,   /* --all, --quarantine TABLE, FILE... */
    GW_SINCE = 1u << 6,   /* --since TIME, --force */
    GW_REPAIR = 1u << 7,  /* --repair */
};

struct gw_opts {
    const char *gateway;
    bool once, log_json, verbose, quiet, json, all, force, repair;
    unsigned threads;
    const char *table;
    const char *quarantine;
    const char *since;
    const char **files;
    size_t n_files;
};

/* Parse argv for command cmd (which takes the options in `takes`); --gateway
 * is required (or $SLUICE_GATEWAY). 0, or an exit code after a message;
 * --help prints help and exits 0. The caller frees o->files. */
int gw_parse(const char *cmd, int argc, char **argv, const char *help,
             unsigned takes, struct gw_opts *o);

#endif
