/* main.c — orcd entry point: dispatches to `server` or `agent`. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "server") != 0) {
        fprintf(stderr, "usage: orcd server [flags]\n");
        return 2;
    }
    return 0;
}
