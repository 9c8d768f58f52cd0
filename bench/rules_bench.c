/* rules_bench.c - rule matching and templating (src/rules/): N paths against
 * R rules, each path matched and its destination resolved (Pattern groups,
 * Parameters, $Date/$Hour, $Mod, the table name, its registry lookup, the
 * batch key). Issue 16's floor: 100,000 paths against 200 rules in under
 * 1 s. Not part of the build or of `make test`; from the repository root,
 * after `make build`:
 *
 *   gcc -O2 -std=c11 -Isrc -Iinclude -o build/rules_bench bench/rules_bench.c \
 *       build/libsluice_core.a $(pkg-config --libs libpcre2-8 jansson zlib \
 *       libzstd sqlite3 libcrypto yaml-0.1 libcurl) -lpthread -lm -ldl
 *   build/rules_bench [PATHS [RULES [ROUNDS]]]      (default 100000 200 5)
 *
 * The rules: 60% "/src<i>/" prefixes with a date Pattern and Parameters,
 * 20% "/logs/app<i>/" prefixes with a Filter, an Exclusion and $Mod(8), 20%
 * with no Prefix at all, only a Filter regex every path is tried against
 * (the worst case for the prefix index). Paths: one in 20 matches nothing.
 * Prints the median of the rounds. bench. */
#include "core/common.h"

#include "core/buf.h"
#include "rules/rules.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

/* A registry of one template table, in a temporary folder. */
static struct sl_registry *registry(void)
{
    char dir[64] = "/tmp/sl_rules_bench_XXXXXX", path[128];
    if (mkdtemp(dir) == NULL) {
        exit(2);
    }
    snprintf(path, sizeof(path), "%s/ds", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/ds/tmpl.json", dir);
    FILE *f = fopen(path, "w");
    fputs("[{\"name\": \"id\", \"type\": \"INTEGER\"}, {\"name\": \"ts\", "
          "\"type\": \"TIMESTAMP\"}]",
          f);
    fclose(f);
    struct sl_registry *reg = NULL;
    struct sl_error err = {0};
    if (sl_registry_load(dir, NULL, &reg, &err) != SL_OK) {
        fprintf(stderr, "registry: %s\n", err.msg);
        exit(2);
    }
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    return reg;
}

static int rule_kind(int i, int n_rules)
{
    int k = i * 10 / n_rules;
    return k < 6 ? 0 : k < 8 ? 1 : 2;
}

static char *rules_text(int n_rules)
{
    struct sl_buf b;
    sl__buf_init(&b);
    int rc = sl__buf_printf(&b, "[");
    for (int i = 0; rc == SL_OK && i < n_rules; i++) {
        const char *sep = i > 0 ? ",\n" : "";
        switch (rule_kind(i, n_rules)) {
        case 0:
            rc = sl__buf_printf(
                &b,
                "%s{\"When\": {\"Prefix\": \"/src%d/\", \"Suffix\": "
                "\".json\"}, \"Dest\": {\"Pattern\": "
                "\"/src%d/(\\\\d{4})/(\\\\d{2})/(\\\\d{2})/\", \"Table\": "
                "\"ds.t%d_$Day\", \"Parameters\": [{\"Name\": \"Day\", "
                "\"Expression\": \"$1$2$3\"}], \"Schema\": {\"Template\": "
                "\"ds.tmpl\"}}, \"Batch\": {\"Window\": {\"DurationInSec\": "
                "60}}}",
                sep, i, i, i);
            break;
        case 1:
            rc = sl__buf_printf(
                &b,
                "%s{\"When\": {\"Prefix\": \"/logs/app%d/\", \"Filter\": "
                "\"\\\\.(json|ndjson)$\", \"Exclusion\": \"/tmp/\"}, "
                "\"Dest\": {\"Table\": \"ds.l%d_$Mod(8)\", \"Schema\": "
                "{\"Template\": \"ds.tmpl\"}}}",
                sep, i, i);
            break;
        default:
            rc = sl__buf_printf(
                &b,
                "%s{\"When\": {\"Filter\": \"^/other%d/[a-z]+/.+\\\\.csv$\"}, "
                "\"Dest\": {\"Table\": \"proj:ds.o%d_$Date_$Hour\", "
                "\"Schema\": {\"Template\": \"ds.tmpl\"}}}",
                sep, i, i);
        }
    }
    rc = rc ? rc : sl__buf_printf(&b, "]");
    if (rc != SL_OK) {
        exit(2);
    }
    return b.data;
}

static char **make_paths(int n, int n_rules)
{
    char **p = calloc((size_t)n, sizeof(*p));
    srand(16);
    for (int i = 0; i < n; i++) {
        int r = rand() % n_rules;
        char buf[200];
        if (i % 20 == 19) {
            snprintf(buf, sizeof(buf), "nowhere/%d/x.json", i);
        } else if (rule_kind(r, n_rules) == 0) {
            snprintf(buf, sizeof(buf), "src%d/2024/%02d/%02d/f%06d.json", r,
                     1 + i % 12, 1 + i % 28, i);
        } else if (rule_kind(r, n_rules) == 1) {
            snprintf(buf, sizeof(buf), "logs/app%d/host%d/f%06d.ndjson", r,
                     i % 7, i);
        } else {
            snprintf(buf, sizeof(buf), "other%d/part/f%06d.csv", r, i);
        }
        p[i] = strdup(buf);
    }
    return p;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    int n_rules = argc > 2 ? atoi(argv[2]) : 200;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    struct sl_registry *reg = registry();
    char *text = rules_text(n_rules);
    struct sl_rules *rs = NULL;
    struct sl_error err = {0};
    struct sl_buf problems;
    sl__buf_init(&problems);
    double t0 = now_s();
    if (sl_rules_parse("bench.json", text, strlen(text), NULL, reg, NULL,
                       &problems, NULL, &rs, &err) != SL_OK ||
        problems.len > 0) {
        fprintf(stderr, "rules: %s %s\n", err.msg, problems.data);
        return 2;
    }
    double load_s = now_s() - t0;
    char **paths = make_paths(n, n_rules);
    double *times = calloc((size_t)rounds, sizeof(*times));
    size_t matched = 0, none = 0;
    for (int r = 0; r < rounds; r++) {
        matched = none = 0;
        t0 = now_s();
        for (int i = 0; i < n; i++) {
            struct sl_rules_match m;
            if (sl_rules_match(rs, paths[i], 1704200400000000LL + i, &m,
                               &err) != SL_OK) {
                fprintf(stderr, "%s: %s\n", paths[i], err.msg);
                return 2;
            }
            matched += m.n;
            none += m.n == 0;
            sl_rules_match_release(&m);
        }
        times[r] = now_s() - t0;
    }
    qsort(times, (size_t)rounds, sizeof(*times), by_double);
    double med = times[rounds / 2];
    printf("rules_bench: %d paths x %d rules: median %.3f s over %d rounds "
           "(min %.3f, max %.3f), %.0f paths/s, %.2f us a path; %zu "
           "matched, %zu matched nothing; loading the rules %.3f s\n",
           n, n_rules, med, rounds, times[0], times[rounds - 1], n / med,
           med * 1e6 / n, matched, none, load_s);
    for (int i = 0; i < n; i++) {
        free(paths[i]);
    }
    free(paths);
    free(times);
    free(text);
    sl__buf_release(&problems);
    sl_rules_destroy(rs);
    sl_registry_destroy(reg);
    return med < 1.0 ? 0 : 1;
}
