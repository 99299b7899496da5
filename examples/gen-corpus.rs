//! Writes a deterministic synthetic monorepo of Kubernetes manifests, for the benchmark.
//!
//! ```sh
//! cargo run --release --example gen-corpus -- --files 10000 --hit-rate 0.01 --seed 1 DIR
//! cargo run --release --example gen-corpus -- --single-file-mb 200 --hit-rate 0.01 DIR
//! cargo run --release --example gen-corpus -- --small --files 5000 --hit-rate 1 --seed 5 DIR
//! ```
//!
//! The same arguments always give the same bytes (a fixed SplitMix64 generator, no
//! dependencies). Files are spread over nested directories (`apps/`, `platform/`, `charts/`,
//! `crds/`, `clusters/`), about 16 to a directory, and mix Deployments, Services, StatefulSets,
//! ConfigMaps with large `data` (nginx configs, JSON dashboards), CRDs with big schemas,
//! Helm-rendered multi-document files with `# Source:` comments, RBAC, Ingress, HPA, CronJob,
//! PDB, flow control, kustomization files and JSON manifests, with comments, some CRLF line
//! endings, BOMs and non-ASCII text. Exactly `round(files × hit-rate)` files use a removed
//! API (autoscaling/v2beta1 HPA, extensions/v1beta1 Ingress and Deployment, batch/v1beta1
//! CronJob, policy/v1beta1 PDB, flowcontrol v1beta1, apiextensions v1beta1 CRD); no other
//! file mentions one. A `.git` directory, a `.github` directory and a git-ignored `build/`
//! hold files with removed APIs too, which a correct walk skips. With `--single-file-mb`,
//! one multi-document file of that size is written instead, `hit-rate` of its documents old.
//! With `--small`, every file is a small one (about 2.5 KB): no Helm release, CRD or large
//! ConfigMap; a file with a removed API holds one such document (Ingress, HPA, CronJob, PDB
//! or flow control) followed by current Services up to ~2 KB, the per-file costs' worst case.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const TEAMS: &[&str] = &[
    "payments", "search", "checkout", "identity", "catalog", "growth", "infra", "data", "ml",
    "mobile", "billing", "support", "ads", "media", "notify", "risk",
];
const WORDS: &[&str] = &[
    "api",
    "web",
    "worker",
    "gateway",
    "cache",
    "indexer",
    "scheduler",
    "auth",
    "ledger",
    "events",
    "router",
    "feed",
    "sync",
    "export",
    "import",
    "report",
    "thumbs",
    "mailer",
    "queue",
    "proxy",
    "metrics",
    "audit",
    "session",
    "profile",
    "cart",
    "pricing",
];
const ENVS: &[&str] = &["dev", "staging", "prod", "prod-eu", "prod-us"];
const REGISTRIES: &[&str] = &[
    "registry.example.com",
    "ghcr.io/example",
    "eu.gcr.io/example-prod",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
];
const COMMENTS: &[&str] = &[
    "# Managed by the platform team; ask in #k8s-help before changing.",
    "# NOTE: keep in sync with the Terraform module.",
    "# Reviewed 2021-03 — limits sized for peak traffic (Black Friday).",
    "# TODO(ops): move to the shared chart once it supports sidecars.",
    "# Généré à partir du modèle ; ne pas modifier à la main.",
    "# 負荷試験の結果に基づいて設定 (load-test tuned)",
];

/// The kinds of file, with weights; `true` when the kind has an old-API variant.
const KINDS: &[(&str, u32, bool)] = &[
    ("deployment", 20, true),
    ("service", 12, false),
    ("configmap", 9, false),
    ("helm", 14, true),
    ("statefulset", 4, false),
    ("rbac", 6, false),
    ("ingress", 7, true),
    ("hpa", 5, true),
    ("cronjob", 5, true),
    ("pdb", 4, true),
    ("crd", 3, true),
    ("flowcontrol", 1, true),
    ("kustomization", 4, false),
    ("json", 3, false),
    ("secret", 3, false),
];

struct Doc<'r> {
    rng: &'r mut Rng,
    name: String,
    ns: String,
    old: bool,
}

fn pick_kind(rng: &mut Rng, hit: bool) -> &'static str {
    let kinds: Vec<&(&str, u32, bool)> = KINDS.iter().filter(|k| !hit || k.2).collect();
    let total: u32 = kinds.iter().map(|k| k.1).sum();
    let mut n = rng.below(total as usize) as u32;
    for k in kinds {
        if n < k.1 {
            return k.0;
        }
        n -= k.1;
    }
    unreachable!()
}

fn labels(out: &mut String, indent: usize, app: &str, team: &str) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}app.kubernetes.io/name: {app}");
    let _ = writeln!(out, "{pad}app.kubernetes.io/part-of: {team}");
    let _ = writeln!(out, "{pad}app.kubernetes.io/managed-by: kustomize");
}

fn container(d: &mut Doc, out: &mut String, indent: usize) {
    let pad = " ".repeat(indent);
    let reg = d.rng.pick(REGISTRIES);
    let (maj, min, patch) = (d.rng.range(1, 4), d.rng.below(30), d.rng.below(20));
    let _ = writeln!(out, "{pad}- name: {}", d.name);
    let _ = writeln!(out, "{pad}  image: {reg}/{}:{maj}.{min}.{patch}", d.name);
    if d.rng.chance(0.5) {
        let _ = writeln!(out, "{pad}  imagePullPolicy: IfNotPresent");
    }
    let _ = writeln!(out, "{pad}  ports:");
    let _ = writeln!(out, "{pad}  - name: http");
    let _ = writeln!(out, "{pad}    containerPort: {}", 8000 + d.rng.below(100));
    let _ = writeln!(out, "{pad}    protocol: TCP");
    let _ = writeln!(out, "{pad}  env:");
    for i in 0..d.rng.range(2, 12) {
        match d.rng.below(4) {
            0 => {
                let _ = writeln!(out, "{pad}  - name: POD_NAMESPACE");
                let _ = writeln!(out, "{pad}    valueFrom:");
                let _ = writeln!(
                    out,
                    "{pad}      fieldRef: {{fieldPath: metadata.namespace}}"
                );
            }
            1 => {
                let _ = writeln!(out, "{pad}  - name: DB_PASSWORD_{i}");
                let _ = writeln!(out, "{pad}    valueFrom:");
                let _ = writeln!(out, "{pad}      secretKeyRef:");
                let _ = writeln!(out, "{pad}        name: {}-db", d.name);
                let _ = writeln!(out, "{pad}        key: password");
            }
            2 => {
                let _ = writeln!(out, "{pad}  - name: FEATURE_FLAG_{i}");
                let _ = writeln!(out, "{pad}    value: \"{}\"", d.rng.chance(0.5));
            }
            _ => {
                let _ = writeln!(out, "{pad}  - name: UPSTREAM_{i}_URL");
                let _ = writeln!(
                    out,
                    "{pad}    value: http://{}.{}.svc.cluster.local:{}  # in-cluster",
                    d.rng.pick(WORDS),
                    d.ns,
                    8000 + d.rng.below(100)
                );
            }
        }
    }
    let cpu = d.rng.range(1, 20) * 50;
    let mem = d.rng.range(1, 32) * 64;
    let _ = writeln!(out, "{pad}  resources:");
    let _ = writeln!(out, "{pad}    requests: {{cpu: {cpu}m, memory: {mem}Mi}}");
    let _ = writeln!(out, "{pad}    limits:");
    let _ = writeln!(out, "{pad}      cpu: \"{}\"", cpu * 2);
    let _ = writeln!(out, "{pad}      memory: {}Mi", mem * 2);
    for probe in ["readinessProbe", "livenessProbe"] {
        let _ = writeln!(out, "{pad}  {probe}:");
        let _ = writeln!(out, "{pad}    httpGet:");
        let _ = writeln!(out, "{pad}      path: /healthz");
        let _ = writeln!(out, "{pad}      port: http");
        let _ = writeln!(out, "{pad}    periodSeconds: {}", d.rng.range(5, 30));
    }
    if d.rng.chance(0.4) {
        let _ = writeln!(out, "{pad}  volumeMounts:");
        let _ = writeln!(out, "{pad}  - name: config");
        let _ = writeln!(out, "{pad}    mountPath: /etc/{}", d.name);
        let _ = writeln!(out, "{pad}    readOnly: true");
    }
    let _ = writeln!(out, "{pad}  securityContext:");
    let _ = writeln!(out, "{pad}    runAsNonRoot: true");
    let _ = writeln!(out, "{pad}    allowPrivilegeEscalation: false");
    let _ = writeln!(out, "{pad}    capabilities:");
    let _ = writeln!(out, "{pad}      drop: [\"ALL\"]");
}

fn pod_spec(d: &mut Doc, out: &mut String, indent: usize, team: &str) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}metadata:");
    let _ = writeln!(out, "{pad}  labels:");
    labels(out, indent + 4, &d.name.clone(), team);
    if d.rng.chance(0.5) {
        let _ = writeln!(out, "{pad}  annotations:");
        let _ = writeln!(out, "{pad}    prometheus.io/scrape: \"true\"");
        let _ = writeln!(out, "{pad}    prometheus.io/port: \"9090\"");
    }
    let _ = writeln!(out, "{pad}spec:");
    let _ = writeln!(out, "{pad}  serviceAccountName: {}", d.name);
    if d.rng.chance(0.3) {
        let _ = writeln!(out, "{pad}  nodeSelector:");
        let _ = writeln!(out, "{pad}    kubernetes.io/os: linux");
    }
    let _ = writeln!(out, "{pad}  containers:");
    container(d, out, indent + 2);
    if d.rng.chance(0.3) {
        let _ = writeln!(out, "{pad}  volumes:");
        let _ = writeln!(out, "{pad}  - name: config");
        let _ = writeln!(out, "{pad}    configMap:");
        let _ = writeln!(out, "{pad}      name: {}-config", d.name);
    }
}

fn meta(d: &mut Doc, out: &mut String, team: &str) {
    let _ = writeln!(out, "metadata:");
    let _ = writeln!(out, "  name: {}", d.name);
    let _ = writeln!(out, "  namespace: {}", d.ns);
    let _ = writeln!(out, "  labels:");
    labels(out, 4, &d.name.clone(), team);
}

fn deployment(d: &mut Doc, out: &mut String, team: &str) {
    if d.old {
        let _ = writeln!(out, "apiVersion: extensions/v1beta1");
    } else {
        let _ = writeln!(out, "apiVersion: apps/v1");
    }
    let _ = writeln!(out, "kind: Deployment");
    meta(d, out, team);
    let _ = writeln!(out, "spec:");
    let _ = writeln!(
        out,
        "  replicas: {}  # HPA owns this in prod",
        d.rng.range(1, 12)
    );
    if !d.old {
        let _ = writeln!(out, "  revisionHistoryLimit: 5");
        let _ = writeln!(out, "  selector:");
        let _ = writeln!(out, "    matchLabels:");
        let _ = writeln!(out, "      app.kubernetes.io/name: {}", d.name);
    }
    let _ = writeln!(out, "  template:");
    pod_spec(d, out, 4, team);
}

fn statefulset(d: &mut Doc, out: &mut String, team: &str) {
    let _ = writeln!(out, "apiVersion: apps/v1\nkind: StatefulSet");
    meta(d, out, team);
    let _ = writeln!(out, "spec:\n  serviceName: {}\n  replicas: 3", d.name);
    let _ = writeln!(
        out,
        "  selector:\n    matchLabels:\n      app.kubernetes.io/name: {}",
        d.name
    );
    let _ = writeln!(out, "  template:");
    pod_spec(d, out, 4, team);
    let _ = writeln!(
        out,
        "  volumeClaimTemplates:\n  - metadata:\n      name: data"
    );
    let _ = writeln!(
        out,
        "    spec:\n      accessModes: [ReadWriteOnce]\n      storageClassName: ssd\n      resources:\n        requests:\n          storage: {}Gi",
        d.rng.range(1, 500)
    );
}

fn service(d: &mut Doc, out: &mut String, team: &str) {
    let _ = writeln!(out, "apiVersion: v1\nkind: Service");
    meta(d, out, team);
    let _ = writeln!(out, "spec:");
    let _ = writeln!(
        out,
        "  type: {}",
        d.rng.pick(&["ClusterIP", "ClusterIP", "NodePort"])
    );
    let _ = writeln!(out, "  selector:\n    app.kubernetes.io/name: {}", d.name);
    let _ = writeln!(out, "  ports:");
    for p in ["http", "metrics"] {
        let _ = writeln!(
            out,
            "  - name: {p}\n    port: {}\n    targetPort: {p}\n    protocol: TCP",
            if p == "http" { 80 } else { 9090 }
        );
    }
}

fn configmap(d: &mut Doc, out: &mut String, team: &str) {
    let _ = writeln!(out, "apiVersion: v1\nkind: ConfigMap");
    let _ = writeln!(
        out,
        "metadata:\n  name: {}-config\n  namespace: {}",
        d.name, d.ns
    );
    let _ = writeln!(out, "  labels:");
    labels(out, 4, &d.name.clone(), team);
    let _ = writeln!(out, "data:");
    let _ = writeln!(
        out,
        "  LOG_LEVEL: info\n  WORKERS: \"{}\"",
        d.rng.range(1, 64)
    );
    // A large nginx config: 1 to 60 KB.
    let _ = writeln!(out, "  nginx.conf: |");
    let _ = writeln!(
        out,
        "    worker_processes auto;\n    events {{ worker_connections 4096; }}"
    );
    let _ = writeln!(out, "    http {{");
    let blocks = if d.rng.chance(0.2) {
        d.rng.range(40, 200)
    } else {
        d.rng.range(3, 30)
    };
    for i in 0..blocks {
        let w = d.rng.pick(WORDS);
        let _ = writeln!(out, "      upstream {w}_{i} {{");
        for s in 0..d.rng.range(1, 4) {
            let _ = writeln!(out, "        server {w}-{s}.{}.svc:8080 max_fails=3;", d.ns);
        }
        let _ = writeln!(out, "      }}");
        let _ = writeln!(out, "      location ~ ^/{w}/(v[0-9]+)/(.*)$ {{");
        let _ = writeln!(out, "        proxy_pass http://{w}_{i}/$1/$2;");
        let _ = writeln!(out, "        proxy_set_header X-Request-Id $request_id;");
        let _ = writeln!(
            out,
            "        if ($http_user_agent ~* \"\\b(bot|crawler)\\b\") {{ return 403; }}"
        );
        let _ = writeln!(out, "      }}");
    }
    let _ = writeln!(out, "    }}");
    if d.rng.chance(0.4) {
        // A Grafana-style dashboard in JSON.
        let _ = writeln!(out, "  dashboard.json: |-");
        let _ = writeln!(out, "    {{");
        let _ = writeln!(out, "      \"title\": \"{} overview\",", d.name);
        let _ = writeln!(out, "      \"panels\": [");
        let n = d.rng.range(5, 60);
        for i in 0..n {
            let _ = writeln!(
                out,
                "        {{\"id\": {i}, \"type\": \"timeseries\", \"title\": \"p{} latency\", \"targets\": [{{\"expr\": \"histogram_quantile(0.{}, sum(rate(http_request_duration_seconds_bucket{{job=\\\"{}\\\"}}[5m])) by (le))\"}}], \"gridPos\": {{\"h\": 8, \"w\": 12, \"x\": {}, \"y\": {}}}}}{}",
                90 + i % 10,
                90 + i % 10,
                d.name,
                (i % 2) * 12,
                i * 8,
                if i + 1 < n { "," } else { "" }
            );
        }
        let _ = writeln!(out, "      ]\n    }}");
    }
}

fn secret(d: &mut Doc, out: &mut String, _team: &str) {
    let _ = writeln!(out, "apiVersion: v1\nkind: Secret");
    let _ = writeln!(
        out,
        "metadata:\n  name: {}-db\n  namespace: {}",
        d.name, d.ns
    );
    let _ = writeln!(out, "type: Opaque\ndata:");
    for k in ["username", "password", "ca.crt"] {
        let len = if k == "ca.crt" { 1200 } else { 24 };
        let mut v = String::with_capacity(len);
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for _ in 0..len {
            v.push(B64[d.rng.below(64)] as char);
        }
        let _ = writeln!(out, "  {k}: {v}");
    }
}

fn rbac(d: &mut Doc, out: &mut String, team: &str) {
    let _ = writeln!(out, "apiVersion: v1\nkind: ServiceAccount");
    let _ = writeln!(out, "metadata:\n  name: {}\n  namespace: {}", d.name, d.ns);
    let _ = writeln!(
        out,
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role"
    );
    meta(d, out, team);
    let _ = writeln!(out, "rules:");
    for res in ["configmaps", "secrets", "pods", "leases"] {
        let _ = writeln!(
            out,
            "- apiGroups: [\"\"]\n  resources: [\"{res}\"]\n  verbs: [\"get\", \"list\", \"watch\"]"
        );
    }
    let _ = writeln!(
        out,
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding"
    );
    meta(d, out, team);
    let _ = writeln!(
        out,
        "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {}\nsubjects:\n- kind: ServiceAccount\n  name: {}\n  namespace: {}",
        d.name, d.name, d.ns
    );
}

fn ingress(d: &mut Doc, out: &mut String, team: &str) {
    let old = d.old;
    let _ = writeln!(
        out,
        "apiVersion: {}\nkind: Ingress",
        if old {
            "extensions/v1beta1"
        } else {
            "networking.k8s.io/v1"
        }
    );
    meta(d, out, team);
    let _ = writeln!(
        out,
        "  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt"
    );
    let _ = writeln!(out, "spec:");
    if !old {
        let _ = writeln!(out, "  ingressClassName: nginx");
    }
    let _ = writeln!(
        out,
        "  tls:\n  - hosts: [{}.example.com]\n    secretName: {}-tls",
        d.name, d.name
    );
    let _ = writeln!(out, "  rules:");
    for h in 0..d.rng.range(1, 3) {
        let _ = writeln!(
            out,
            "  - host: {}{h}.example.com\n    http:\n      paths:",
            d.name
        );
        for p in 0..d.rng.range(1, 4) {
            let w = d.rng.pick(WORDS);
            if old {
                let _ = writeln!(
                    out,
                    "      - path: /{w}{p}   # routed to {w}\n        backend:\n          serviceName: {w}\n          servicePort: {}",
                    if p % 2 == 0 {
                        "http".to_string()
                    } else {
                        "8080".to_string()
                    }
                );
            } else {
                let _ = writeln!(
                    out,
                    "      - path: /{w}{p}   # routed to {w}\n        pathType: Prefix\n        backend:\n          service:\n            name: {w}\n            port:\n              number: 80"
                );
            }
        }
    }
}

fn hpa(d: &mut Doc, out: &mut String, team: &str) {
    let old = d.old;
    let _ = writeln!(
        out,
        "apiVersion: {}\nkind: HorizontalPodAutoscaler",
        if old {
            "autoscaling/v2beta1"
        } else {
            "autoscaling/v2"
        }
    );
    meta(d, out, team);
    let _ = writeln!(
        out,
        "spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {}\n  minReplicas: {}\n  maxReplicas: {}\n  metrics:",
        d.name,
        d.rng.range(1, 3),
        d.rng.range(4, 50)
    );
    let cpu = d.rng.range(40, 90);
    if old {
        let _ = writeln!(
            out,
            "  - type: Resource\n    resource:\n      name: cpu\n      targetAverageUtilization: {cpu}  # percent of requests"
        );
        let _ = writeln!(
            out,
            "  - type: Pods\n    pods:\n      metricName: requests_per_second\n      targetAverageValue: \"{}\"",
            d.rng.range(10, 500)
        );
    } else {
        let _ = writeln!(
            out,
            "  - type: Resource\n    resource:\n      name: cpu\n      target:\n        type: Utilization\n        averageUtilization: {cpu}  # percent of requests"
        );
    }
}

fn cronjob(d: &mut Doc, out: &mut String, team: &str) {
    let _ = writeln!(
        out,
        "apiVersion: {}\nkind: CronJob",
        if d.old { "batch/v1beta1" } else { "batch/v1" }
    );
    meta(d, out, team);
    let _ = writeln!(
        out,
        "spec:\n  schedule: \"{} {} * * *\"\n  concurrencyPolicy: Forbid\n  jobTemplate:\n    spec:\n      backoffLimit: 2\n      template:",
        d.rng.below(60),
        d.rng.below(24)
    );
    pod_spec(d, out, 8, team);
    let _ = writeln!(out, "          restartPolicy: OnFailure");
}

fn pdb(d: &mut Doc, out: &mut String, team: &str) {
    let _ = writeln!(
        out,
        "apiVersion: {}\nkind: PodDisruptionBudget",
        if d.old { "policy/v1beta1" } else { "policy/v1" }
    );
    meta(d, out, team);
    let _ = writeln!(
        out,
        "spec:\n  minAvailable: {}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {}",
        d.rng.range(1, 3),
        d.name
    );
}

fn flowcontrol(d: &mut Doc, out: &mut String, _team: &str) {
    let api = if d.old {
        "flowcontrol.apiserver.k8s.io/v1beta1"
    } else {
        "flowcontrol.apiserver.k8s.io/v1"
    };
    let shares = if d.old {
        "assuredConcurrencyShares"
    } else {
        "nominalConcurrencyShares"
    };
    let _ = writeln!(
        out,
        "apiVersion: {api}\nkind: PriorityLevelConfiguration\nmetadata:\n  name: {}\nspec:\n  type: Limited\n  limited:\n    {shares}: {}\n    limitResponse:\n      type: Queue\n      queuing:\n        queues: 64\n        handSize: 6\n        queueLengthLimit: 50",
        d.name,
        d.rng.range(5, 100)
    );
    let _ = writeln!(
        out,
        "---\napiVersion: {api}\nkind: FlowSchema\nmetadata:\n  name: {}\nspec:\n  priorityLevelConfiguration:\n    name: {}\n  matchingPrecedence: {}\n  distinguisherMethod:\n    type: ByUser\n  rules:\n  - subjects:\n    - kind: ServiceAccount\n      serviceAccount:\n        name: {}\n        namespace: {}\n    resourceRules:\n    - verbs: [\"*\"]\n      apiGroups: [\"*\"]\n      resources: [\"*\"]\n      namespaces: [\"*\"]",
        d.name,
        d.name,
        d.rng.range(500, 9000),
        d.name,
        d.ns
    );
}

fn schema_props(rng: &mut Rng, out: &mut String, indent: usize, depth: usize, budget: &mut usize) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}properties:");
    for i in 0..rng.range(2, 8) {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let w = rng.pick(WORDS);
        let _ = writeln!(out, "{pad}  {w}{i}:");
        let _ = writeln!(
            out,
            "{pad}    description: The {w} setting; see the operator guide for details and defaults."
        );
        if depth < 4 && rng.chance(0.35) {
            let _ = writeln!(out, "{pad}    type: object");
            schema_props(rng, out, indent + 4, depth + 1, budget);
        } else if rng.chance(0.2) {
            let _ = writeln!(
                out,
                "{pad}    type: array\n{pad}    items:\n{pad}      type: string"
            );
        } else {
            let t = rng.pick(&["string", "integer", "boolean"]);
            let _ = writeln!(out, "{pad}    type: {t}");
            if t == "integer" {
                let _ = writeln!(out, "{pad}    minimum: 0\n{pad}    format: int32");
            }
        }
    }
}

fn crd(d: &mut Doc, out: &mut String, _team: &str) {
    let group = format!("{}.example.com", d.rng.pick(TEAMS));
    let kind: String = {
        let w = d.name.replace('-', "");
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    let plural = format!("{}s", kind.to_lowercase());
    let mut budget = d.rng.range(100, 1200);
    let _ = writeln!(
        out,
        "apiVersion: {}\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names:\n    plural: {plural}\n    singular: {}\n    kind: {kind}\n    listKind: {kind}List",
        if d.old {
            "apiextensions.k8s.io/v1beta1"
        } else {
            "apiextensions.k8s.io/v1"
        },
        kind.to_lowercase()
    );
    if d.old {
        let _ = writeln!(
            out,
            "  version: v1\n  subresources:\n    status: {{}}\n  validation:\n    openAPIV3Schema:\n      type: object"
        );
        schema_props(d.rng, out, 6, 0, &mut budget);
    } else {
        let _ = writeln!(
            out,
            "  versions:\n  - name: v1\n    served: true\n    storage: true\n    subresources:\n      status: {{}}\n    schema:\n      openAPIV3Schema:\n        type: object"
        );
        schema_props(d.rng, out, 8, 0, &mut budget);
    }
}

fn json(d: &mut Doc, out: &mut String, _team: &str) {
    let _ = writeln!(out, "{{");
    let _ = writeln!(out, "  \"apiVersion\": \"v1\",\n  \"kind\": \"Service\",");
    let _ = writeln!(
        out,
        "  \"metadata\": {{\n    \"name\": \"{}\",\n    \"namespace\": \"{}\",\n    \"labels\": {{\"app.kubernetes.io/name\": \"{}\"}}\n  }},",
        d.name, d.ns, d.name
    );
    let _ = writeln!(
        out,
        "  \"spec\": {{\n    \"selector\": {{\"app.kubernetes.io/name\": \"{}\"}},\n    \"ports\": [{{\"name\": \"http\", \"port\": 80, \"targetPort\": {}}}]\n  }}\n}}",
        d.name,
        8000 + d.rng.below(100)
    );
}

fn kustomization(d: &mut Doc, out: &mut String, _team: &str) {
    let _ = writeln!(
        out,
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {}\nresources:\n- deployment.yaml\n- service.yaml\n- ../../base\nimages:\n- name: {}\n  newTag: \"{}.{}.0\"\nconfigMapGenerator:\n- name: {}-env\n  literals:\n  - LOG_LEVEL=debug",
        d.ns,
        d.name,
        d.rng.range(1, 5),
        d.rng.below(40),
        d.name
    );
}

type Gen = fn(&mut Doc, &mut String, &str);

fn generator(kind: &str) -> Gen {
    match kind {
        "deployment" => deployment,
        "service" => service,
        "configmap" => configmap,
        "statefulset" => statefulset,
        "rbac" => rbac,
        "ingress" => ingress,
        "hpa" => hpa,
        "cronjob" => cronjob,
        "pdb" => pdb,
        "crd" => crd,
        "flowcontrol" => flowcontrol,
        "json" => json,
        "kustomization" => kustomization,
        "secret" => secret,
        _ => unreachable!("{kind}"),
    }
}

/// A Helm-rendered release: several documents with `# Source:` comments, one of them old
/// when `old`.
fn helm(rng: &mut Rng, out: &mut String, name: &str, ns: &str, team: &str, old: bool) {
    let parts: &[&str] = &[
        "service",
        "deployment",
        "configmap",
        "hpa",
        "pdb",
        "ingress",
        "rbac",
        "cronjob",
    ];
    let n = rng.range(3, 8);
    let old_at = if old { Some(rng.below(n)) } else { None };
    for i in 0..n {
        let kind = if Some(i) == old_at {
            rng.pick(&["deployment", "hpa", "pdb", "ingress", "cronjob"])
        } else {
            parts[rng.below(parts.len())]
        };
        let _ = writeln!(out, "---\n# Source: {team}-{name}/templates/{kind}.yaml");
        let mut d = Doc {
            name: format!("{name}-{i}"),
            ns: ns.to_string(),
            old: Some(i) == old_at,
            rng: &mut *rng,
        };
        generator(kind)(&mut d, out, team);
    }
}

fn document(rng: &mut Rng, kind: &str, old: bool, serial: usize) -> String {
    let team = rng.pick(TEAMS);
    let name = format!("{}-{}", rng.pick(WORDS), serial);
    let ns = format!("{team}-{}", rng.pick(ENVS));
    let mut out = String::new();
    if kind != "json" && rng.chance(0.6) {
        out.push_str(rng.pick(COMMENTS));
        out.push('\n');
    }
    if kind == "helm" {
        helm(rng, &mut out, &name, &ns, team, old);
    } else {
        let mut d = Doc { rng, name, ns, old };
        generator(kind)(&mut d, &mut out, team);
    }
    out
}

/// A small file for `--small`: one document of a kind that stays small (a removed API's
/// when `old`), then current Services until the file is about 2 KB or more.
fn small_document(rng: &mut Rng, old: bool, serial: usize) -> (&'static str, String) {
    let kind = if old {
        rng.pick(&["ingress", "hpa", "cronjob", "pdb", "flowcontrol"])
    } else {
        rng.pick(&["deployment", "service", "rbac", "statefulset", "secret"])
    };
    let mut text = document(rng, kind, old, serial);
    let mut n = 0;
    while text.len() < 2000 {
        let more = document(rng, "service", false, serial * 100 + n);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        if !more.starts_with("---") {
            text.push_str("---\n");
        }
        text.push_str(&more);
        n += 1;
    }
    (kind, text)
}

fn dir_for(rng: &mut Rng, leaf: usize) -> PathBuf {
    let team = TEAMS[leaf % TEAMS.len()];
    let svc = format!("{}-{}", WORDS[(leaf / TEAMS.len()) % WORDS.len()], leaf);
    match rng.below(6) {
        0 => PathBuf::from(format!("charts/{team}/{svc}/rendered")),
        1 => PathBuf::from(format!("platform/{team}/{svc}")),
        2 => PathBuf::from(format!("clusters/{}/{team}/{svc}", ENVS[leaf % ENVS.len()])),
        3 => PathBuf::from(format!("crds/{team}/{svc}")),
        _ => PathBuf::from(format!(
            "apps/{team}/{svc}/overlays/{}",
            ENVS[leaf % ENVS.len()]
        )),
    }
}

fn finish(rng: &mut Rng, text: String, kind: &str) -> Vec<u8> {
    let mut text = text;
    if kind != "json" && rng.chance(0.02) {
        text = text.replace('\n', "\r\n");
    }
    let mut bytes = Vec::with_capacity(text.len() + 3);
    if kind != "json" && rng.chance(0.01) {
        bytes.extend_from_slice("\u{feff}".as_bytes());
    }
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

/// The bytes of `files` files that all use a removed API, as `main` writes them (CRLF, BOM
/// and all) but without the directories: the criterion benches' all-hits corpus
/// (`benches/pipeline.rs` includes this file).
#[allow(dead_code)]
pub fn all_hits_files(files: usize, small: bool, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    (0..files)
        .map(|i| {
            let (kind, text) = if small {
                small_document(&mut rng, true, i)
            } else {
                let kind = pick_kind(&mut rng, true);
                (kind, document(&mut rng, kind, true, i))
            };
            finish(&mut rng, text, kind)
        })
        .collect()
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).unwrap_or_else(|e| panic!("create {}: {e}", p.display()));
    }
    fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Files a correct walk never reads: a `.git` directory, `.github`, and a git-ignored dir.
fn skipped(rng: &mut Rng, dir: &Path) {
    write(&dir.join(".git/HEAD"), b"ref: refs/heads/main\n");
    write(&dir.join(".gitignore"), b"/build/\n*.tmp.yaml\n");
    for i in 0..20 {
        let old = document(rng, "ingress", true, i);
        write(
            &dir.join(format!(".git/kubemig-bench/{i}/ingress.yaml")),
            old.as_bytes(),
        );
        write(&dir.join(format!("build/out-{i}.yaml")), old.as_bytes());
    }
    write(
        &dir.join(".github/workflows/deploy.yaml"),
        b"name: deploy\non: [push]\n# kubectl apply of extensions/v1beta1 objects happens here\n",
    );
}

fn main() {
    let mut files = 10_000usize;
    let mut hit_rate = 0.01f64;
    let mut seed = 1u64;
    let mut single_mb: Option<usize> = None;
    let mut small = false;
    let mut dir: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    let usage = "usage: gen-corpus [--files N] [--hit-rate R] [--seed S] [--single-file-mb MB] [--small] DIR";
    while let Some(a) = args.next() {
        let mut value = |what: &str| {
            args.next()
                .unwrap_or_else(|| panic!("{what} needs a value\n{usage}"))
        };
        match a.as_str() {
            "--files" => files = value("--files").parse().expect("--files N"),
            "--hit-rate" => hit_rate = value("--hit-rate").parse().expect("--hit-rate 0..1"),
            "--seed" => seed = value("--seed").parse().expect("--seed S"),
            "--single-file-mb" => {
                single_mb = Some(
                    value("--single-file-mb")
                        .parse()
                        .expect("--single-file-mb MB"),
                )
            }
            "--small" => small = true,
            "-h" | "--help" => {
                println!("{usage}");
                return;
            }
            _ if a.starts_with('-') => panic!("unknown option {a}\n{usage}"),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.unwrap_or_else(|| panic!("{usage}"));
    assert!(
        (0.0..=1.0).contains(&hit_rate),
        "--hit-rate is a fraction, 0 to 1"
    );
    let mut rng = Rng(seed);

    if let Some(mb) = single_mb {
        let target = mb << 20;
        let mut out = String::with_capacity(target + (1 << 20));
        out.push_str("# Rendered by helm template for every release of the monorepo.\n");
        let mut n = 0;
        let (mut docs, mut hits) = (0usize, 0usize);
        while out.len() < target {
            // Spread the hits evenly so that any prefix has the same rate.
            let old = ((n + 1) as f64 * hit_rate).floor() > (n as f64 * hit_rate).floor();
            let kind = pick_kind(&mut rng, old);
            let kind = if matches!(kind, "json" | "kustomization") {
                "service"
            } else {
                kind
            };
            let text = document(&mut rng, kind, old, n);
            let _ = writeln!(out, "---\n# Source: monorepo/{kind}-{n}.yaml");
            out.push_str(text.trim_start_matches("---\n"));
            docs += 1;
            hits += usize::from(old);
            n += 1;
        }
        write(&dir.join("all.yaml"), out.as_bytes());
        println!(
            "wrote {}: {} bytes, {docs} files rendered, {hits} of them with a removed API",
            dir.join("all.yaml").display(),
            out.len()
        );
        return;
    }

    // Exactly round(files × hit_rate) hits, chosen by a seeded shuffle.
    let want = (files as f64 * hit_rate).round() as usize;
    let mut order: Vec<usize> = (0..files).collect();
    for i in (1..files).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut hit = vec![false; files];
    for &i in &order[..want] {
        hit[i] = true;
    }
    skipped(&mut rng, &dir);
    let mut bytes_total = 0usize;
    let mut leaf_dir = PathBuf::new();
    for (i, &old) in hit.iter().enumerate() {
        if i % 16 == 0 {
            leaf_dir = dir.join(dir_for(&mut rng, i / 16));
        }
        let (kind, text) = if small {
            small_document(&mut rng, old, i)
        } else {
            let kind = pick_kind(&mut rng, old);
            (kind, document(&mut rng, kind, old, i))
        };
        let ext = match kind {
            "json" => "json",
            _ if rng.chance(0.15) => "yml",
            _ => "yaml",
        };
        let name = if kind == "kustomization" {
            format!("{}/kustomization.{ext}", i)
        } else {
            format!("{kind}-{i}.{ext}")
        };
        let bytes = finish(&mut rng, text, kind);
        bytes_total += bytes.len();
        write(&leaf_dir.join(name), &bytes);
    }
    println!(
        "wrote {files} files ({want} with a removed API, {:.1} MB) under {}",
        bytes_total as f64 / 1e6,
        dir.display()
    );
}
