#!/bin/bash
# backup-volume: ~/redis-backup.tar.gz is a tar.gz of the volume, with a Redis dump.rdb holding "greeting".
set -u
fail() { echo "FAIL: $*"; exit 1; }
archive=~/redis-backup.tar.gz

[ -f "$archive" ] || fail "there is no ~/redis-backup.tar.gz yet"
list=$(tar -tzf "$archive" 2>/dev/null) || fail "~/redis-backup.tar.gz is not a gzip-compressed tar archive"
entry=$(echo "$list" | grep -E '(^|/)dump\.rdb$' | head -n 1)
[ -n "$entry" ] || fail "the archive has no dump.rdb: archive the content of the volume's /data"
rdb=$(tar -xzOf "$archive" "$entry" 2>/dev/null | head -c 1048576 | tr -c '[:print:]' '.')
case "$rdb" in REDIS*) ;; *) fail "dump.rdb in the archive is not a Redis data file" ;; esac
echo "$rdb" | grep -q greeting || fail "dump.rdb in the archive does not contain the key greeting: back up redis-data after saving it"
echo "~/redis-backup.tar.gz holds the volume's data ($entry)."
