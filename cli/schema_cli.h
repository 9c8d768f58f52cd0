/* schema_cli.h - shared by the `sluice schema` files: schema_cmd.c (options,
 * plan, apply) and schema_out.c (the plan as text or JSON). cli. */
#ifndef SL_CLI_SCHEMA_CLI_H
#define SL_CLI_SCHEMA_CLI_H

#include "core/common.h"
#include "warehouse/evolve.h"

#include <stdio.h>

/* What to print about a plan (or an applied one). */
struct schema_report {
    const char *warehouse;      /* the URI as given */
    const struct sl_evolve *ev; /* NULL when the warehouse was not reached */
    const char *problems;       /* invalid definitions, "FILE: reason" lines */
    size_t n_invalid;           /* files among them */
    bool applied;               /* past tense: apply ran */
    bool quiet;                 /* text: refusals and the summary only */
    double seconds;             /* wall time, for the summary */
};

/* The plan as text: tables to create or change with their changes, refused
 * tables with each unsafe change's reason and advice (to err), invalid
 * definitions (to err), and a summary line (to out). */
void schema_print_text(const struct schema_report *r, FILE *out, FILE *err);

/* The plan as one JSON document (docs/EVOLUTION.md, "JSON"). */
void schema_print_json(const struct schema_report *r, FILE *out);

/* Number of files named in a problem list. */
size_t schema_count_files(const char *problems);

#endif
