/* example.h - the files `sluice init --example` lays out (the reference
 * platform's three tables and sample data with a few bad records), embedded
 * at build time from samples/ by cmake/embed.cmake. gateway stage. */
#ifndef SL_GATEWAY_EXAMPLE_H
#define SL_GATEWAY_EXAMPLE_H

#include "core/common.h"

#include <stddef.h>

struct sl_gw_example_file {
    const char *path;          /* relative to the gateway folder */
    const unsigned char *data; /* its bytes */
    size_t size;
};

extern const struct sl_gw_example_file sl__gw_example[];
extern const size_t sl__gw_n_example;

#endif
