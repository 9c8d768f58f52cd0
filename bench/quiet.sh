# bench/quiet.sh - sourced by the benchmark scripts.
# The machine is shared: before each run wait (up to BENCH_QUIET_WAIT s, default 60) until
# other processes use < 15% of the CPUs, and record how much they used during the run.
QUIET_WAIT=${BENCH_QUIET_WAIT:-60}
QUIET_BUDGET=${BENCH_QUIET_BUDGET:-300}   # total seconds of waiting allowed per bench run
WAITED=0
cpu_sample() { awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6; exit }' /proc/stat; }
wait_quiet() {
    local i=0 b0 t0 b1 t1 busy
    while [ "$i" -lt "$QUIET_WAIT" ] && [ "$WAITED" -lt "$QUIET_BUDGET" ]; do
        read -r b0 t0 < <(cpu_sample); sleep 0.5; read -r b1 t1 < <(cpu_sample)
        busy=$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
        [ "$busy" -lt 15 ] && return 0
        [ "$i" = 0 ] && echo "  (machine busy: ${busy}% of the CPUs in use by others; waiting)"
        sleep 1; i=$((i + 1)); WAITED=$((WAITED + 2))
    done
}

