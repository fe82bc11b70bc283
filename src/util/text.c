/* See text.h. */
#include <ctype.h>

#include "util/text.h"

size_t sm__edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    if (la > 31 || lb > 31)
        return 99;
    size_t d[32][32];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] +
                         (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t del = d[i - 1][j] + 1;
            size_t ins = d[i][j - 1] + 1;
            size_t m = sub < del ? sub : del;
            d[i][j] = m < ins ? m : ins;
        }
    }
    return d[la][lb];
}
