/* crash.c - deterministic crash points (crash.h). core stage. */
#include "core/common.h"

#include "core/crash.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char want[128]; /* the point's name, "" = none */
static long want_n = 1;
static int want_sig; /* SLUICE_CRASH_SIGNAL: raise it, 0 = SIGKILL */
static long hits;

static void init(void)
{
    const char *sig = getenv("SLUICE_CRASH_SIGNAL");
    want_sig = sig != NULL ? atoi(sig) : 0;
    const char *v = getenv("SLUICE_CRASH_AT");
    if (v == NULL || strlen(v) >= sizeof(want)) {
        return;
    }
    strcpy(want, v);
    char *colon = strrchr(want, ':');
    if (colon != NULL) {
        *colon = '\0';
        want_n = atol(colon + 1);
        if (want_n < 1) {
            want_n = 1;
        }
    }
}

void sl__crash_point(const char *name)
{
    (void)pthread_once(&once, init);
    if (want[0] == '\0' || strcmp(name, want) != 0) {
        return;
    }
    if (__atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) == want_n) {
        if (want_sig > 0) {
            raise(want_sig);
            return;
        }
        kill(getpid(), SIGKILL);
        _exit(137); /* not reached */
    }
}

static pthread_once_t fonce = PTHREAD_ONCE_INIT;
static char fwant[128];
static long flo = 1, fhi = -1; /* passes flo..fhi fail; fhi -1 = all */
static long fhits;

static void finit(void)
{
    const char *v = getenv("SLUICE_FAIL_AT");
    if (v == NULL || strlen(v) >= sizeof(fwant)) {
        return;
    }
    strcpy(fwant, v);
    char *colon = strrchr(fwant, ':');
    if (colon != NULL) {
        *colon = '\0';
        char *dash = strchr(colon + 1, '-');
        flo = atol(colon + 1);
        fhi = dash != NULL ? atol(dash + 1) : flo;
    }
}

bool sl__fault_point(const char *name)
{
    (void)pthread_once(&fonce, finit);
    if (fwant[0] == '\0' || strcmp(name, fwant) != 0) {
        return false;
    }
    long n = __atomic_add_fetch(&fhits, 1, __ATOMIC_SEQ_CST);
    return n >= flo && (fhi < 0 || n <= fhi);
}
