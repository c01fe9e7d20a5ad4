/* proxy.c - trusted forwarding peers (proxy.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesshu/config.h"
#include "sesshu/proxy.h"

/* Does the first `bits` bits of a equal those of b (n bytes each)? */
static bool prefix_eq(const unsigned char *a, const unsigned char *b, size_t n, long bits)
{
    size_t whole = (size_t)bits / 8;
    int rest = (int)(bits % 8);

    if (bits < 0 || (size_t)bits > n * 8)
        return false;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xFF << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* One entry ("addr" or "addr/bits") against the peer. */
static bool entry_match(const char *entry, const struct sockaddr *peer)
{
    char addr[64];
    const char *slash = strchr(entry, '/');
    size_t len = slash ? (size_t)(slash - entry) : strlen(entry);
    unsigned char want[16];
    long bits = -1;
    char *end = NULL;

    if (len == 0 || len >= sizeof(addr))
        return false;
    memcpy(addr, entry, len);
    addr[len] = '\0';
    if (slash != NULL) {
        bits = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end != '\0' || bits < 0 || slash[1] == '-' || slash[1] == '+')
            return false;
    }
    if (peer->sa_family == AF_INET && inet_pton(AF_INET, addr, want) == 1)
        return prefix_eq((const unsigned char *)&((const struct sockaddr_in *)peer)->sin_addr, want,
                         4, bits < 0 ? 32 : bits);
    if (peer->sa_family == AF_INET6 && inet_pton(AF_INET6, addr, want) == 1)
        return prefix_eq((const unsigned char *)&((const struct sockaddr_in6 *)peer)->sin6_addr,
                         want, 16, bits < 0 ? 128 : bits);
    return false;
}

bool ss_proxy_in_list(const char *list, const struct sockaddr *peer)
{
    char entry[80];

    if (list == NULL || peer == NULL)
        return false;
    for (const char *p = list; *p != '\0';) {
        size_t n = strcspn(p, ", ");
        if (n > 0 && n < sizeof(entry)) {
            memcpy(entry, p, n);
            entry[n] = '\0';
            if (entry_match(entry, peer))
                return true;
        }
        p += n;
        p += strspn(p, ", ");
    }
    return false;
}

static pthread_once_t list_once = PTHREAD_ONCE_INIT;
static char trusted[1024];

static void list_load(void)
{
    snprintf(trusted, sizeof(trusted), "%s",
             ss_cfg_str("SESSHU_TRUSTED_PROXIES", SS_TRUSTED_PROXIES_DEF));
}

bool ss_proxy_trusted(const struct sockaddr *peer)
{
    pthread_once(&list_once, list_load);
    return ss_proxy_in_list(trusted, peer);
}
