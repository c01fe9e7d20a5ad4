/* hashrate.c - raw argon2id hashes per second on N threads with the
 * parameters login uses (OWASP: m=19456 KiB, t=2, p=1): the bound of login.
 * Usage: sesshu-bench-hashrate THREADS SECONDS */
#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double deadline;
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
    long *count = arg;
    const unsigned char salt[17] = "sesshu-benchsalt";
    char enc[128];
    long m = getenv("SESSHU_ARGON2_M_KIB") ? atol(getenv("SESSHU_ARGON2_M_KIB")) : 19456;
    long t = getenv("SESSHU_ARGON2_T") ? atol(getenv("SESSHU_ARGON2_T")) : 2;

    while (now_s() < deadline) {
        argon2id_hash_encoded((uint32_t)t, (uint32_t)m, 1, "benchmark-password", 18, salt, 16, 32,
                              enc, sizeof(enc));
        (*count)++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    double secs = argc > 2 ? atof(argv[2]) : 5;
    pthread_t th[64];
    long counts[64];
    long total = 0;
    double t0;

    if (n < 1 || n > 64)
        return 2;
    t0 = now_s();
    deadline = t0 + secs;
    memset(counts, 0, sizeof(counts));
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, worker, &counts[i]);
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        total += counts[i];
    }
    printf("%.1f\n", (double)total / (now_s() - t0));
    return 0;
}
