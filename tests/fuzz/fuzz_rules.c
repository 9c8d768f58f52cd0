/* fuzz_rules.c - libFuzzer target for rule files (src/rules/): parsing
 * (JSON and YAML), matching, templates and SQL plans. The body and its
 * invariants are in harness_rules.c, shared with the replay test
 * (tests/conformance/test_fuzz_replay.c). Built and run by
 * tests/fuzz/run.sh. tests. */
#include "harness_rules.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return harness_rules(data, size);
}
