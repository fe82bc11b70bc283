/* A fixed pool of worker threads over a FIFO of tasks. */
#include <pthread.h>
#include <signal.h>

#include <samplemind/alloc.h>

#include "jobs.h"
#include "server_int.h"

struct task {
    struct task *next;
    void (*fn)(void *);
    void *ud;
};

struct sm_jobs {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct task *head;
    struct task *tail;
    int queued;
    int running;
    bool stopping;
    int n_threads;
    pthread_t *threads;
};

static void *worker(void *arg)
{
    struct sm_jobs *j = arg;
    pthread_mutex_lock(&j->lock);
    for (;;) {
        while (!j->head && !j->stopping)
            pthread_cond_wait(&j->cond, &j->lock);
        if (!j->head)
            break;
        struct task *t = j->head;
        j->head = t->next;
        if (!j->head)
            j->tail = NULL;
        j->queued--;
        j->running++;
        pthread_mutex_unlock(&j->lock);
        t->fn(t->ud);
        sm_free(t);
        pthread_mutex_lock(&j->lock);
        j->running--;
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

int sm__jobs_init(sm_srv *srv)
{
    struct sm_jobs *j = sm_calloc(1, sizeof(*j));
    if (!j)
        return -1;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    j->threads = sm_calloc((size_t)srv->workers, sizeof(pthread_t));
    if (!j->threads) {
        sm_free(j);
        return -1;
    }
    srv->jobs = j;
    for (int i = 0; i < srv->workers; i++) {
        if (pthread_create(&j->threads[i], NULL, worker, j))
            return -1;
        j->n_threads++;
    }
    return 0;
}

void sm__jobs_stop(sm_srv *srv)
{
    struct sm_jobs *j = srv->jobs;
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->stopping = true;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    for (int i = 0; i < j->n_threads; i++)
        pthread_join(j->threads[i], NULL);
    while (j->head) {
        struct task *t = j->head;
        j->head = t->next;
        sm_free(t);
    }
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
    sm_free(j->threads);
    sm_free(j);
    srv->jobs = NULL;
}

int sm__jobs_submit(sm_srv *srv, void (*fn)(void *ud), void *ud)
{
    struct sm_jobs *j = srv->jobs;
    if (!j)
        return -1;
    struct task *t = sm_malloc(sizeof(*t));
    if (!t)
        return -1;
    t->fn = fn;
    t->ud = ud;
    t->next = NULL;
    pthread_mutex_lock(&j->lock);
    if (j->stopping) {
        pthread_mutex_unlock(&j->lock);
        sm_free(t);
        return -1;
    }
    if (j->tail)
        j->tail->next = t;
    else
        j->head = t;
    j->tail = t;
    j->queued++;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
    return 0;
}

void sm__jobs_stats(sm_srv *srv, struct sm_jobs_stats *out)
{
    struct sm_jobs *j = srv->jobs;
    out->queued = 0;
    out->running = 0;
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    out->queued = j->queued;
    out->running = j->running;
    pthread_mutex_unlock(&j->lock);
}

bool sm__jobs_stopping(sm_srv *srv)
{
    struct sm_jobs *j = srv->jobs;
    if (!j)
        return true;
    pthread_mutex_lock(&j->lock);
    bool s = j->stopping;
    pthread_mutex_unlock(&j->lock);
    return s;
}
