/* main.c — orcd entry point: `orcd server` (a control-plane member) or
 * `orcd agent` (a worker node), `orcd shim` (beside each container), `orcd version`. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent/shim.h"
#include "orcd/api_flags.h"
#include "orcd/orcd.h"

static int usage(FILE *f)
{
    fprintf(f, "usage: orcd server [flags]   run a control-plane member (see orcd server --help)\n"
               "       orcd agent [flags]    run a worker node (see orcd agent --help)\n"
               "       orcd version\n");
    return f == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) return usage(stderr);
    if (strcmp(argv[1], "server") == 0 || strcmp(argv[1], "agent") == 0) orcd_process_setup();
    if (strcmp(argv[1], "server") == 0) return orcd_server_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "agent") == 0) return orcd_agent_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "shim") == 0) return agent_shim_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0) {
        printf("orcd v0.1.0\n");
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) return usage(stdout);
    fprintf(stderr, "orcd: unknown command \"%s\"\n", argv[1]);
    return usage(stderr);
}
