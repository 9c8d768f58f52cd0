/* duckdb_read.c - benchmark peer: let DuckDB's own readers (read_json, read_csv)
 * ingest a file through the same libduckdb that sluice links against.
 *
 *   duckdb_read DB SQL [SQL...]
 *
 * Opens (or creates) the database file DB (":memory:" for none), runs each SQL
 * statement in order and prints the first row of the last result, tab-separated
 * (bench/run.sh ends with a count(*) so the row count lands in its log).
 * Exit 0 on success, 1 on a DuckDB error (printed on stderr), 2 on usage.
 * Build: gcc -O2 -I DUCKDB_DIR duckdb_read.c -L DUCKDB_DIR -lduckdb -Wl,-rpath,DUCKDB_DIR
 */
#include <duckdb.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: duckdb_read DB SQL [SQL...]\n");
        return 2;
    }
    const char *path = strcmp(argv[1], ":memory:") == 0 ? NULL : argv[1];
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(path, &db) != DuckDBSuccess) {
        fprintf(stderr, "duckdb_read: cannot open %s\n", argv[1]);
        return 1;
    }
    if (duckdb_connect(db, &con) != DuckDBSuccess) {
        fprintf(stderr, "duckdb_read: cannot connect to %s\n", argv[1]);
        duckdb_close(&db);
        return 1;
    }
    int status = 0;
    for (int i = 2; i < argc && status == 0; i++) {
        duckdb_result res;
        if (duckdb_query(con, argv[i], &res) != DuckDBSuccess) {
            const char *msg = duckdb_result_error(&res);
            fprintf(stderr, "duckdb_read: %s\n  in: %.200s\n", msg ? msg : "query failed",
                    argv[i]);
            status = 1;
        } else if (i == argc - 1 && duckdb_row_count(&res) > 0) {
            idx_t ncol = duckdb_column_count(&res);
            for (idx_t c = 0; c < ncol; c++) {
                char *v = duckdb_value_varchar(&res, c, 0);
                printf("%s%s", c ? "\t" : "", v ? v : "NULL");
                duckdb_free(v);
            }
            printf("\n");
        }
        duckdb_destroy_result(&res);
    }
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return status;
}
