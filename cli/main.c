/* main.c — orctl entry point. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "usage: orctl COMMAND\n");
    return 2;
}
