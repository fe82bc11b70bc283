/* The routing table: method + path pattern -> handler (no HTTP library inside,
 * so the unit tests can drive it directly). */
#ifndef SM_SERVER_ROUTER_H
#define SM_SERVER_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "server.h"

#define SM_ROUTER_MAX_SEGS 12
#define SM_ROUTER_MAX_PARAMS 4

struct sm_route {
    char *method;
    char *pattern;
    char *summary;
    unsigned flags;
    sm_srv_handler fn;
    void *userdata;
    int n_segs;
    char *segs[SM_ROUTER_MAX_SEGS]; /* literal text, or the name of a "{name}" segment */
    bool is_param[SM_ROUTER_MAX_SEGS];
};

struct sm_router {
    struct sm_route *v;
    size_t n;
    size_t cap;
};

/* Result of a match: the route and its parameters (values point into \p buf). */
struct sm_route_match {
    int route;                                /* index, or -1 */
    int n_params;
    const char *names[SM_ROUTER_MAX_PARAMS];
    const char *values[SM_ROUTER_MAX_PARAMS];
    char buf[512];
    char allow[96];                           /* on 405: "GET, HEAD, POST" */
};

void sm__router_init(struct sm_router *r);
void sm__router_release(struct sm_router *r);
/* \return 0, or -1 with \p err filled (bad pattern or method, duplicate, memory). */
int sm__router_add(struct sm_router *r, const char *method, const char *pattern, unsigned flags,
                   sm_srv_handler fn, void *userdata, const char *summary, sm_error *err);

enum { SM_ROUTER_FOUND = 0, SM_ROUTER_NOT_FOUND = 1, SM_ROUTER_BAD_METHOD = 2 };

/* Match \p method (HEAD matches GET routes) and \p path.
 * \return SM_ROUTER_FOUND (m->route set), SM_ROUTER_BAD_METHOD (m->allow set) or
 * SM_ROUTER_NOT_FOUND. */
int sm__router_match(const struct sm_router *r, const char *method, const char *path,
                     struct sm_route_match *m);

/* \return the value of parameter \p name in \p m, or NULL. */
const char *sm__router_param(const struct sm_route_match *m, const char *name);

#endif
