/* test_proxy.c - which peers may speak for the client (proxy.h): addresses and CIDR blocks,
 * IPv4 and IPv6, at both sides of each prefix, and malformed lists that trust nobody. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "sesshu/proxy.h"
#include "unit.h"

static bool in4(const char *list, const char *ip)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    return ss_proxy_in_list(list, (const struct sockaddr *)&sa);
}

static bool in6(const char *list, const char *ip)
{
    struct sockaddr_in6 sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &sa.sin6_addr), 1);
    return ss_proxy_in_list(list, (const struct sockaddr *)&sa);
}

START_TEST(exact_addresses)
{
    ck_assert(in4(SS_TRUSTED_PROXIES_DEF, "127.0.0.2"));
    ck_assert(!in4(SS_TRUSTED_PROXIES_DEF, "127.0.0.1")); /* a direct call on loopback */
    ck_assert(in4("10.0.0.5, 127.0.0.2", "127.0.0.2"));
    ck_assert(in4("10.0.0.5,127.0.0.2", "10.0.0.5"));
    ck_assert(!in4("10.0.0.5", "10.0.0.50"));
    ck_assert(in6("::1", "::1"));
    ck_assert(!in6("127.0.0.2", "::1"));
    ck_assert(!in4("::1", "127.0.0.1"));
}
END_TEST

START_TEST(cidr_blocks)
{
    ck_assert(in4("172.28.0.0/16", "172.28.255.254"));
    ck_assert(!in4("172.28.0.0/16", "172.29.0.1"));
    ck_assert(in4("10.1.2.0/23", "10.1.3.255"));
    ck_assert(!in4("10.1.2.0/23", "10.1.4.0"));
    ck_assert(!in4("10.1.2.0/23", "10.1.1.255"));
    ck_assert(in4("0.0.0.0/0", "203.0.113.9"));
    ck_assert(in4("192.0.2.1/32", "192.0.2.1"));
    ck_assert(!in4("192.0.2.1/32", "192.0.2.2"));
    ck_assert(in6("fd00::/8", "fd12:3456::1"));
    ck_assert(!in6("fd00::/8", "fe80::1"));
}
END_TEST

START_TEST(malformed_lists_trust_nobody)
{
    ck_assert(!in4("", "127.0.0.2"));
    ck_assert(!in4("127.0.0.2/", "127.0.0.2"));
    ck_assert(!in4("127.0.0.2/33", "127.0.0.2"));
    ck_assert(!in4("127.0.0.2/-1", "127.0.0.2"));
    ck_assert(!in4("127.0.0.2/8x", "127.0.0.2"));
    ck_assert(!in4("localhost", "127.0.0.1"));
    ck_assert(!in4("127.0.0", "127.0.0.0"));
    ck_assert(!ss_proxy_in_list("127.0.0.2", NULL));
    ck_assert(!ss_proxy_in_list(NULL, NULL));
}
END_TEST

UNIT_MAIN("proxy", exact_addresses, cidr_blocks, malformed_lists_trust_nobody)
