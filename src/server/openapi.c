/* GET /api/v1/openapi.json: the OpenAPI 3 description of the API.
 *
 * The document is docs/openapi.json, embedded into the binary at build time;
 * tests/integration/test_server.sh checks that its paths and the routing table
 * agree. Paths marked "x-optional" belong to the AI layer and are left out of the
 * served document when that layer is not built in. */
#include <string.h>

#include "server_int.h"

#include <samplemind/alloc.h>

/* docs/openapi.json, embedded at build time (cmake/embed_file.cmake). */
extern const char sm__openapi_doc[];

const char *sm__openapi_text(void)
{
    return sm__openapi_doc;
}

/* The document without the optional paths that have no route. */
static json_t *served_doc(sm_srv *srv)
{
    json_t *doc = json_loads(sm__openapi_text(), 0, NULL);
    json_t *paths = doc ? json_object_get(doc, "paths") : NULL;
    if (!paths)
        return doc;
    const char *path;
    json_t *item;
    void *tmp;
    json_object_foreach_safe(paths, tmp, path, item)
    {
        const char *method;
        json_t *op;
        void *tmp2;
        json_object_foreach_safe(item, tmp2, method, op)
        {
            if (!json_is_true(json_object_get(op, "x-optional")))
                continue;
            char upper[8] = "";
            for (size_t i = 0; i < sizeof(upper) - 1 && method[i]; i++)
                upper[i] = (char)(method[i] - 'a' + 'A');
            struct sm_route_match m;
            bool found = sm__router_match(&srv->router, upper, path, &m) == SM_ROUTER_FOUND &&
                         !strcmp(srv->router.v[m.route].pattern, path);
            if (!found)
                json_object_del(item, method);
        }
        if (!json_object_size(item))
            json_object_del(paths, path);
    }
    return doc;
}

static int openapi(sm_req *req, void *ud)
{
    (void)ud;
    return sm__req_reply_json(req, 200, served_doc(sm__req_srv(req)));
}

int sm__routes_openapi(sm_srv *srv)
{
    return sm__srv_route(srv, "GET", "/api/v1/openapi.json", SM_ROUTE_PUBLIC, openapi, NULL,
                         "This document");
}
