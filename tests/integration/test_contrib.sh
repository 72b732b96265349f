#!/usr/bin/env bash
# contrib/ holds what runs the agent on every node: the systemd unit, the
# Kubernetes DaemonSet, the Prometheus scrape configuration and the
# OpenTelemetry Collector pipeline. No cluster and no collector here, so:
# - each file parses and has the structure its consumer expects, and the files
#   agree with one another (capabilities, port, labels, namespace);
# - promtool check config accepts prometheus.yml (Debian's promtool is built
#   without Kubernetes discovery: then the Kubernetes job is checked with its
#   kubernetes_sd_configs swapped for file_sd_configs, relabelling unchanged);
# - a real Prometheus runs the file's relabelling on targets labelled as
#   Kubernetes pod discovery labels the DaemonSet's pods (one agent pod kept,
#   with node and instance set to its node; a pending agent pod, another port
#   and another app's pod dropped) and on a file_sd list of plain nodes (node
#   taken from the address unless given), and scrapes what it kept. Every
#   address is on 127.0.0.1.
. "$(dirname "$0")/lib.sh"
need_cmd curl
need_cmd jq
python3 -c 'import yaml' 2>/dev/null ||
	skip "python3 cannot import yaml (Debian package python3-yaml; make deps installs it)"
C=$ROOT/contrib

# ---------------------------------------------------------------- structure
python3 - "$C" <<'PY'
import re, sys, yaml

C = sys.argv[1]
CAPS = {"BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH"}
failed = []


def check(what, cond):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failed.append(what)


# systemd unit: key=value lines by section; a key may repeat.
unit = {}
section = None
for line in open(f"{C}/systemd/torvyn-trace-agent.service"):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    if line.startswith("["):
        section = line.strip("[]")
        continue
    k, v = line.split("=", 1)
    unit.setdefault((section, k), []).append(v)
svc = lambda k: unit.get(("Service", k), [])
env = dict(e.split("=", 1) for e in svc("Environment"))
check("unit: ExecStart runs the agent from /usr/sbin on ${TORVYN_AGENT_LISTEN}",
      svc("ExecStart") == ["/usr/sbin/torvyn-trace agent --listen ${TORVYN_AGENT_LISTEN} "
                           "$TORVYN_AGENT_OPTS"])
check("unit: listens on 0.0.0.0:9464 by default", env.get("TORVYN_AGENT_LISTEN") == "0.0.0.0:9464")
check("unit: options from an optional environment file",
      svc("EnvironmentFile") == ["-/etc/default/torvyn-trace-agent"])
check("unit: Restart=on-failure", svc("Restart") == ["on-failure"])
for k in ("CapabilityBoundingSet", "AmbientCapabilities"):
    got = svc(k)
    check(f"unit: {k} is exactly CAP_{{BPF,PERFMON,SYS_PTRACE,DAC_READ_SEARCH}}",
          len(got) == 1 and set(got[0].split()) == {"CAP_" + c for c in CAPS})
for k, v in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
             ("ProtectHome", "read-only")):
    check(f"unit: {k}={v}", svc(k) == [v])
# Each of these would cut the agent off from other processes or from BPF.
for k in ("User", "DynamicUser", "PrivateUsers", "PrivateNetwork", "ProtectProc",
          "PrivatePIDs", "SystemCallFilter"):
    bad = [v for v in svc(k) if k != "SystemCallFilter" or not v.startswith("~")
           or re.search(r"@debug|@privileged|@resources|@system-service", v)]
    check(f"unit: no {k} that blocks BPF, ptrace or /proc", not bad)
check("unit: not enabled by install, wanted by multi-user.target",
      unit.get(("Install", "WantedBy")) == ["multi-user.target"])

# DaemonSet, its namespace and service account
docs = [d for d in yaml.safe_load_all(open(f"{C}/kubernetes/daemonset.yaml")) if d]
by_kind = {d["kind"]: d for d in docs}
check("k8s: a Namespace, a ServiceAccount and a DaemonSet",
      sorted(by_kind) == ["DaemonSet", "Namespace", "ServiceAccount"] and len(docs) == 3)
ns = by_kind["Namespace"]["metadata"]["name"]
ds = by_kind["DaemonSet"]
sa = by_kind["ServiceAccount"]
check("k8s: the namespace admits hostPID and capabilities (Pod Security privileged)",
      by_kind["Namespace"]["metadata"]["labels"].get("pod-security.kubernetes.io/enforce")
      == "privileged")
check("k8s: DaemonSet and ServiceAccount in that namespace",
      ds["metadata"]["namespace"] == ns == sa["metadata"]["namespace"])
tmpl = ds["spec"]["template"]
pod = tmpl["spec"]
check("k8s: selector matches the pod labels",
      all(tmpl["metadata"]["labels"].get(k) == v
          for k, v in ds["spec"]["selector"]["matchLabels"].items()))
check("k8s: pods use the service account", pod["serviceAccountName"] == sa["metadata"]["name"])
check("k8s: hostPID", pod.get("hostPID") is True)
(ctr,) = pod["containers"]
sc = ctr["securityContext"]
check("k8s: not privileged", sc.get("privileged") is False)
check("k8s: capabilities: drop ALL, add BPF PERFMON SYS_PTRACE DAC_READ_SEARCH",
      sc["capabilities"]["drop"] == ["ALL"] and set(sc["capabilities"]["add"]) == CAPS
      and len(sc["capabilities"]["add"]) == len(CAPS))
check("k8s: the agent verb", ctr["command"][-1] == "agent")
args = ctr["args"]
listen = args[args.index("--listen") + 1]
(port,) = ctr["ports"]
check("k8s: --listen 0.0.0.0 on the container port named metrics",
      listen == f"0.0.0.0:{port['containerPort']}" and port["name"] == "metrics")
check("k8s: the same port as the systemd unit",
      env["TORVYN_AGENT_LISTEN"].endswith(f":{port['containerPort']}"))
mounts = {m["name"]: m for m in ctr["volumeMounts"]}
vols = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
want = {"/sys/fs/bpf", "/sys/kernel/debug", "/sys/kernel/tracing", "/sys/kernel/btf"}
check("k8s: bpffs, debugfs, tracefs and btf from the node, read-only, at the same paths",
      set(vols.values()) == want and set(mounts) == set(vols)
      and all(m["readOnly"] is True and m["mountPath"] == vols[n] for n, m in mounts.items()))
check("k8s: memory limit 128Mi, with requests", ctr["resources"]["limits"]["memory"] == "128Mi"
      and "memory" in ctr["resources"]["requests"] and "cpu" in ctr["resources"]["requests"])
probe = ctr["readinessProbe"]["httpGet"]
check("k8s: readiness probe on /metrics of the metrics port",
      probe["path"] == "/metrics" and probe["port"] in ("metrics", port["containerPort"]))
ann = tmpl["metadata"]["annotations"]
check("k8s: prometheus.io annotations (strings) name the port and path",
      ann.get("prometheus.io/scrape") == "true"
      and ann.get("prometheus.io/port") == str(port["containerPort"])
      and ann.get("prometheus.io/path") == "/metrics")

# Prometheus: the Kubernetes job looks in the DaemonSet's namespace
prom = yaml.safe_load(open(f"{C}/prometheus/prometheus.yml"))
jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
k8s = [j for j in jobs.values() if "kubernetes_sd_configs" in j]
check("prometheus: one Kubernetes job, role pod, in the DaemonSet's namespace",
      len(k8s) == 1 and k8s[0]["kubernetes_sd_configs"][0]["role"] == "pod"
      and k8s[0]["kubernetes_sd_configs"][0]["namespaces"]["names"] == [ns])
check("prometheus: one file_sd job for plain nodes",
      sum("file_sd_configs" in j for j in jobs.values()) == 1)

# OpenTelemetry Collector
otel = yaml.safe_load(open(f"{C}/otel-collector/config.yaml"))
protos = otel["receivers"]["otlp"]["protocols"]
check("otel: otlp receiver on grpc :4317 and http :4318",
      protos["grpc"]["endpoint"].endswith(":4317") and protos["http"]["endpoint"].endswith(":4318"))
pipes = otel["service"]["pipelines"]
check("otel: traces and metrics pipelines", set(pipes) == {"traces", "metrics"})
for name, p in pipes.items():
    check(f"otel: {name} receives otlp", p["receivers"] == ["otlp"])
    check(f"otel: {name} batches, memory_limiter first",
          "batch" in p["processors"] and p["processors"][0] == "memory_limiter")
    for kind in ("receivers", "processors", "exporters"):
        check(f"otel: every {kind[:-1]} of {name} is declared",
              p[kind] and all(c in (otel.get(kind) or {}) for c in p[kind]))
hl = {a["key"]: a["from_attribute"] for p in pipes["metrics"]["processors"]
      if p.startswith("resource") for a in otel["processors"][p]["attributes"]}
check("otel: pushed metrics get the labels of /metrics (service, pid, exe)",
      hl == {"service": "service.name", "pid": "process.pid", "exe": "process.executable.name"})
check("otel: remote write adds the unit and _total suffixes of docs/metrics.md",
      otel["exporters"]["prometheusremotewrite"].get("add_metric_suffixes") is True)
types = {e.split("/")[0] for e in otel["exporters"]}
check("otel: exporters are otlphttp, prometheusremotewrite and debug",
      types == {"otlphttp", "prometheusremotewrite", "debug"})

sys.exit(1 if failed else 0)
PY

# ---------------------------------------------------------------- promtool
need_cmd promtool
if promtool check config "$C/prometheus/prometheus.yml" >"$T/promtool.out" 2>&1; then
	ok "promtool check config contrib/prometheus/prometheus.yml"
	k8s_sd=1
else
	cat "$T/promtool.out"
	grep -q 'field kubernetes_sd_configs not found' "$T/promtool.out" ||
		fail "promtool check config contrib/prometheus/prometheus.yml"
	ok "promtool rejects only kubernetes_sd_configs: built without Kubernetes discovery ($(promtool --version 2>&1 | head -1))"
	k8s_sd=0
fi

# The configuration a local Prometheus runs: contrib's, its Kubernetes
# discovery swapped for a file of targets labelled as pod discovery would
# label them, its file_sd list for one of local addresses. Relabelling as is.
sport=$(pick_port 19900)
pport=$(pick_port $((sport + 1)))
dport=$(pick_port $((pport + 1)))
mkdir -p "$T/www"
echo 'torvyn_trace_target_up{pid="1",exe="/usr/bin/torvyn-host",service="demo"} 1' >"$T/www/metrics"
python3 - "$C" "$T" "$sport" "$dport" <<'PY'
import json, re, sys, yaml

C, T, sport, dport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
prom = yaml.safe_load(open(f"{C}/prometheus/prometheus.yml"))
ds = [d for d in yaml.safe_load_all(open(f"{C}/kubernetes/daemonset.yaml"))
      if d and d["kind"] == "DaemonSet"][0]
ns = ds["metadata"]["namespace"]
tmpl = ds["spec"]["template"]
(ctr,) = tmpl["spec"]["containers"]


def pod_targets(name, node, phase, labels, ports):
    """One target group per container port, as role: pod discovery makes them."""
    meta = {"__meta_kubernetes_namespace": ns, "__meta_kubernetes_pod_name": name,
            "__meta_kubernetes_pod_node_name": node, "__meta_kubernetes_pod_phase": phase,
            "__meta_kubernetes_pod_container_name": ctr["name"]}
    for k, v in labels.items():
        meta["__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", k)] = v
    return [{"targets": [f"127.0.0.1:{port}"],
             "labels": dict(meta, __meta_kubernetes_pod_container_port_name=pname)}
            for pname, port in ports]


agent = tmpl["metadata"]["labels"]
pname = ctr["ports"][0]["name"]
groups = (pod_targets("agent-a", "node-a", "Running", agent, [(pname, sport)])
          + pod_targets("agent-b", "node-b", "Pending", agent, [(pname, dport)])
          + pod_targets("agent-c", "node-c", "Running", agent, [("debug", dport)])
          + pod_targets("other", "node-a", "Running", {"app.kubernetes.io/name": "other"},
                        [(pname, dport)]))
json.dump(groups, open(f"{T}/pods.json", "w"))
yaml.safe_dump([{"targets": [f"127.0.0.1:{sport}"]},
                {"targets": [f"localhost:{sport}"], "labels": {"node": "given"}}],
               open(f"{T}/nodes.yml", "w"))

prom["global"]["scrape_interval"] = "1s"
prom["global"]["scrape_timeout"] = "1s"
for job in prom["scrape_configs"]:
    if "kubernetes_sd_configs" in job:
        del job["kubernetes_sd_configs"]
        job["file_sd_configs"] = [{"files": [f"{T}/pods.json"]}]
    else:
        job["file_sd_configs"] = [{"files": [f"{T}/nodes.yml"]}]
yaml.safe_dump(prom, open(f"{T}/prom.yml", "w"), sort_keys=False)
PY
promtool check config "$T/prom.yml" >/dev/null || fail "promtool check config of the local rewrite"
[ "$k8s_sd" = 1 ] || ok "promtool check config with file_sd_configs in place of kubernetes_sd_configs"

[ -x /usr/bin/prometheus ] || skip "/usr/bin/prometheus is missing (Debian package prometheus; make deps installs it)"
bg python3 -m http.server "$sport" --bind 127.0.0.1 --directory "$T/www"
wait_for "the stand-in agent on port $sport" 10 curl -sf "http://127.0.0.1:$sport/metrics"
bg /usr/bin/prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn
PROM=http://127.0.0.1:$pport
wait_for "Prometheus to be ready on port $pport" 30 curl -sf "$PROM/-/ready"

k8s_job=$(python3 -c 'import sys, yaml
print([j["job_name"] for j in yaml.safe_load(open(sys.argv[1]))["scrape_configs"]
       if "kubernetes_sd_configs" in j][0])' "$C/prometheus/prometheus.yml")
node_job=$(python3 -c 'import sys, yaml
print([j["job_name"] for j in yaml.safe_load(open(sys.argv[1]))["scrape_configs"]
       if "file_sd_configs" in j][0])' "$C/prometheus/prometheus.yml")

# all_up: every kept target scraped without error
all_up() {
	curl -sf "$PROM/api/v1/targets" >"$T/targets.json" &&
		[ "$(jq '[.data.activeTargets[] | select(.health == "up")] | length' "$T/targets.json")" = 3 ]
}
wait_for "Prometheus to scrape the 3 kept targets" 30 all_up

active() { # JOB: its active targets' labels, sorted, one line each
	jq -c --arg j "$1" '[.data.activeTargets[] | select(.labels.job == $j) | .labels]
		| sort_by(.instance) | .[]' "$T/targets.json"
}
dropped() { # JOB: how many of its targets relabelling dropped
	jq --arg j "$1" '[.data.droppedTargets[] | select(.discoveredLabels.job == $j)] | length' \
		"$T/targets.json"
}
assert_eq "$k8s_job: the Running agent pod's metrics port, labelled with its node" \
	'{"instance":"node-a","job":"'"$k8s_job"'","namespace":"torvyn-trace","node":"node-a","pod":"agent-a"}' \
	"$(active "$k8s_job")"
assert_eq "$k8s_job: scraped at the pod's address" "http://127.0.0.1:$sport/metrics" \
	"$(jq -r --arg j "$k8s_job" '.data.activeTargets[] | select(.labels.job == $j) | .scrapeUrl' "$T/targets.json")"
assert_eq "$k8s_job: dropped (pending pod, other port, other app)" 3 "$(dropped "$k8s_job")"
assert_eq "$node_job: node from the address, or as given" \
	"$(printf '%s\n' \
		'{"instance":"127.0.0.1:'"$sport"'","job":"'"$node_job"'","node":"127.0.0.1"}' \
		'{"instance":"localhost:'"$sport"'","job":"'"$node_job"'","node":"given"}')" \
	"$(active "$node_job")"

q='torvyn_trace_target_up{job="'"$k8s_job"'",node="node-a",pid="1",service="demo"}'
stored() {
	[ "$(curl -sf -G "$PROM/api/v1/query" --data-urlencode "query=$q" |
		jq '.data.result | length')" = 1 ]
}
wait_for "$q in Prometheus" 10 stored
ok "$q is stored"
