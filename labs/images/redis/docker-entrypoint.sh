#!/bin/sh
# Like the official image's entrypoint:
#   docker run redis                        -> redis-server /etc/redis/redis.conf
#   docker run redis --appendonly yes       -> redis-server /etc/redis/redis.conf --appendonly yes
#   docker run redis redis-server my.conf   -> redis-server my.conf (yours replaces ours)
#   docker run redis redis-cli -h cache     -> runs as given
set -e

# First argument an option or a config file: arguments for redis-server.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi

if [ "$1" = redis-server ]; then
    shift
    case "${1-}" in
        *.conf) ;;
        *) set -- /etc/redis/redis.conf "$@" ;;
    esac
    set -- redis-server "$@"
fi

exec "$@"
