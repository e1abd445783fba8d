/* shim_stub.c — placeholder until the runtime lands: `orcd shim` refuses. */
#include <stdio.h>

#include "agent/shim.h"

int agent_shim_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "orcd shim: not built in yet\n");
    return 1;
}
