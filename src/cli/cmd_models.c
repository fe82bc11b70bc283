/* samplemind models: providers, their models, health and circuit state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <samplemind/ai.h>
#include <samplemind/alloc.h>

#include "cli.h"

int sm_cmd_models(struct sm_cli *cli, int argc, char **argv)
{
    bool probe = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-probe")) {
            probe = false;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("Usage: samplemind models [--no-probe]\n"
                   "Lists the AI providers, their models (Ollama's from /api/tags), health\n"
                   "(a GET to each configured provider; no tokens spent) and circuit state.\n");
            return SM_EXIT_OK;
        } else {
            sm_cli_error(cli, "models: unknown argument '%s'", argv[i]);
            return SM_EXIT_USAGE;
        }
    }
    struct sm_ai *ai = sm_cli_open_ai(cli, NULL);
    if (!ai)
        return SM_EXIT_FAILED;
    char *j = sm_ai_providers_json(ai, probe);
    sm_ai_free(ai);
    if (!j)
        return SM_EXIT_FAILED;
    if (sm_cli_want_json(cli)) {
        json_t *o = json_loads(j, 0, NULL);
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(o, "providers"), i, p)
        {
            char *t = json_dumps(p, JSON_COMPACT);
            puts(t);
            free(t);
        }
        json_decref(o);
    } else {
        json_t *o = json_loads(j, 0, NULL);
        printf("%-18s %-10s %-6s %-14s %-10s %s\n", "PROVIDER", "CONFIGURED", "PAID", "HEALTH",
               "CIRCUIT", "MODELS");
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(o, "providers"), i, p)
        {
            char models[256] = "";
            json_t *ms = json_object_get(p, "models");
            if (json_is_array(ms)) {
                size_t k;
                json_t *m;
                size_t n = 0;
                json_array_foreach(ms, k, m)
                {
                    n += (size_t)snprintf(models + n, n < sizeof(models) ? sizeof(models) - n : 0,
                                          "%s%s", k ? ", " : "", json_string_value(m));
                    if (n >= sizeof(models))
                        break;
                }
            } else {
                snprintf(models, sizeof(models), "%s",
                         json_string_value(json_object_get(p, "model")));
            }
            printf("%-18s %-10s %-6s %-14s %-10s %s\n",
                   json_string_value(json_object_get(p, "name")),
                   json_is_true(json_object_get(p, "configured")) ? "yes" : "no",
                   json_is_true(json_object_get(p, "paid")) ? "yes" : "no",
                   json_string_value(json_object_get(p, "health")),
                   json_string_value(json_object_get(json_object_get(p, "circuit"), "state")),
                   models);
        }
        printf("daily budget $%.2f, spent today $%.4f\n",
               json_number_value(json_object_get(o, "daily_budget")),
               json_number_value(json_object_get(o, "spent_today")));
        json_decref(o);
    }
    sm_free(j);
    return SM_EXIT_OK;
}
