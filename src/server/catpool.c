/* Catalog handles shared by the request and worker threads: a handle serves one
 * thread at a time, so idle handles wait in a free list. */
#include <samplemind/alloc.h>
#include <samplemind/catalog.h>

#include "server_int.h"

int sm__catpool_init(sm_srv *srv)
{
    pthread_mutex_init(&srv->watch_lock, NULL);
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
    sm_catalog_close(srv->watch_cat);
    srv->watch_cat = NULL;
    pthread_mutex_destroy(&srv->watch_lock);
}

/* The first change after a quiet spell makes the indexes stale at once (a scan
 * from the command line is searchable when it ends); while another process keeps
 * writing, they are reloaded at most every WATCH_RELOAD_MS, so a long scan does
 * not turn every search into an index load. */
#define WATCH_RELOAD_MS 2000.0

void sm__srv_catalog_watch(sm_srv *srv)
{
    double now = sm__srv_now() * 1e3;
    bool stale = false;
    pthread_mutex_lock(&srv->watch_lock);
    if (!srv->watch_cat && now - srv->watch_open_ms >= 1000.0) {
        srv->watch_open_ms = now;
        srv->watch_cat = sm_catalog_open(srv->cfg.db, NULL, NULL);
        if (srv->watch_cat &&
            sm_catalog_data_version(srv->watch_cat, &srv->watch_version, NULL) != SM_OK) {
            sm_catalog_close(srv->watch_cat);
            srv->watch_cat = NULL;
        }
    }
    uint64_t v = 0;
    if (srv->watch_cat && sm_catalog_data_version(srv->watch_cat, &v, NULL) == SM_OK &&
        v != srv->watch_version) {
        srv->watch_version = v;
        srv->watch_pending = true;
    }
    if (srv->watch_pending && now - srv->watch_stale_ms >= WATCH_RELOAD_MS) {
        srv->watch_pending = false;
        srv->watch_stale_ms = now;
        stale = true;
    }
    pthread_mutex_unlock(&srv->watch_lock);
    if (stale)
        sm__srv_indexes_stale(srv);
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
