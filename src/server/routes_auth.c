/* POST /api/v1/auth/login and /api/v1/auth/logout. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include <samplemind/alloc.h>

#include "jobs.h"
#include "server_int.h"

struct login_task {
    sm_req *req;
    char *username;
    char *password;
};

static void login_task_free(struct login_task *t)
{
    if (!t)
        return;
    if (t->password) {
        sodium_memzero(t->password, strlen(t->password));
        sm_free(t->password);
    }
    sm_free(t->username);
    sm_free(t);
}

static void login_run(void *ud)
{
    struct login_task *t = ud;
    sm_srv *srv = sm__req_srv(t->req);
    char token[SM_AUTH_TOKEN_SIZE];
    int64_t expires = 0;
    sm_error err = SM_ERROR_INIT;
    sm_status rc = sm__auth_login(srv->auth, t->username, t->password, srv->cfg.token_ttl,
                                  token, &expires, &err);
    if (rc == SM_EACCES) {
        sm__req_complete_error(t->req, 401, "unauthorized", "%s", err.msg);
    } else if (rc != SM_OK) {
        sm__req_complete_error(t->req, 500, sm_status_name(err.code), "%s", err.msg);
    } else {
        json_t *o = json_pack("{s:s,s:s,s:I,s:i}", "token", token, "token_type", "Bearer",
                              "expires_at", (json_int_t)expires, "expires_in",
                              srv->cfg.token_ttl);
        sm__req_complete(t->req, 200, o);
    }
    sodium_memzero(token, sizeof(token));
    login_task_free(t);
}

static int login(sm_req *req, void *ud)
{
    (void)ud;
    sm_srv *srv = sm__req_srv(req);
    double wait = sm__rl_take(srv->rl_login, sm__req_client(req), sm__srv_now());
    if (wait > 0) {
        char ra[32];
        snprintf(ra, sizeof(ra), "%d", (int)ceil(wait));
        sm__req_header_add(req, "Retry-After", ra);
        return sm__req_error(req, 429, "rate_limited", "too many login attempts; retry in %s s",
                             ra);
    }
    json_t *body = sm__req_json(req);
    if (!body)
        return SM_SRV_DONE;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "username") && strcmp(key, "password")) {
            sm__req_error(req, 400, "invalid_argument", "unknown field '%s'", key);
            json_decref(body);
            return SM_SRV_DONE;
        }
    }
    json_t *u = json_object_get(body, "username");
    json_t *p = json_object_get(body, "password");
    if (!json_is_string(u) || !json_is_string(p)) {
        json_decref(body);
        return sm__req_error(req, 400, "invalid_argument",
                             "'username' and 'password' must be strings");
    }
    struct login_task *t = sm_calloc(1, sizeof(*t));
    if (t) {
        t->req = req;
        t->username = sm_strdup(json_string_value(u));
        t->password = sm_strdup(json_string_value(p));
    }
    json_decref(body);
    if (!t || !t->username || !t->password || sm__jobs_submit(srv, login_run, t)) {
        login_task_free(t);
        return sm__req_error(req, 503, "unavailable", "cannot take the login now");
    }
    /* Argon2id takes a while: the worker answers, the request thread moves on. */
    return SM_SRV_PENDING;
}

static int logout(sm_req *req, void *ud)
{
    (void)ud;
    sm_srv *srv = sm__req_srv(req);
    const char *h = sm__req_header(req, "Authorization");
    const char *tok = h && strlen(h) > 7 ? h + 7 : "";
    while (*tok == ' ')
        tok++;
    sm_error err = SM_ERROR_INIT;
    if (sm__auth_revoke(srv->auth, tok, &err) != SM_OK)
        return sm__req_error_status(req, &err);
    return sm__req_reply_json(req, 200, json_pack("{s:b}", "revoked", 1));
}

int sm__routes_auth(sm_srv *srv)
{
    return sm__srv_route(srv, "POST", "/api/v1/auth/login", SM_ROUTE_PUBLIC, login, NULL,
                         "Exchange a user name and password for a bearer token") ||
           sm__srv_route(srv, "POST", "/api/v1/auth/logout", 0, logout, NULL,
                         "Revoke the bearer token of the request");
}
