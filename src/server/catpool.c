/* Catalog handles shared by the request and worker threads: a handle serves one
 * thread at a time, so idle handles wait in a free list. */
#include <samplemind/alloc.h>
#include <samplemind/catalog.h>

#include "server_int.h"

int sm__catpool_init(sm_srv *srv)
{
    srv->max_open = (size_t)(srv->threads + srv->workers + 2);
    srv->cat_free = sm_calloc(srv->max_open, sizeof(*srv->cat_free));
    return srv->cat_free ? 0 : -1;
}

void sm__catpool_close(sm_srv *srv)
{
    pthread_mutex_lock(&srv->cat_lock);
    for (size_t i = 0; i < srv->n_free; i++)
        sm_catalog_close(srv->cat_free[i]);
    srv->n_open -= srv->n_free;
    srv->n_free = 0;
    pthread_mutex_unlock(&srv->cat_lock);
    sm_free(srv->cat_free);
    srv->cat_free = NULL;
}

sm_catalog *sm__srv_catalog_acquire(sm_srv *srv, sm_error *err)
{
    pthread_mutex_lock(&srv->cat_lock);
    for (;;) {
        if (srv->n_free) {
            sm_catalog *c = srv->cat_free[--srv->n_free];
            pthread_mutex_unlock(&srv->cat_lock);
            return c;
        }
        if (srv->n_open < srv->max_open)
            break;
        pthread_cond_wait(&srv->cat_cond, &srv->cat_lock);
    }
    srv->n_open++;
    pthread_mutex_unlock(&srv->cat_lock);
    sm_catalog *c = sm_catalog_open(srv->cfg.db, NULL, err);
    if (!c) {
        pthread_mutex_lock(&srv->cat_lock);
        srv->n_open--;
        pthread_cond_signal(&srv->cat_cond);
        pthread_mutex_unlock(&srv->cat_lock);
    }
    return c;
}

void sm__srv_catalog_release(sm_srv *srv, sm_catalog *cat)
{
    if (!cat)
        return;
    pthread_mutex_lock(&srv->cat_lock);
    if (srv->cat_free && srv->n_free < srv->max_open) {
        srv->cat_free[srv->n_free++] = cat;
        cat = NULL;
    } else {
        srv->n_open--;
    }
    pthread_cond_signal(&srv->cat_cond);
    pthread_mutex_unlock(&srv->cat_lock);
    if (cat)
        sm_catalog_close(cat);
}
