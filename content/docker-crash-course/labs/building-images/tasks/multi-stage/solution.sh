#!/bin/bash
mkdir -p ~/static && cd ~/static || exit 1
cat > hello.c <<'EOF_C'
#include <stdio.h>

int main(void) {
    puts("Hello from a static binary!");
    return 0;
}
EOF_C
cat > Dockerfile <<'DOCKERFILE'
FROM gcc:12 AS build
WORKDIR /src
COPY hello.c .
RUN gcc -static -O2 -o hello hello.c

FROM scratch
COPY --from=build /src/hello /hello
USER 65534:65534
ENTRYPOINT ["/hello"]
DOCKERFILE
docker build -t hello-static:1.0 . || exit 1
docker run --rm hello-static:1.0
docker images hello-static
