/* An answer stored with its catalog sample: the bridge from sm_ai_answer to the
 * catalog's record (include/samplemind/catalog.h, sm_catalog_put_ai_answer). */
#include <samplemind/ai.h>
#include <samplemind/catalog.h>

sm_status sm_ai_answer_store(const sm_ai_answer *a, sm_catalog *cat, int64_t id, sm_error *err)
{
    if (!a || !cat)
        return sm_error_set(err, SM_EINVAL, "ai: store needs an answer and a catalog");
    if (!a->ok || !a->valid || !a->json || a->simulated)
        return SM_OK;
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
    return sm_catalog_put_ai_answer(cat, id, &c, err);
}
