/* fuzz_ndjson.c - libFuzzer target for the NDJSON validator (src/validate/).
 * The body and its invariants are in harness_ndjson.c, shared with the replay
 * test (tests/conformance/test_fuzz_replay.c). Built and run by
 * tests/fuzz/run.sh. tests. */
#include "harness_ndjson.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return harness_ndjson(data, size);
}
