/* cli.h - shared pieces of the sluice command: option parsing, output helpers. cli. */
#ifndef SL_CLI_CLI_H
#define SL_CLI_CLI_H

#include "core/common.h"
#include "core/error.h"
#include "validate/validator.h"

#include <stdio.h>

#define SL_VERSION "0.1.0"
#define SL_DEFAULT_WAREHOUSE "duckdb://./warehouse.duckdb"

/* Options of validate/load (and the shared ones of the other commands). */
struct cli_opts {
    const char *schemas;
    const char *table;
    const char *warehouse;
    const char *rejects;
    const char *format;     /* NULL = from the file name */
    bool force;
    bool quiet;
    unsigned threads;
    struct sl_vopts v;
    const char **files;
    size_t n_files;
    const char *query_format;
};

/* Parse argv (after the subcommand) into o. Returns 0, or 2 after printing a
 * usage error. help is the command's --help text. */
int cli_parse(int argc, char **argv, struct cli_opts *o, const char *help, bool want_files);
void cli_print_error(const char *cmd, const struct sl_error *err);
double cli_now(void);

int cmd_schema(int argc, char **argv);
int cmd_schema_infer(int argc, char **argv); /* infer_cmd.c */
int cmd_validate(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_query(int argc, char **argv);

#endif
