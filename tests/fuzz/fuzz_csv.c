/* fuzz_csv.c - libFuzzer target for the CSV reader (src/parse/csv.c).
 * The body and its invariants are in harness_csv.c, shared with the replay
 * test (tests/conformance/test_fuzz_replay.c). Built and run by
 * tests/fuzz/run.sh. tests. */
#include "harness_csv.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return harness_csv(data, size);
}
