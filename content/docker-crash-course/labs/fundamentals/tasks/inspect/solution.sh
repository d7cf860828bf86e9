#!/bin/bash
docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' web > ~/web-ip.txt
cat ~/web-ip.txt
