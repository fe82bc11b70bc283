#include <stdarg.h>
#include <stdio.h>

#include <samplemind/log.h>

static sm_log_fn log_fn;
static void *log_userdata;
static sm_log_level log_level = SM_LOG_WARN;

void sm_log_set_handler(sm_log_fn fn, void *userdata)
{
    log_fn = fn;
    log_userdata = userdata;
}

void sm_log_set_level(sm_log_level level)
{
    log_level = level;
}

sm_log_level sm_log_get_level(void)
{
    return log_fn ? log_level : (sm_log_level)-1;
}

void sm_log_write(sm_log_level level, const char *fmt, ...)
{
    if (!log_fn || level > log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_fn(level, msg, log_userdata);
}
