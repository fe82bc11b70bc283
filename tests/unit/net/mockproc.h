/* Test helpers (header-only): start and stop tests/mocks/mock_provider.py and a
 * redis-server on free loopback ports, and talk to the mock's control endpoints. */
#ifndef SM_TEST_MOCKPROC_H
#define SM_TEST_MOCKPROC_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <samplemind/net.h>

struct mockproc {
    pid_t pid;
    int port;
    char url[64];
    char dir[256];
};

/* Every process started, so a failed test (cmocka longjmps) cannot leak one. */
static pid_t mp_started[16];

static inline void mp_track(pid_t pid)
{
    for (int i = 0; i < 16; i++) {
        if (!mp_started[i]) {
            mp_started[i] = pid;
            return;
        }
    }
}

static inline void mp_stop_all(void)
{
    for (int i = 0; i < 16; i++) {
        if (mp_started[i] > 0) {
            kill(mp_started[i], SIGKILL);
            waitpid(mp_started[i], NULL, 0);
        }
        mp_started[i] = 0;
    }
}

static inline void mp_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline double mp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* The mock script, found from this header's own path (CMake compiles with absolute paths). */
static inline void mp_script(char *out, size_t size)
{
    const char *f = __FILE__;
    const char *cut = strstr(f, "tests/unit/");
    if (cut)
        snprintf(out, size, "%.*stests/mocks/mock_provider.py", (int)(cut - f), f);
    else
        snprintf(out, size, "tests/mocks/mock_provider.py");
}

static inline int mp_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    int port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static inline int mp_start_mock(struct mockproc *m)
{
    memset(m, 0, sizeof(*m));
    char script[512];
    mp_script(script, sizeof(script));
    const char *tmp = getenv("SM_TEST_TMP");
    char pf[300];
    snprintf(pf, sizeof(pf), "%s/mock-port-%d", tmp ? tmp : "/tmp", (int)getpid());
    unlink(pf);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("python3", "python3", script, "--port-file", pf, (char *)NULL);
        _exit(127);
    }
    m->pid = pid;
    mp_track(pid);
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(pf, "r");
        if (f) {
            int ok = fscanf(f, "%d", &m->port);
            fclose(f);
            if (ok == 1) {
                unlink(pf);
                snprintf(m->url, sizeof(m->url), "http://127.0.0.1:%d", m->port);
                return 0;
            }
        }
        mp_sleep_ms(25);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static inline void mp_stop(struct mockproc *m)
{
    if (m->pid > 0) {
        kill(m->pid, SIGKILL);
        waitpid(m->pid, NULL, 0);
        for (int i = 0; i < 16; i++)
            if (mp_started[i] == m->pid)
                mp_started[i] = 0;
    }
    m->pid = 0;
}

/* Start redis-server on a free port in a temp dir; 0 or -1 (not installed). */
static inline int mp_start_redis(struct mockproc *m, int port)
{
    if (!port) {
        memset(m, 0, sizeof(*m));
        port = mp_free_port();
    }
    const char *tmp = getenv("SM_TEST_TMP");
    snprintf(m->dir, sizeof(m->dir), "%s/redis-%d-%d", tmp ? tmp : "/tmp", (int)getpid(), port);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "mkdir -p %s", m->dir);
    if (system(cmd) != 0)
        return -1;
    m->port = port;
    snprintf(m->url, sizeof(m->url), "redis://127.0.0.1:%d/0", port);
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(m->dir) != 0 || !freopen("/dev/null", "w", stdout))
            _exit(126);
        execlp("redis-server", "redis-server", "--port", portstr, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--dir", m->dir, (char *)NULL);
        _exit(127);
    }
    m->pid = pid;
    mp_track(pid);
    for (int i = 0; i < 200; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
        if (rc == 0)
            return 0;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            m->pid = 0;
            return -1;
        }
        mp_sleep_ms(20);
    }
    mp_stop(m);
    return -1;
}

/* POST a JSON body to the mock's control path; 0 on HTTP 200. */
static inline int mp_control(sm_http *h, const struct mockproc *m, const char *path, const char *json)
{
    char url[160];
    snprintf(url, sizeof(url), "%s%s", m->url, path);
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    sm_http_request rq = {0};
    rq.url = url;
    rq.headers = hdrs;
    rq.body = json;
    rq.body_len = strlen(json);
    rq.max_attempts = 1;
    sm_http_response rs;
    sm_http_perform(h, &rq, &rs, NULL);
    int ok = rs.status == 200 ? 0 : -1;
    sm_http_response_release(&rs);
    return ok;
}

/* GET /_mock/stats into a new string (free with sm_free via release semantics). */
static inline char *mp_stats(sm_http *h, const struct mockproc *m)
{
    char url[160];
    snprintf(url, sizeof(url), "%s/_mock/stats", m->url);
    sm_http_request rq = {0};
    rq.url = url;
    rq.max_attempts = 1;
    sm_http_response rs;
    sm_http_perform(h, &rq, &rs, NULL);
    char *b = rs.body;
    rs.body = NULL;
    return b;
}

#endif
