/* samplemind apikey create|revoke|list: API keys for scripts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cli.h"

static void apikey_usage(FILE *out)
{
    fprintf(out, "Usage: samplemind apikey create USER NAME [--days N]\n"
                 "       samplemind apikey revoke ID\n"
                 "       samplemind apikey list\n"
                 "\n"
                 "API keys act as USER with 'Authorization: Bearer <key>'. The key is\n"
                 "printed once; only its hash is kept. Without --days it never expires.\n");
}

static int print_key(int64_t id, const char *username, const char *name, int64_t created,
                     int64_t expires, bool revoked, void *ud)
{
    (void)created;
    bool json = *(bool *)ud;
    if (json)
        printf("{\"id\":%lld,\"user\":\"%s\",\"name\":\"%s\",\"expires\":%lld,\"revoked\":%s}\n",
               (long long)id, username, name ? name : "", (long long)expires,
               revoked ? "true" : "false");
    else
        printf("%-6lld %-20s %-24s %s\n", (long long)id, username, name ? name : "",
               revoked ? "revoked" : "live");
    return 0;
}

int sm_cmd_apikey(struct sm_cli *cli, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        apikey_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SM_EXIT_USAGE : SM_EXIT_OK;
    }
    const char *sub = argv[1];
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    long days = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--days") && i + 1 < argc) {
            char *end = NULL;
            days = strtol(argv[++i], &end, 10);
            if (*end || days < 1 || days > 3650) {
                sm_cli_error(cli, "apikey: --days must be 1..3650");
                return SM_EXIT_USAGE;
            }
        } else if (argv[i][0] == '-' || npos >= 2) {
            sm_cli_error(cli, "apikey: unexpected argument '%s'", argv[i]);
            return SM_EXIT_USAGE;
        } else {
            pos[npos++] = argv[i];
        }
    }
    int need = !strcmp(sub, "create") ? 2 : !strcmp(sub, "revoke") ? 1 : !strcmp(sub, "list") ? 0 : -1;
    if (need < 0) {
        sm_cli_error(cli, "apikey: unknown sub-command '%s' (create, revoke, list)", sub);
        return SM_EXIT_USAGE;
    }
    if (npos != need) {
        sm_cli_error(cli, "apikey %s: expected %d argument(s)", sub, need);
        return SM_EXIT_USAGE;
    }
    int64_t id = 0;
    if (need == 1) {
        char *end = NULL;
        id = strtoll(pos[0], &end, 10);
        if (*end || id < 1) {
            sm_cli_error(cli, "apikey revoke: ID must be a positive number");
            return SM_EXIT_USAGE;
        }
    }
    int rc = 0;
    struct sm_auth *a = sm_cli_open_auth(cli, &rc);
    if (!a)
        return rc;
    sm_error err = SM_ERROR_INIT;
    sm_status st;
    if (need == 2) {
        char key[SM_AUTH_TOKEN_SIZE];
        st = sm__auth_apikey_create(a, pos[0], pos[1], (int64_t)days * 86400, key, &id, &err);
        if (st == SM_OK) {
            if (sm_cli_want_json(cli))
                printf("{\"id\":%lld,\"key\":\"%s\"}\n", (long long)id, key);
            else
                printf("API key %lld for %s: %s\n", (long long)id, pos[0], key);
        }
        memset(key, 0, sizeof(key));
    } else if (need == 1) {
        st = sm__auth_apikey_revoke(a, id, &err);
    } else {
        bool json = sm_cli_want_json(cli);
        st = sm__auth_apikey_each(a, print_key, &json, &err);
    }
    sm__auth_close(a);
    if (st != SM_OK) {
        sm_cli_error(cli, "apikey %s: %s", sub, err.msg);
        return st == SM_EINVAL ? SM_EXIT_USAGE : SM_EXIT_FAILED;
    }
    return SM_EXIT_OK;
}
