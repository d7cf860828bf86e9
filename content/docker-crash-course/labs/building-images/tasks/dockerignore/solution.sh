#!/bin/bash
cd ~/app || exit 1
echo 'API_KEY=do-not-ship-me' > .env
mkdir -p logs && dd if=/dev/zero of=logs/debug.log bs=1M count=5 2>/dev/null
printf '.env\nlogs/\n' > .dockerignore
cat .dockerignore
