/* hello-world: the first container most people ever run. Built static, so the image needs
 * nothing but this one file. */
#include <unistd.h>

static const char message[] =
    "\n"
    "Hello from Docker!\n"
    "This message shows that your installation appears to be working correctly.\n"
    "\n"
    "To generate this message, Docker took the following steps:\n"
    " 1. The Docker client contacted the Docker daemon.\n"
    " 2. The Docker daemon found the \"hello-world\" image on this machine\n"
    "    (Berth builds it locally; it was not downloaded from a registry).\n"
    " 3. The Docker daemon created a new container from that image which runs the\n"
    "    executable that produces the output you are currently reading.\n"
    " 4. The Docker daemon streamed that output to the Docker client, which sent it\n"
    "    to your terminal.\n"
    "\n"
    "To try something more ambitious, you can run a Debian container with:\n"
    " $ docker run -it --rm debian:bookworm-slim bash\n"
    "\n"
    "Other images ready to use here: busybox, nginx, redis, python:3.11-slim, gcc:12.\n"
    "\n";

int main(void)
{
    const char *p = message;
    size_t left = sizeof message - 1;
    while (left > 0) {
        ssize_t n = write(STDOUT_FILENO, p, left);
        if (n <= 0)
            return 1;
        p += n;
        left -= (size_t)n;
    }
    return 0;
}
