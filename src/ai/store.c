/* An answer stored with its catalog sample: the bridge from sm_ai_answer to the
 * catalog's record (include/samplemind/catalog.h, sm_catalog_put_ai_answer). */
#include <string.h>

#include <samplemind/ai.h>
#include <samplemind/catalog.h>

struct same {
    const sm_ai_answer *a;
    bool found;
};

static int is_same(const sm_catalog_ai_answer *r, void *userdata)
{
    struct same *s = userdata;
    if (r->task && !strcmp(r->task, sm_ai_task_name(s->a->task)) && r->provider &&
        !strcmp(r->provider, s->a->provider) && r->model && !strcmp(r->model, s->a->model) &&
        r->answer && !strcmp(r->answer, s->a->json))
        s->found = true;
    return 0;
}

sm_status sm_ai_answer_store(const sm_ai_answer *a, sm_catalog *cat, int64_t id, bool *stored,
                             sm_error *err)
{
    if (stored)
        *stored = false;
    if (!a || !cat)
        return sm_error_set(err, SM_EINVAL, "ai: store needs an answer and a catalog");
    if (!a->ok || !a->valid || !a->json || a->simulated)
        return SM_OK;
    if (a->cached) {
        /* The same answer again from the cache (a sample viewed twice): the stored
         * record, with the first answer's latency and cost, stands; no write. */
        struct same s = {a, false};
        sm_status rc = sm_catalog_each_ai_answer(cat, id, is_same, &s, err);
        if (rc != SM_OK || s.found)
            return rc;
    }
    sm_catalog_ai_answer c;
    sm_catalog_ai_answer_init(&c);
    c.task = sm_ai_task_name(a->task);
    c.provider = a->provider;
    c.model = a->model;
    c.answer = a->json;
    c.latency_ms = a->latency_ms;
    c.tokens_in = a->tokens_in;
    c.tokens_out = a->tokens_out;
    c.tokens_estimated = a->tokens_estimated;
    c.cost_usd = a->cost_estimate;
    c.cached = a->cached;
    sm_status rc = sm_catalog_put_ai_answer(cat, id, &c, err);
    if (stored)
        *stored = rc == SM_OK;
    return rc;
}
