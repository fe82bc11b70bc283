/* The routing table: literal and "{name}" segments, matched segment by segment. */
#include <stdio.h>
#include <string.h>

#include <samplemind/alloc.h>

#include "router.h"

void sm__router_init(struct sm_router *r)
{
    r->v = NULL;
    r->n = 0;
    r->cap = 0;
}

static void route_release(struct sm_route *rt)
{
    sm_free(rt->method);
    sm_free(rt->pattern);
    sm_free(rt->summary);
    for (int i = 0; i < rt->n_segs; i++)
        sm_free(rt->segs[i]);
}

void sm__router_release(struct sm_router *r)
{
    for (size_t i = 0; i < r->n; i++)
        route_release(&r->v[i]);
    sm_free(r->v);
    sm__router_init(r);
}

static bool valid_method(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > 7)
        return false;
    for (size_t i = 0; i < n; i++)
        if (m[i] < 'A' || m[i] > 'Z')
            return false;
    return true;
}

static bool seg_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
}

/* Split \p pattern into \p rt's segments. */
static int parse_pattern(struct sm_route *rt, const char *pattern, sm_error *err)
{
    if (pattern[0] != '/') {
        sm_error_set(err, SM_EINVAL, "route '%s': must start with '/'", pattern);
        return -1;
    }
    const char *p = pattern + 1;
    if (!*p)
        return 0; /* "/" has no segments */
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || rt->n_segs >= SM_ROUTER_MAX_SEGS) {
            sm_error_set(err, SM_EINVAL, "route '%s': empty segment or too many", pattern);
            return -1;
        }
        bool param = p[0] == '{';
        const char *s = p;
        size_t n = len;
        if (param) {
            if (len < 3 || p[len - 1] != '}') {
                sm_error_set(err, SM_EINVAL, "route '%s': bad parameter segment", pattern);
                return -1;
            }
            s = p + 1;
            n = len - 2;
        }
        for (size_t i = 0; i < n; i++) {
            if (!seg_char_ok(s[i])) {
                sm_error_set(err, SM_EINVAL, "route '%s': bad character", pattern);
                return -1;
            }
        }
        char *seg = sm_malloc(n + 1);
        if (!seg) {
            sm_error_set(err, SM_ENOMEM, "route '%s': out of memory", pattern);
            return -1;
        }
        memcpy(seg, s, n);
        seg[n] = '\0';
        rt->segs[rt->n_segs] = seg;
        rt->is_param[rt->n_segs] = param;
        rt->n_segs++;
        if (!end)
            break;
        p = end + 1;
    }
    int params = 0;
    for (int i = 0; i < rt->n_segs; i++)
        params += rt->is_param[i];
    if (params > SM_ROUTER_MAX_PARAMS) {
        sm_error_set(err, SM_EINVAL, "route '%s': too many parameters", pattern);
        return -1;
    }
    return 0;
}

/* True when two routes would match the same paths. */
static bool same_shape(const struct sm_route *a, const struct sm_route *b)
{
    if (a->n_segs != b->n_segs)
        return false;
    for (int i = 0; i < a->n_segs; i++) {
        if (a->is_param[i] != b->is_param[i])
            return false;
        if (!a->is_param[i] && strcmp(a->segs[i], b->segs[i]))
            return false;
    }
    return true;
}

int sm__router_add(struct sm_router *r, const char *method, const char *pattern, unsigned flags,
                   sm_srv_handler fn, void *userdata, const char *summary, sm_error *err)
{
    if (!method || !pattern || !fn || !valid_method(method)) {
        sm_error_set(err, SM_EINVAL, "route: method, pattern and handler are required");
        return -1;
    }
    struct sm_route rt;
    memset(&rt, 0, sizeof(rt));
    if (parse_pattern(&rt, pattern, err)) {
        route_release(&rt);
        return -1;
    }
    rt.flags = flags;
    rt.fn = fn;
    rt.userdata = userdata;
    rt.method = sm_strdup(method);
    rt.pattern = sm_strdup(pattern);
    rt.summary = sm_strdup(summary ? summary : "");
    if (!rt.method || !rt.pattern || !rt.summary) {
        route_release(&rt);
        sm_error_set(err, SM_ENOMEM, "route '%s': out of memory", pattern);
        return -1;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (!strcmp(r->v[i].method, method) && same_shape(&r->v[i], &rt)) {
            sm_error_set(err, SM_EINVAL, "route %s %s: duplicate of %s", method, pattern,
                         r->v[i].pattern);
            route_release(&rt);
            return -1;
        }
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct sm_route *v = sm_realloc(r->v, cap * sizeof(*v));
        if (!v) {
            route_release(&rt);
            sm_error_set(err, SM_ENOMEM, "route '%s': out of memory", pattern);
            return -1;
        }
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = rt;
    return 0;
}

/* Split \p path into segments inside m->buf. \return the count, or -1. */
static int split_path(const char *path, struct sm_route_match *m, const char **segs)
{
    if (path[0] != '/')
        return -1;
    size_t len = strlen(path);
    if (len >= sizeof(m->buf))
        return -1;
    memcpy(m->buf, path, len + 1);
    if (len == 1)
        return 0;
    int n = 0;
    char *p = m->buf + 1;
    for (;;) {
        char *end = strchr(p, '/');
        if (end)
            *end = '\0';
        if (!*p || n >= SM_ROUTER_MAX_SEGS)
            return -1; /* empty segment ("//" or a trailing '/') or too deep */
        segs[n++] = p;
        if (!end)
            break;
        p = end + 1;
    }
    return n;
}

static bool shape_matches(const struct sm_route *rt, const char **segs, int n)
{
    if (rt->n_segs != n)
        return false;
    for (int i = 0; i < n; i++)
        if (!rt->is_param[i] && strcmp(rt->segs[i], segs[i]))
            return false;
    return true;
}

static void allow_add(char *allow, size_t size, const char *method)
{
    if (strstr(allow, method)) {
        /* Methods are whole words; "GET" inside "GET, HEAD" is the only overlap. */
        const char *p = allow;
        size_t n = strlen(method);
        while ((p = strstr(p, method))) {
            bool start = p == allow || p[-1] == ' ';
            bool end = p[n] == '\0' || p[n] == ',';
            if (start && end)
                return;
            p += n;
        }
    }
    size_t used = strlen(allow);
    snprintf(allow + used, size - used, "%s%s", used ? ", " : "", method);
}

int sm__router_match(const struct sm_router *r, const char *method, const char *path,
                     struct sm_route_match *m)
{
    m->route = -1;
    m->n_params = 0;
    m->allow[0] = '\0';
    const char *segs[SM_ROUTER_MAX_SEGS];
    int n = split_path(path, m, segs);
    if (n < 0)
        return SM_ROUTER_NOT_FOUND;
    const char *want = strcmp(method, "HEAD") ? method : "GET";
    bool shape_found = false;
    for (size_t i = 0; i < r->n; i++) {
        const struct sm_route *rt = &r->v[i];
        if (!shape_matches(rt, segs, n))
            continue;
        shape_found = true;
        if (strcmp(rt->method, want))
            continue;
        m->route = (int)i;
        for (int s = 0; s < n; s++) {
            if (rt->is_param[s] && m->n_params < SM_ROUTER_MAX_PARAMS) {
                m->names[m->n_params] = rt->segs[s];
                m->values[m->n_params] = segs[s];
                m->n_params++;
            }
        }
        return SM_ROUTER_FOUND;
    }
    if (!shape_found)
        return SM_ROUTER_NOT_FOUND;
    for (size_t i = 0; i < r->n; i++) {
        if (shape_matches(&r->v[i], segs, n)) {
            allow_add(m->allow, sizeof(m->allow), r->v[i].method);
            if (!strcmp(r->v[i].method, "GET"))
                allow_add(m->allow, sizeof(m->allow), "HEAD");
        }
    }
    return SM_ROUTER_BAD_METHOD;
}

const char *sm__router_param(const struct sm_route_match *m, const char *name)
{
    for (int i = 0; i < m->n_params; i++)
        if (!strcmp(m->names[i], name))
            return m->values[i];
    return NULL;
}
