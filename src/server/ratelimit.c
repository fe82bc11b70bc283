/* Token buckets in a chained hash table under one mutex. */
#include <pthread.h>
#include <string.h>

#include <samplemind/alloc.h>

#include "ratelimit.h"

struct bucket {
    struct bucket *next;
    double tokens;
    double last;
    char key[];
};

struct sm_rl {
    double rate;
    double burst;
    size_t max_keys;
    size_t n;
    size_t n_slots;
    struct bucket **slots;
    pthread_mutex_t lock;
};

static size_t hash_key(const char *s)
{
    size_t h = 1469598103934665603ULL;
    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ULL;
    }
    return h;
}

struct sm_rl *sm__rl_new(double rate, double burst, size_t max_keys)
{
    if (!(rate > 0) || !(burst >= 1) || max_keys < 1)
        return NULL;
    struct sm_rl *rl = sm_calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    rl->rate = rate;
    rl->burst = burst;
    rl->max_keys = max_keys;
    rl->n_slots = 256;
    while (rl->n_slots < max_keys / 2)
        rl->n_slots *= 2;
    rl->slots = sm_calloc(rl->n_slots, sizeof(*rl->slots));
    if (!rl->slots) {
        sm_free(rl);
        return NULL;
    }
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void sm__rl_free(struct sm_rl *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < rl->n_slots; i++) {
        struct bucket *b = rl->slots[i];
        while (b) {
            struct bucket *next = b->next;
            sm_free(b);
            b = next;
        }
    }
    sm_free(rl->slots);
    pthread_mutex_destroy(&rl->lock);
    sm_free(rl);
}

/* Drop buckets that have refilled completely (they behave like new ones). */
static void sweep(struct sm_rl *rl, double now)
{
    double full_after = rl->burst / rl->rate;
    for (size_t i = 0; i < rl->n_slots; i++) {
        struct bucket **pp = &rl->slots[i];
        while (*pp) {
            struct bucket *b = *pp;
            if (now - b->last >= full_after) {
                *pp = b->next;
                sm_free(b);
                rl->n--;
            } else {
                pp = &b->next;
            }
        }
    }
}

double sm__rl_take(struct sm_rl *rl, const char *key, double now)
{
    size_t slot = hash_key(key) & (rl->n_slots - 1);
    double wait = 0;
    pthread_mutex_lock(&rl->lock);
    struct bucket *b = rl->slots[slot];
    while (b && strcmp(b->key, key))
        b = b->next;
    if (!b) {
        if (rl->n >= rl->max_keys)
            sweep(rl, now);
        if (rl->n >= rl->max_keys) {
            /* Every bucket is busy: refuse rather than forget someone's debt. */
            pthread_mutex_unlock(&rl->lock);
            return 1.0 / rl->rate;
        }
        size_t len = strlen(key);
        b = sm_malloc(sizeof(*b) + len + 1);
        if (!b) {
            pthread_mutex_unlock(&rl->lock);
            return 1.0 / rl->rate;
        }
        memcpy(b->key, key, len + 1);
        b->tokens = rl->burst;
        b->last = now;
        b->next = rl->slots[slot];
        rl->slots[slot] = b;
        rl->n++;
    }
    double t = b->tokens + (now - b->last) * rl->rate;
    if (t > rl->burst)
        t = rl->burst;
    b->last = now;
    if (t >= 1) {
        b->tokens = t - 1;
    } else {
        b->tokens = t;
        wait = (1 - t) / rl->rate;
        if (!(wait > 0))
            wait = 1e-6;
    }
    pthread_mutex_unlock(&rl->lock);
    return wait;
}

size_t sm__rl_size(struct sm_rl *rl)
{
    pthread_mutex_lock(&rl->lock);
    size_t n = rl->n;
    pthread_mutex_unlock(&rl->lock);
    return n;
}
