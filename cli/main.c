/* main.c — orctl entry point: finds the command word among the global flags,
 * dispatches to it, and prints the top-level help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/print.h"
#include "lib/orc.h"

static int cmd_help(cli_ctx *x, int argc, char **argv);
static int cmd_api_resources(cli_ctx *x, int argc, char **argv);

static const struct cli_command commands[] = {
    {"apply", "Create or update objects from manifests", "apply -f FILE|DIR|- [flags]",
     "Objects that do not exist are created; existing ones are patched with the\n"
     "changes since the last apply (fields removed from the manifest are removed\n"
     "from the object). The manifest is kept in the last-applied-configuration\n"
     "annotation, as kubectl does.\n\n"
     "Examples:\n  orctl apply -f app.yaml\n  orctl apply -f manifests/ -n staging\n"
     "  cat app.yaml | orctl apply -f -\n",
     cli_cmd_apply},
    {"get", "List objects, or show some by name", "get KIND [NAME...] [flags]",
     "Kinds: pods (po), deployments (deploy), replicasets (rs), statefulsets (sts),\n"
     "daemonsets (ds), jobs, cronjobs (cj), services (svc), configmaps (cm), secrets,\n"
     "namespaces (ns), nodes (no), events (ev), leases; \"all\" for the workloads.\n"
     "Also KIND/NAME, and several kinds at once: deploy,po.\n\n"
     "Examples:\n  orctl get pods\n  orctl get deploy web -o yaml\n"
     "  orctl get deploy,po -A -o wide\n  orctl get po -l app=web -w\n",
     cli_cmd_get},
    {"top", "Show CPU and memory use of nodes or pods", "top (nodes|pods) [NAME] [flags]",
     "Reads metrics.k8s.io (collected from each node's agent every --metric-resolution,\n"
     "15s by default): CPU in millicores, memory in Mi, as kubectl top shows them.\n\n"
     "Examples:\n  orctl top nodes\n  orctl top pods -A --sort-by=cpu\n"
     "  orctl top pods -l app=web --containers\n",
     cli_cmd_top},
    {"describe", "Show details of objects and their events", "describe KIND [NAME...] [flags]",
     "Examples:\n  orctl describe deploy web\n  orctl describe po -l app=web\n", cli_cmd_describe},
    {"delete", "Delete objects by name, label selector or manifest",
     "delete (-f FILE | KIND NAME... | KIND -l SEL | KIND --all) [flags]",
     "Examples:\n  orctl delete deploy web\n  orctl delete -f app.yaml\n"
     "  orctl delete po -l app=web --grace-period=0\n"
     "  orctl delete deploy web --cascade=orphan\n",
     cli_cmd_delete},
    {"create", "Create objects from manifests, a namespace, ConfigMap or Deployment, or a token",
     "create (-f FILE | namespace NAME | configmap NAME --from-literal=K=V | deployment NAME "
     "--image=IMG | token SERVICEACCOUNT [--duration=D] [--audience=A]) [flags]",
     "Unlike apply, an object that already exists is an error. `create token` prints a\n"
     "ServiceAccount token (TokenRequest), as kubectl create token does.\n\n"
     "Examples:\n  orctl create namespace staging\n  orctl create -f app.yaml\n"
     "  orctl create deployment web --image=nginx:1.25 --replicas=3\n"
     "  orctl create token default -n team-a --duration=2h\n",
     cli_cmd_create},
    {"scale", "Set the replica count of a Deployment, ReplicaSet or StatefulSet",
     "scale (KIND/NAME | KIND NAME... | -f FILE) --replicas=N [flags]",
     "Examples:\n  orctl scale deploy/web --replicas=5\n", cli_cmd_scale},
    {"expose", "Make a Service for a Deployment, ReplicaSet, pod or Service",
     "expose KIND/NAME [--port=N] [--target-port=P] [--name=NAME] [--type=TYPE] [flags]",
     "The Service selects what the object selects (a pod: its labels) and serves its\n"
     "container ports unless --port is given.\n\n"
     "Examples:\n  orctl expose deployment/my-nginx\n"
     "  orctl expose deploy web --port=80 --target-port=8080 --type=NodePort\n",
     cli_cmd_expose},
    {"autoscale", "Make a HorizontalPodAutoscaler for a Deployment, ReplicaSet or StatefulSet",
     "autoscale KIND/NAME --max=N [--min=N] [--cpu-percent=N] [--name=NAME] [flags]",
     "The autoscaler keeps the average CPU use of the pods near --cpu-percent of their\n"
     "requests (the server's default: 80) between --min and --max replicas; the pods'\n"
     "usage comes from metrics.k8s.io (orctl top pods).\n\n"
     "Examples:\n  orctl autoscale deploy/web --min=2 --max=10 --cpu-percent=50\n",
     cli_cmd_autoscale},
    {"set", "Set the container images of a workload or pod",
     "set image (KIND/NAME | KIND NAME... | KIND -l SEL | KIND --all | -f FILE) CONTAINER=IMAGE... "
     "[flags]",
     "Changes the image of the named containers (init containers too; * for every\n"
     "container) in the pod template of a Deployment, DaemonSet, StatefulSet,\n"
     "ReplicaSet, Job or CronJob, or in a Pod, with a strategic merge patch; a\n"
     "Deployment then rolls out. A container the object does not have is an error\n"
     "and that object is left unchanged.\n\n"
     "Examples:\n  orctl set image deployment/web nginx=nginx:1.25\n"
     "  orctl set image deploy web app=app:v2 sidecar=proxy:3\n"
     "  orctl set image daemonset/agent '*=agent:2'\n"
     "  orctl set image deploy -l tier=web app=app:v3\n",
     cli_cmd_set},
    {"rollout", "Follow, undo, restart, pause or resume a Deployment's rollout",
     "rollout (status|history|undo|restart|pause|resume) deploy/NAME [flags]",
     "status waits until the rollout finished (prints kubectl's progress lines; exits 1\n"
     "when the progress deadline was exceeded or --timeout passed); history lists the\n"
     "revisions; undo goes back to the previous revision or --to-revision=N; restart\n"
     "replaces every pod (stamps the template with kubectl.kubernetes.io/restartedAt).\n\n"
     "Examples:\n  orctl rollout status deploy/web --timeout=2m\n  orctl rollout history deploy/web\n"
     "  orctl rollout undo deploy/web --to-revision=1\n  orctl rollout restart deploy/web\n",
     cli_cmd_rollout},
    {"attach", "Show a container's output (and feed its stdin) from now on",
     "attach POD [-c CONTAINER] [-i] [-t]",
     "Streams what the container's process writes from now on until it ends; with -i\n"
     "stdin goes to the process too (the container needs stdin: true); with -t stdin\n"
     "is the container's terminal, resized with yours (it needs tty: true).\n\n"
     "Examples:\n  orctl attach web-0\n  echo quit | orctl attach -i console\n",
     cli_cmd_attach},
    {"run", "Run a particular image in a pod",
     "run NAME --image=IMAGE [-i] [-t] [--rm] [--restart=Always|OnFailure|Never] [--env K=V] [-l k=v,..] "
     "[-- ARGS...]",
     "Creates a pod of one container NAME (labels run=NAME unless -l). With -i (or\n"
     "--attach) waits for it to run and attaches (stdin too; -t: a terminal; stdin is\n"
     "closed when that first attach ends unless --leave-stdin-open); then with\n"
     "--restart=Never or OnFailure (the default with -i) waits for it to end and exits\n"
     "with its exit code. --rm deletes the pod at the end. Words after -- are the\n"
     "container's args (its command with --command).\n\n"
     "Examples:\n  orctl run web --image=nginx\n"
     "  orctl run -it --rm --restart=Never shell --image=busybox -- sh\n"
     "  orctl run calc --image=busybox --restart=Never --attach --command -- sh -c 'echo $((6*7))'\n",
     cli_cmd_run},
    {"port-forward", "Forward local ports to a pod",
     "port-forward TYPE/NAME [LOCAL:]REMOTE... [--address IP]",
     "Listens on each LOCAL port (127.0.0.1 unless --address) and forwards every\n"
     "connection to REMOTE inside the pod (its own loopback included), over SPDY as\n"
     "kubectl does. TYPE/NAME is pod/NAME (or NAME), svc/NAME (a running pod of the\n"
     "Service, REMOTE a Service port mapped to its targetPort) or a workload\n"
     "(deploy/NAME, rs/, sts/, ds/: a running pod of its selector). LOCAL left out\n"
     "is REMOTE; \":REMOTE\" picks a free port.\n\n"
     "Examples:\n  orctl port-forward pod/web 8080:80\n  orctl port-forward svc/web 8080:80\n"
     "  orctl port-forward deploy/web :80 --address 0.0.0.0\n",
     cli_cmd_port_forward},
    {"cp", "Copy a file into or out of a container",
     "cp SRC DST [-c CONTAINER]  (one of them POD:PATH)",
     "Streams the file through a command in the container (cat), as kubectl cp does\n"
     "with tar; files only.\n\n"
     "Examples:\n  orctl cp ./app.conf web-0:/etc/app.conf\n  orctl cp web-0:/var/log/app.log ./app.log\n",
     cli_cmd_cp},
    {"logs", "Print the output of a container in a pod",
     "logs (POD | TYPE/NAME | -l SELECTOR) [-c CONTAINER | --all-containers] [-f] [--prefix] [flags]",
     "TYPE/NAME is pod/NAME or a workload or Service (deploy/, sts/, rs/, ds/, job/,\n"
     "svc/NAME): its most active pod, as kubectl picks. With -l every selected pod\n"
     "(the last 10 lines of each unless --tail); with -f several streams are followed\n"
     "at once (at most --max-log-requests) and printed a whole line at a time.\n\n"
     "Examples:\n  orctl logs web-0\n  orctl logs -f deploy/web -c sidecar --tail 20\n"
     "  orctl logs -l app=web --all-containers --prefix\n  orctl logs svc/web --since 10m --timestamps\n",
     cli_cmd_logs},
    {"events", "List events",
     "events [-n NS | -A] [--for KIND/NAME] [--types Warning,Normal] [-w]",
     "The Events of a namespace (or of every one, -A), oldest first, as kubectl events\n"
     "prints them. Events expire an hour after they last happened (orcd server\n"
     "--event-ttl); a repeated one is counted (\"(x3 over 5m)\"), not duplicated.\n\n"
     "Examples:\n  orctl events\n  orctl events --for pod/web-0 --types Warning\n  orctl events -A -w\n",
     cli_cmd_events},
    {"exec", "Run a command in a container",
     "exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]",
     "Examples:\n  orctl exec web-0 -- cat /etc/hostname\n  orctl exec web-0 -c app -- sh -c 'env | sort'\n"
     "  echo hi | orctl exec -i web-0 -- cat\n  orctl exec -it web-0 -- sh\n",
     cli_cmd_exec},
    {"cordon", "Mark nodes unschedulable", "cordon NODE...",
     "New pods are not scheduled onto a cordoned node; its pods keep running.\n\n"
     "Examples:\n  orctl cordon node1\n", cli_cmd_cordon},
    {"uncordon", "Mark nodes schedulable again", "uncordon NODE...",
     "Examples:\n  orctl uncordon node1\n", cli_cmd_uncordon},
    {"drain", "Cordon nodes and evict their pods", "drain NODE... [flags]",
     "Cordons each node, then evicts its pods through the eviction API and waits\n"
     "until they are gone; their controllers replace them elsewhere. Pods of\n"
     "DaemonSets need --ignore-daemonsets (they are left), pods no controller\n"
     "manages need --force, pods with emptyDir volumes --delete-emptydir-data.\n\n"
     "Examples:\n  orctl drain node1 --ignore-daemonsets\n"
     "  orctl drain node1 --ignore-daemonsets --force --grace-period=0 --timeout=2m\n",
     cli_cmd_drain},
    {"version", "Print the client and server versions", "version [flags]", NULL, cli_cmd_version},
    {"cluster", "List or remove control-plane members, back up the cluster",
     "cluster (members | remove-member ID | backup FILE) [flags]",
     "backup FILE writes a backup of the state of the member orctl talks to (mode 0600;\n"
     "FILE.tmp until it is whole and its checksum verified; - for stdout). Restore it\n"
     "with `orcd server --restore FILE` on a new data dir.\n\n"
     "Examples:\n  orctl cluster members\n  orctl cluster remove-member 3297041220608546238\n"
     "  orctl cluster backup orc-backup.db\n",
     cli_cmd_cluster},
    {"secrets", "Rewrite every Secret with the servers' current encryption key",
     "secrets reencrypt",
     "Reads every Secret and writes it back unchanged, so each is stored encrypted\n"
     "with the first key of the members' --encryption-config: the second step of a\n"
     "key rotation (add the new key first on every member, restart them, run this,\n"
     "then remove the old key). The same as\n"
     "  kubectl get secrets -A -o json | kubectl replace -f -\n\n"
     "Examples:\n  orctl secrets reencrypt\n",
     cli_cmd_secrets},
    {"auth", "Ask what you (or --as USER) may do, and who the server takes you for",
     "auth (can-i (VERB TYPE[/NAME] | VERB /PATH | --list) | whoami [-o json|yaml]) [flags]",
     "can-i answers yes (exit 0) or no (exit 1) from the server's RBAC, as `kubectl\n"
     "auth can-i`; --list shows every rule that applies in the namespace. whoami\n"
     "prints your user name and groups (a SelfSubjectReview).\n\n"
     "Examples:\n  orctl auth can-i create deployments -n team\n"
     "  orctl auth can-i get pods --subresource=log --as alice\n"
     "  orctl auth can-i get /metrics\n  orctl auth can-i --list -n team --as alice --as-group devs\n"
     "  orctl auth whoami\n",
     cli_cmd_auth},
    {"token", "Create, list or delete bootstrap tokens (join a node with one)",
     "token (create [--ttl 24h] [--description TEXT] | list | delete ID)",
     "A bootstrap token lets `orcd agent --token TOKEN` register a node and get\n"
     "its node certificate; nothing else. It stops working when it expires or is\n"
     "deleted.\n\n"
     "Examples:\n  orctl token create --ttl 2h --description \"rack 4\"\n  orctl token list\n"
     "  orctl token delete abcdef\n",
     cli_cmd_token},
    {"kubeconfig", "Make a kubeconfig with a client certificate for a new user",
     "kubeconfig create USER [--group GROUP]... [--expires DURATION]",
     "Makes a key here, has the cluster CA sign a certificate for USER in the\n"
     "groups given (an administrator's credential is needed), and prints a\n"
     "kubeconfig holding both. The key never leaves this machine.\n\n"
     "Examples:\n  orctl kubeconfig create alice --group dev --expires 720h > alice.conf\n",
     cli_cmd_kubeconfig},
    {"api-resources", "List the kinds the server serves", "api-resources", NULL, cmd_api_resources},
    {"help", "Help about any command", "help [COMMAND]", NULL, cmd_help},
};

static const struct cli_command *command_find(const char *name)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(commands); i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

static void print_top_help(FILE *out)
{
    fputs("orctl controls an orc cluster.\n\nUsage:\n  orctl COMMAND [flags]\n\nCommands:\n", out);
    for (size_t i = 0; i < ORC_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fputs("\nUse \"orctl COMMAND --help\" for more about a command, and its flags.\n", out);
}

static int cmd_help(cli_ctx *x, int argc, char **argv)
{
    const struct cli_command *c;
    char *help_argv[] = {"--help", NULL};

    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-') continue;
        if ((c = command_find(argv[i])) == NULL || c->run == cmd_help)
            return cli_usage_error(x, "unknown command \"%s\" for \"orctl\"", argv[i]);
        x->cmd = c;
        return c->run(x, 1, help_argv);
    }
    print_top_help(x->out);
    return CLI_EXIT_OK;
}

static int cmd_api_resources(cli_ctx *x, int argc, char **argv)
{
    struct cli_strv pos = {0};
    struct orc_buf t = ORC_BUF_INIT, out = ORC_BUF_INIT;
    size_t n;
    const struct orc_kind *k = orc_kinds(&n);
    int rv = cli_parse(x, NULL, 0, argc, argv, &pos);

    if (rv != 0) {
        cli_strv_free(&pos);
        return cli_stop_status(rv);
    }
    rv = orc_buf_puts(&t, "NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND\n");
    for (size_t i = 0; i < n && rv == 0; i++)
        if (!orc_kind_older_version(&k[i])) /* kubectl lists the preferred version alone */
            rv = orc_buf_printf(&t, "%s\t%s\t%s\t%s\t%s\n", k[i].resource,
                            k[i].short_names[0] ? k[i].short_names[0] : "",
                            orc_kind_api_version(&k[i]), k[i].namespaced ? "true" : "false",
                            k[i].kind);
    if (rv == 0) rv = cli_tabwrite(t.data, t.len, 6, 3, &out);
    if (rv == 0) cli_write(x, &out);
    orc_buf_free(&t);
    orc_buf_free(&out);
    cli_strv_free(&pos);
    return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* No command word: only --help (or nothing) makes sense. */
static int no_command(cli_ctx *x, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_top_help(x->out);
            return CLI_EXIT_OK;
        }
    }
    return cli_usage_error(x, "no command given (apply, get, describe, delete, create, scale, "
                              "version, cluster)");
}

int main(int argc, char **argv)
{
    cli_ctx x = {0};
    int at = cli_find_command(argc, argv), rv;
    char **rest;

    x.out = stdout;
    x.err = stderr;
    if (at == 0) return no_command(&x, argc, argv);
    if ((x.cmd = command_find(argv[at])) == NULL)
        return cli_usage_error(&x, "unknown command \"%s\" for \"orctl\"", argv[at]);
    /* The command sees every other word, global flags before it included. */
    if ((rest = malloc((size_t)argc * sizeof *rest)) == NULL) {
        fputs("error: out of memory\n", stderr);
        return CLI_EXIT_FAIL;
    }
    memcpy(rest, argv + 1, (size_t)(at - 1) * sizeof *rest);
    memcpy(rest + at - 1, argv + at + 1, (size_t)(argc - at - 1) * sizeof *rest);
    rv = x.cmd->run(&x, argc - 2, rest);
    free(rest);
    cli_ctx_clear(&x);
    return rv;
}
