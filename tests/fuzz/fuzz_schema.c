/* fuzz_schema.c - libFuzzer target for the table definition parser
 * (src/schema/). The body and its invariants are in harness_schema.c, shared
 * with the replay test (tests/conformance/test_fuzz_replay.c). Built and run by
 * tests/fuzz/run.sh. tests. */
#include "harness_schema.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return harness_schema(data, size);
}
