/* Single-flight: a hash table of keys in flight, each with its waiters. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <samplemind/alloc.h>

#include "cache/flight.h"

#define BUCKETS 256

struct waiter {
    struct waiter *next;
    sm__flight_fn fn;
    void *userdata;
};

struct entry {
    struct entry *next;
    struct waiter *waiters;
    char *key;
};

struct sm__flight {
    pthread_mutex_t lock;
    struct entry *b[BUCKETS];
    size_t count;
};

static unsigned bucket(const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h % BUCKETS;
}

struct sm__flight *sm__flight_new(void)
{
    struct sm__flight *f = sm_calloc(1, sizeof(*f));
    if (f)
        pthread_mutex_init(&f->lock, NULL);
    return f;
}

static void call_all(struct waiter *w, void *result)
{
    /* Waiters were pushed on the front: call them in arrival order. */
    struct waiter *rev = NULL;
    while (w) {
        struct waiter *n = w->next;
        w->next = rev;
        rev = w;
        w = n;
    }
    while (rev) {
        struct waiter *n = rev->next;
        rev->fn(result, rev->userdata);
        sm_free(rev);
        rev = n;
    }
}

void sm__flight_free(struct sm__flight *f)
{
    if (!f)
        return;
    for (int i = 0; i < BUCKETS; i++) {
        while (f->b[i]) {
            struct entry *e = f->b[i];
            f->b[i] = e->next;
            call_all(e->waiters, NULL);
            sm_free(e->key);
            sm_free(e);
        }
    }
    pthread_mutex_destroy(&f->lock);
    sm_free(f);
}

int sm__flight_join(struct sm__flight *f, const char *key, sm__flight_fn fn, void *userdata)
{
    unsigned i = bucket(key);
    pthread_mutex_lock(&f->lock);
    struct entry *e = f->b[i];
    while (e && strcmp(e->key, key))
        e = e->next;
    int r;
    if (e) {
        struct waiter *w = sm_malloc(sizeof(*w));
        if (!w) {
            r = -1;
        } else {
            w->fn = fn;
            w->userdata = userdata;
            w->next = e->waiters;
            e->waiters = w;
            r = 0;
        }
    } else {
        e = sm_calloc(1, sizeof(*e));
        char *k = e ? sm_strdup(key) : NULL;
        if (!k) {
            sm_free(e);
            r = -1;
        } else {
            e->key = k;
            e->next = f->b[i];
            f->b[i] = e;
            f->count++;
            r = 1;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}

size_t sm__flight_done(struct sm__flight *f, const char *key, void *result)
{
    unsigned i = bucket(key);
    pthread_mutex_lock(&f->lock);
    struct entry **pp = &f->b[i];
    while (*pp && strcmp((*pp)->key, key))
        pp = &(*pp)->next;
    struct entry *e = *pp;
    if (e) {
        *pp = e->next;
        f->count--;
    }
    pthread_mutex_unlock(&f->lock);
    if (!e)
        return 0;
    size_t n = 0;
    for (struct waiter *w = e->waiters; w; w = w->next)
        n++;
    call_all(e->waiters, result);
    sm_free(e->key);
    sm_free(e);
    return n;
}

size_t sm__flight_count(struct sm__flight *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = f->count;
    pthread_mutex_unlock(&f->lock);
    return n;
}
