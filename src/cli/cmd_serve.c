/* samplemind serve: the HTTP API (src/server) with its configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <samplemind/alloc.h>

#include "cli.h"
#include "config.h"
#include "server_int.h"

int sm_cli_server_config(struct sm_cli *cli, struct sm_srv_config *cfg, int argc, char **argv,
                         int *rest)
{
    sm_error err = SM_ERROR_INIT;
    if (sm__config_defaults(cfg)) {
        sm_cli_error(cli, "out of memory");
        return SM_EXIT_FAILED;
    }
    const char *ini = cli->config ? cli->config : getenv("SAMPLEMIND_CONFIG");
    if (ini && sm__config_load_ini(cfg, ini, &err))
        goto bad;
    if (sm__config_load_env(cfg, &err))
        goto bad;
    /* The global flags (or their environment variables, read by main). */
    if ((cli->data_dir && sm__config_set(cfg, "data_dir", cli->data_dir, "--data-dir", &err)) ||
        (cli->db && sm__config_set(cfg, "db", cli->db, "--db", &err)) ||
        (cli->cache && sm__config_set(cfg, "cache", cli->cache, "--cache", &err)))
        goto bad;
    int n = 0;
    for (int i = 1; i < argc; i++) {
        int r = sm__config_take_flag(cfg, argc, argv, &i, &err);
        if (r < 0)
            goto bad;
        if (r == 0 && rest)
            rest[n++] = i;
        else if (r == 0) {
            sm_cli_error(cli, "unknown flag '%s'", argv[i]);
            sm__config_release(cfg);
            return SM_EXIT_USAGE;
        }
    }
    if (rest)
        rest[n] = -1;
    if (sm__config_finish(cfg, &err))
        goto bad;
    return SM_EXIT_OK;
bad:
    sm_cli_error(cli, "%s", err.msg);
    sm__config_release(cfg);
    return SM_EXIT_USAGE;
}

static void serve_usage(FILE *out)
{
    fprintf(out,
            "Usage: samplemind serve [--host H] [--port P] [OPTIONS]\n"
            "\n"
            "Serve the HTTP API (docs/api.md). Options come from, strongest first:\n"
            "flags, SAMPLEMIND_* environment variables, the INI file (--config FILE or\n"
            "SAMPLEMIND_CONFIG; keys at top level or under [server]), then defaults.\n"
            "On first start the user 'admin' is created; its password is printed once\n"
            "and written to DATA_DIR/admin-password (mode 0600).\n"
            "\n"
            "Options:\n");
    sm__config_help(out);
    fprintf(out, "  %-24s print the routing table as JSON lines and exit\n", "--routes");
    fprintf(out, "  %-24s print the OpenAPI document and exit\n", "--openapi");
    fprintf(out, "\nGlobal flags --data-dir, --db, --cache and --config apply too.\n"
                 "SIGTERM or SIGINT stops gracefully (in-flight requests finish).\n");
}

int sm_cmd_serve(struct sm_cli *cli, int argc, char **argv)
{
    bool routes = false;
    bool openapi = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            serve_usage(stdout);
            return SM_EXIT_OK;
        }
    }
    int *rest = calloc((size_t)argc + 1, sizeof(int));
    if (!rest)
        return SM_EXIT_FAILED;
    struct sm_srv_config cfg;
    int rc = sm_cli_server_config(cli, &cfg, argc, argv, rest);
    if (rc) {
        free(rest);
        return rc;
    }
    for (int k = 0; rest[k] >= 0; k++) {
        const char *a = argv[rest[k]];
        if (!strcmp(a, "--routes")) {
            routes = true;
        } else if (!strcmp(a, "--openapi")) {
            openapi = true;
        } else {
            sm_cli_error(cli, "serve: unknown argument '%s' (see 'samplemind serve --help')", a);
            free(rest);
            sm__config_release(&cfg);
            return SM_EXIT_USAGE;
        }
    }
    free(rest);
    if (openapi) {
        fputs(sm__openapi_text(), stdout);
        sm__config_release(&cfg);
        return SM_EXIT_OK;
    }
    if (routes) {
        int r = sm__srv_print_routes(&cfg, stdout);
        sm__config_release(&cfg);
        return r ? SM_EXIT_FAILED : SM_EXIT_OK;
    }
    sm_error err = SM_ERROR_INIT;
    char admin_pw[32];
    sm_srv *srv = sm__srv_new(&cfg, admin_pw, &err);
    if (!srv) {
        sm_cli_error(cli, "serve: %s", err.msg);
        return err.code == SM_EUSAGE ? SM_EXIT_USAGE : SM_EXIT_FAILED;
    }
    if (sm__srv_start(srv, &err)) {
        sm_cli_error(cli, "serve: %s", err.msg);
        sm__srv_free(srv);
        return SM_EXIT_FAILED;
    }
    const struct sm_srv_config *c = sm__srv_config(srv);
    bool v6 = strchr(c->host, ':') != NULL;
    printf("SampleMind is serving on http://%s%s%s:%d/\n", v6 ? "[" : "", c->host, v6 ? "]" : "",
           sm__srv_port(srv));
    if (admin_pw[0])
        printf("First start: created user 'admin' with password %s\n"
               "(also written to %s/admin-password; change it with 'samplemind user passwd "
               "admin')\n",
               admin_pw, c->data_dir);
    fflush(stdout);
    memset(admin_pw, 0, sizeof(admin_pw));
    sm__srv_wait(srv);
    sm__srv_free(srv);
    return SM_EXIT_OK;
}
