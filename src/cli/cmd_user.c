/* samplemind user add|del|list|passwd: the users of the HTTP API (auth.db). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth.h"
#include "cli.h"
#include "config.h"

static void user_usage(FILE *out)
{
    fprintf(out, "Usage: samplemind user add NAME [--role admin|member] [--password-stdin]\n"
                 "       samplemind user passwd NAME [--password-stdin]\n"
                 "       samplemind user del NAME\n"
                 "       samplemind user list\n"
                 "\n"
                 "Users of the HTTP API, kept in DATA_DIR/auth.db. Without --password-stdin\n"
                 "a random password is made and printed once. passwd revokes the user's\n"
                 "login tokens; del also removes their API keys.\n");
}

/* Open DATA_DIR/auth.db after resolving the configuration. */
struct sm_auth *sm_cli_open_auth(struct sm_cli *cli, int *rc)
{
    struct sm_srv_config cfg;
    *rc = sm_cli_server_config(cli, &cfg, 0, NULL, NULL);
    if (*rc)
        return NULL;
    mkdir(cfg.data_dir, 0700);
    char path[4200];
    snprintf(path, sizeof(path), "%s/auth.db", cfg.data_dir);
    sm__config_release(&cfg);
    sm_error err = SM_ERROR_INIT;
    struct sm_auth *a = sm__auth_open(path, &err);
    if (!a) {
        sm_cli_error(cli, "%s", err.msg);
        *rc = SM_EXIT_FAILED;
    }
    return a;
}

static int read_password(char *buf, size_t size)
{
    if (!fgets(buf, (int)size, stdin))
        return -1;
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

static int print_user(const char *username, int role, int64_t created, void *ud)
{
    bool json = *(bool *)ud;
    char when[32];
    time_t t = (time_t)created;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *r = role == SM_ROLE_ADMIN ? "admin" : "member";
    if (json)
        printf("{\"username\":\"%s\",\"role\":\"%s\",\"created\":\"%s\"}\n", username, r, when);
    else
        printf("%-24s %-7s %s\n", username, r, when);
    return 0;
}

int sm_cmd_user(struct sm_cli *cli, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        user_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SM_EXIT_USAGE : SM_EXIT_OK;
    }
    const char *sub = argv[1];
    const char *name = NULL;
    const char *role = "member";
    bool from_stdin = false;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--role") && i + 1 < argc) {
            role = argv[++i];
        } else if (!strncmp(argv[i], "--role=", 7)) {
            role = argv[i] + 7;
        } else if (!strcmp(argv[i], "--password-stdin")) {
            from_stdin = true;
        } else if (argv[i][0] == '-' || name) {
            sm_cli_error(cli, "user: unexpected argument '%s'", argv[i]);
            return SM_EXIT_USAGE;
        } else {
            name = argv[i];
        }
    }
    bool is_list = !strcmp(sub, "list");
    if (!is_list && strcmp(sub, "add") && strcmp(sub, "del") && strcmp(sub, "passwd")) {
        sm_cli_error(cli, "user: unknown sub-command '%s' (add, del, list, passwd)", sub);
        return SM_EXIT_USAGE;
    }
    if (!is_list && !name) {
        sm_cli_error(cli, "user %s: a user name is required", sub);
        return SM_EXIT_USAGE;
    }
    if (strcmp(role, "admin") && strcmp(role, "member")) {
        sm_cli_error(cli, "user: --role must be admin or member");
        return SM_EXIT_USAGE;
    }
    int rc = 0;
    struct sm_auth *a = sm_cli_open_auth(cli, &rc);
    if (!a)
        return rc;
    sm_error err = SM_ERROR_INIT;
    sm_status st = SM_OK;
    if (is_list) {
        bool json = sm_cli_want_json(cli);
        st = sm__auth_user_each(a, print_user, &json, &err);
    } else if (!strcmp(sub, "del")) {
        st = sm__auth_user_del(a, name, &err);
    } else {
        char pw[1100];
        bool made = false;
        if (from_stdin) {
            if (read_password(pw, sizeof(pw))) {
                sm_cli_error(cli, "user %s: no password on stdin", sub);
                sm__auth_close(a);
                return SM_EXIT_USAGE;
            }
        } else {
            sm__auth_random_password(pw);
            made = true;
        }
        if (!strcmp(sub, "add"))
            st = sm__auth_user_add(a, name, pw,
                                   strcmp(role, "admin") ? SM_ROLE_MEMBER : SM_ROLE_ADMIN, &err);
        else
            st = sm__auth_user_passwd(a, name, pw, &err);
        if (st == SM_OK && made)
            printf("password for %s: %s\n", name, pw);
        memset(pw, 0, sizeof(pw));
    }
    sm__auth_close(a);
    if (st != SM_OK) {
        sm_cli_error(cli, "user %s: %s", sub, err.msg);
        return st == SM_EINVAL ? SM_EXIT_USAGE : SM_EXIT_FAILED;
    }
    return SM_EXIT_OK;
}
