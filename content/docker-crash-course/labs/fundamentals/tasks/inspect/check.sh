#!/bin/bash
# inspect: ~/web-ip.txt holds the current IP address of "web" (read from docker inspect now).
set -u
fail() { echo "FAIL: $*"; exit 1; }

docker inspect web >/dev/null 2>&1 || fail "there is no container named web"
ips=$(docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' web 2>/dev/null)
[ -n "${ips// /}" ] || fail "web has no IP address right now: is it running?"
[ -f ~/web-ip.txt ] || fail "~/web-ip.txt does not exist yet"
answer=$(tr -d ' \t\r\n' < ~/web-ip.txt)
[ -n "$answer" ] || fail "~/web-ip.txt is empty"
for ip in $ips; do
  [ "$answer" = "$ip" ] && { echo "Right: web has the address $ip."; exit 0; }
done
fail "~/web-ip.txt says '$answer', which is not the current IP address of web (did web get replaced since?)"
