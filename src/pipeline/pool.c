/* pool.c - the service's worker threads: one queue of jobs (stage a file,
 * load a batch) in, one queue of finished jobs out, and an eventfd that wakes
 * the main thread when a result is ready. The thread count is the service's
 * one thread budget. pipeline stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "pipeline/svc_int.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

void job_free(struct job *j)
{
    if (j != NULL) {
        sl__free(j->outcomes);
        sl__free(j->fps);
        sl__free(j->valid);
        sl__free(j->rejected);
        sl__free(j->table);
        sl__free(j->rs_error);
        sl_rules_report_release(&j->rep);
        for (size_t i = 0; i < j->n_moved; i++) {
            sl__free(j->moved[i].from);
            sl__free(j->moved[i].to);
        }
        sl__free(j->moved);
        sl__free(j->raw_rel);
        sl__free(j->good_rel);
        sl__free(j->rejects_rel);
        sl__free(j);
    }
}

static void run(struct svc *s, struct job *j)
{
    if (j->kind == JOB_STAGE) {
        sl_gw_stage(&j->req, &j->res);
    } else if (j->kind == JOB_LOAD) {
        batch_run_job(s, j);
    } else {
        post_run_job(s, j);
    }
}

static void *worker(void *arg)
{
    struct svc *s = arg;
    struct pool *p = &s->pool;
    /* signals go to the main thread only */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->todo_head == NULL) {
            pthread_cond_wait(&p->cv, &p->mu);
        }
        if (p->todo_head == NULL) {
            break; /* stopping and nothing left */
        }
        struct job *j = p->todo_head;
        p->todo_head = j->next;
        if (p->todo_head == NULL) {
            p->todo_tail = NULL;
        }
        p->running++;
        if (j->kind == JOB_STAGE) {
            /* nothing else waiting: the idle workers' threads validate too */
            j->req.n_threads = p->todo_head == NULL ? p->n - p->running + 1 : 1;
        }
        pthread_mutex_unlock(&p->mu);
        run(s, j);
        pthread_mutex_lock(&p->mu);
        p->running--;
        j->next = NULL;
        if (p->done_tail != NULL) {
            p->done_tail->next = j;
        } else {
            p->done_head = j;
        }
        p->done_tail = j;
        uint64_t one = 1;
        ssize_t w = write(p->wake_fd, &one, sizeof(one));
        (void)w; /* a full counter still wakes the reader */
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int pool_start(struct svc *s, unsigned n, struct sl_error *err)
{
    struct pool *p = &s->pool;
    memset(p, 0, sizeof(*p));
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->wake_fd < 0) {
        return SL_ERR(err, -SL_EENV, "eventfd: %s", strerror(errno));
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->threads = sl__calloc(n, sizeof(*p->threads));
    if (p->threads == NULL) {
        return SL_ERR(err, -SL_ENOMEM, "out of memory starting workers");
    }
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, s) != 0) {
            pool_stop(s);
            return SL_ERR(err, -SL_EENV, "cannot start a worker thread");
        }
        p->n++;
    }
    return SL_OK;
}

/* Finish the queued and running jobs, then end the threads. Results stay in
 * the done queue for the caller to take. */
void pool_stop(struct svc *s)
{
    struct pool *p = &s->pool;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n; i++) {
        pthread_join(p->threads[i], NULL);
    }
    p->n = 0;
    sl__free(p->threads);
    p->threads = NULL;
    if (p->wake_fd >= 0) {
        close(p->wake_fd);
        p->wake_fd = -1;
    }
}

void pool_push(struct svc *s, struct job *j)
{
    struct pool *p = &s->pool;
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->todo_tail != NULL) {
        p->todo_tail->next = j;
    } else {
        p->todo_head = j;
    }
    p->todo_tail = j;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    s->jobs_out++;
    if (j->kind == JOB_STAGE) {
        s->stage_jobs++;
    }
}

struct job *pool_take_done(struct svc *s)
{
    struct pool *p = &s->pool;
    pthread_mutex_lock(&p->mu);
    struct job *j = p->done_head;
    if (j != NULL) {
        p->done_head = j->next;
        if (p->done_head == NULL) {
            p->done_tail = NULL;
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (j != NULL) {
        s->jobs_out--;
        if (j->kind == JOB_STAGE) {
            s->stage_jobs--;
        }
    }
    return j;
}
