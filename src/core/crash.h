/* crash.h - deterministic crash points for fault tests: SLUICE_CRASH_AT names
 * a step ("NAME" or "NAME:N" for its N-th pass) at which the process kills
 * itself with SIGKILL, so a test can stop it at exactly that state transition
 * instead of guessing with timers. With SLUICE_CRASH_SIGNAL=N it raises signal
 * N there instead and goes on (a signal that lands at a known step). Without
 * the variables a crash point costs one relaxed load. core stage. */
#ifndef SL_CORE_CRASH_H
#define SL_CORE_CRASH_H

#include "core/common.h"

/* Die here (SIGKILL, no cleanup, as a real crash) if SLUICE_CRASH_AT names
 * this point and this is its N-th pass (default 1); with SLUICE_CRASH_SIGNAL
 * set, raise that signal and return instead. Thread-safe. */
void sl__crash_point(const char *name);

/* Deterministic faults: SLUICE_FAIL_AT names a point ("NAME", "NAME:N" for
 * its N-th pass only, "NAME:N-M" for passes N to M); true when this pass of
 * point `name` is to fail. The caller makes it fail its own way (a write
 * that reports ENOSPC, a file deleted under a claim). Thread-safe. */
bool sl__fault_point(const char *name);

#endif
