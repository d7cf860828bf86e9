#!/bin/bash
cd ~/counter || exit 1
docker compose logs --no-color redis | grep -o 'version=[0-9.]*' | head -n 1 | cut -d= -f2 > redis-version.txt
cat redis-version.txt
docker compose logs --no-color --tail 3 web
