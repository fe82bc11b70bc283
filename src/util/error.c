#include <stdarg.h>
#include <stdio.h>

#include <samplemind/error.h>

const char *sm_status_name(sm_status code)
{
    switch (code) {
#define SM__STATUS_NAME(suffix, num, name, text)                                    \
    case SM_##suffix:                                                               \
        return name;
        SM_STATUS_MAP(SM__STATUS_NAME)
#undef SM__STATUS_NAME
    }
    return "unknown";
}

const char *sm_status_str(sm_status code)
{
    switch (code) {
#define SM__STATUS_TEXT(suffix, num, name, text)                                    \
    case SM_##suffix:                                                               \
        return text;
        SM_STATUS_MAP(SM__STATUS_TEXT)
#undef SM__STATUS_TEXT
    }
    return "unknown status";
}

sm_status sm_error_set(sm_error *err, sm_status code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    if (!fmt) {
        snprintf(err->msg, sizeof(err->msg), "%s", sm_status_str(code));
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}
