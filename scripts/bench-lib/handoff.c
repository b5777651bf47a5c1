/*
 * What one thread waking another costs on this machine, the unit a
 * forwarded check pays more of than a local one (BENCHMARKS.md).
 *
 * Two threads pass a byte back and forth over two pipes, each blocking in
 * read(2) until the other writes: every round trip is two wake-ups. Run once
 * with the threads pinned to the same CPU and once to different CPUs, it
 * prints the wall time of a round trip and the CPU time both threads spent
 * on it (CLOCK_THREAD_CPUTIME_ID), and a system call for scale:
 *
 *   RESULT handoff same_cpu_rt_us=.. same_cpu_cpu_us=.. cross_cpu_rt_us=.. cross_cpu_cpu_us=.. syscall_us=..
 *
 * cc -O2 -pthread -o handoff handoff.c && ./handoff [ROUND_TRIPS]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int there[2], back[2];
static int echo_cpu;
static double echo_cpu_seconds;

static double seconds(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *echo(void *unused) {
    (void)unused;
    char byte;
    if (pin(echo_cpu) != 0) exit(2);
    double start = seconds(CLOCK_THREAD_CPUTIME_ID);
    while (read(there[0], &byte, 1) == 1 && byte != 'q') {
        if (write(back[1], &byte, 1) != 1) exit(2);
    }
    echo_cpu_seconds = seconds(CLOCK_THREAD_CPUTIME_ID) - start;
    return NULL;
}

/* Round trips between a thread on CPU 0 and one on `cpu`: wall and CPU µs per round trip. */
static void ping_pong(int cpu, int round_trips, double *wall_us, double *cpu_us) {
    pthread_t thread;
    char byte = 'x';
    if (pipe(there) != 0 || pipe(back) != 0 || pin(0) != 0) exit(2);
    echo_cpu = cpu;
    if (pthread_create(&thread, NULL, echo, NULL) != 0) exit(2);
    for (int i = 0; i < 1000; i++) {  /* warm-up */
        if (write(there[1], &byte, 1) != 1 || read(back[0], &byte, 1) != 1) exit(2);
    }
    double cpu_start = seconds(CLOCK_THREAD_CPUTIME_ID), wall_start = seconds(CLOCK_MONOTONIC);
    for (int i = 0; i < round_trips; i++) {
        if (write(there[1], &byte, 1) != 1 || read(back[0], &byte, 1) != 1) exit(2);
    }
    double wall = seconds(CLOCK_MONOTONIC) - wall_start, mine = seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
    byte = 'q';
    if (write(there[1], &byte, 1) != 1) exit(2);
    pthread_join(thread, NULL);
    /* The echo thread's CPU includes the warm-up: scale it to the measured share. */
    double echo_share = echo_cpu_seconds * round_trips / (round_trips + 1000);
    *wall_us = wall / round_trips * 1e6;
    *cpu_us = (mine + echo_share) / round_trips * 1e6;
    close(there[0]); close(there[1]); close(back[0]); close(back[1]);
}

int main(int argc, char **argv) {
    int round_trips = argc > 1 ? atoi(argv[1]) : 20000;
    if (round_trips <= 0 || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        fprintf(stderr, "handoff: needs a positive round-trip count and two CPUs\n");
        return 2;
    }
    double same_wall, same_cpu, cross_wall, cross_cpu;
    ping_pong(0, round_trips, &same_wall, &same_cpu);
    ping_pong(1, round_trips, &cross_wall, &cross_cpu);
    int calls = 1000000;
    double start = seconds(CLOCK_MONOTONIC);
    for (int i = 0; i < calls; i++) syscall(SYS_getppid);
    double syscall_us = (seconds(CLOCK_MONOTONIC) - start) / calls * 1e6;
    printf("RESULT handoff same_cpu_rt_us=%.2f same_cpu_cpu_us=%.2f cross_cpu_rt_us=%.2f cross_cpu_cpu_us=%.2f syscall_us=%.3f\n",
           same_wall, same_cpu, cross_wall, cross_cpu, syscall_us);
    return 0;
}
