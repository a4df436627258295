/* ids: byte-wise validators; nothing here trusts a NUL inside the input. */
#include "ids.h"

#include <string.h>

static int id_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

int ids_valid_id(const char *p, size_t n)
{
    if (!p || n == 0 || n > IDS_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!id_byte((unsigned char)p[i]))
            return 0;
    return 1;
}

int ids_valid_filename(const char *p, size_t n)
{
    if (!p || n == 0 || n > IDS_MAX || p[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '.') {
            if (i + 1 < n && p[i + 1] == '.')
                return 0;
            continue;
        }
        if (!id_byte(c))
            return 0;
    }
    return 1;
}

int ids_valid_style(const char *p, size_t n)
{
    if (!p || n == 0 || n > IDS_STYLE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

int ids_one_of(const char *p, size_t n, const char *const *words, size_t nwords)
{
    for (size_t i = 0; i < nwords; i++)
        if (strlen(words[i]) == n && memcmp(p, words[i], n) == 0)
            return 1;
    return 0;
}
