/* fuzz_input.c - libFuzzer target for the decompression layer
 * (src/parse/input.c). The body and its invariants are in harness_input.c,
 * shared with the replay test (tests/conformance/test_fuzz_replay.c). Built and
 * run by tests/fuzz/run.sh. tests. */
#include "harness_input.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return harness_input(data, size);
}
