#!/usr/bin/env bash
# The benchmark's tools (fio, nbdkit, nbd-client, strace, GNU time) on top of
# the build and test dependencies. Only for `make bench`: CI and
# `make check` do not need them.
exec "$(dirname "$0")/../deps.sh" fio nbdkit nbd-client strace time
