/* bench-run ERRFILE CMD [ARGS...]: runs CMD (stdout to /dev/null, stderr to
 * ERRFILE) and prints "START_US ELAPSED_S MAXRSS_KIB STATUS": the start on
 * the realtime clock (bash's $EPOCHREALTIME without the dot), the elapsed
 * time, CMD's peak RSS and its exit status. A small C program rather than
 * Python or /usr/bin/time: the child's ru_maxrss starts at its parent's
 * (fork copies the memory map), and nothing but fork, exec and wait4 may sit
 * inside the timed window. Built by tests/bench/bench.sh. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
        struct timespec r0, m0, m1;
        struct rusage ru;
        int status, err, null;
        pid_t pid;

        if (argc < 3) {
                fprintf(stderr, "usage: %s ERRFILE CMD [ARGS...]\n", argv[0]);
                return 2;
        }
        err = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (err < 0 || null < 0) {
                perror("open");
                return 2;
        }
        clock_gettime(CLOCK_REALTIME, &r0);
        clock_gettime(CLOCK_MONOTONIC, &m0);
        pid = fork();
        if (pid < 0) {
                perror("fork");
                return 2;
        }
        if (pid == 0) {
                dup2(null, 1);
                dup2(err, 2);
                execvp(argv[2], argv + 2);
                _exit(127);
        }
        if (wait4(pid, &status, 0, &ru) < 0) {
                perror("wait4");
                return 2;
        }
        clock_gettime(CLOCK_MONOTONIC, &m1);
        printf("%lld %.6f %ld %d\n", (long long) r0.tv_sec * 1000000 + r0.tv_nsec / 1000,
               (double) (m1.tv_sec - m0.tv_sec) + (double) (m1.tv_nsec - m0.tv_nsec) / 1e9, ru.ru_maxrss,
               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return 0;
}
