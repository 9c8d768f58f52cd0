/* fuzz_chnative.c - libFuzzer target for the ClickHouse driver's response
 * parsers (src/warehouse/clickhouse_native.c, clickhouse_resp.c). The body
 * and its invariants are in harness_chnative.c, shared with the replay test
 * (tests/conformance/test_fuzz_replay.c). Built and run by tests/fuzz/run.sh.
 * tests. */
#include "harness_chnative.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return harness_chnative(data, size);
}
