#!/usr/bin/env python3
"""Compare kubemig's conversions with Kubernetes' own (kubectl-convert 1.20, built by
../shared/oracle/setup.sh) on every public-corpus document both can convert.

usage: compare.py ORACLE_DIR KUBEMIG CORPUS_DIR

Values are compared, never text: the oracle drops comments, sorts keys, materialises
defaults and drops unknown fields. For every leaf kubemig writes, the oracle must hold the
same value, unless
  * kubemig kept it from the input unchanged and the oracle dropped it (the oracle drops
    fields it does not know), or
  * the difference is one of the deliberate ones in DELIBERATE (each explained in README).
Exit status 1 when an unexplained conflict remains.
"""
import os, subprocess, sys, tempfile
import yaml

ORACLE, KUBEMIG, CORPUS = sys.argv[1:4]
CONVERT = os.path.join(ORACLE, 'bin', 'kubectl-convert-ext')
WORKLOADS = {'Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet'}

def target(av, kind):
    """(oracle output version, kubemig target release) for what both can do."""
    if kind == 'Ingress' and av in ('extensions/v1beta1', 'networking.k8s.io/v1beta1'): return 'networking.k8s.io/v1', None
    if kind == 'IngressClass' and av == 'networking.k8s.io/v1beta1': return 'networking.k8s.io/v1', None
    if kind == 'NetworkPolicy' and av == 'extensions/v1beta1': return 'networking.k8s.io/v1', None
    if kind in WORKLOADS and av in ('extensions/v1beta1', 'apps/v1beta1', 'apps/v1beta2'): return 'apps/v1', None
    if kind == 'HorizontalPodAutoscaler' and av == 'autoscaling/v2beta1': return 'autoscaling/v2beta2', '1.25'
    g, _, v = av.rpartition('/')
    if v == 'v1beta1' and g in ('admissionregistration.k8s.io', 'rbac.authorization.k8s.io', 'scheduling.k8s.io',
                                'storage.k8s.io', 'certificates.k8s.io', 'coordination.k8s.io', 'node.k8s.io',
                                'apiextensions.k8s.io', 'apiregistration.k8s.io'):
        return g + '/v1', None
    return None, None

# (kind, path prefix, reason): differences that are deliberate; README lists them.
DELIBERATE = [
    ('HorizontalPodAutoscaler', 'spec.metrics.*.containerResource.container', 'the 1.20 conversion drops container, which v2 requires'),
    ('ValidatingWebhookConfiguration', 'webhooks.*.sideEffects', 'v1 rejects the oracle\'s Unknown'),
    ('MutatingWebhookConfiguration', 'webhooks.*.sideEffects', 'v1 rejects the oracle\'s Unknown'),
    ('CustomResourceDefinition', 'spec.preserveUnknownFields', 'v1 rejects true; kubemig pins no-pruning in the schema instead'),
    ('CustomResourceDefinition', 'spec.versions.*.schema.openAPIV3Schema', 'x-kubernetes-preserve-unknown-fields pins and type: object'),
    ('DaemonSet', 'spec.templateGeneration', 'kubemig drops it; the oracle turns it into an annotation'),
    # Field migrations (in-tree volume plugin -> CSI) run after the apiVersion migration;
    # kubectl convert only converts versions.
    ('StorageClass', 'provisioner', 'in-tree provisioner translated to its CSI driver (field migration)'),
    ('StorageClass', 'parameters', 'in-tree parameters translated for the CSI driver (field migration)'),
    ('StorageClass', 'allowedTopologies', 'zone keys translated to the CSI topology key (field migration)'),
    # Deprecated annotations and field aliases replaced by their fields (field migrations).
    ('Ingress', 'spec.ingressClassName', 'annotation kubernetes.io/ingress.class became the field (field migration)'),
    ('StatefulSet', 'spec.volumeClaimTemplates.*.spec.storageClassName', 'annotation volume.beta.kubernetes.io/storage-class became the field (field migration)'),
] + [
    (kind, 'spec.template.spec.' + field, why)
    for kind in sorted(WORKLOADS)
    for field, why in [
        ('serviceAccountName', 'deprecated alias serviceAccount renamed (field migration)'),
        ('securityContext.seccompProfile', 'seccomp annotation became the field (field migration)'),
        ('containers.*.securityContext.seccompProfile', 'seccomp annotation became the field (field migration)'),
        ('initContainers.*.securityContext.seccompProfile', 'seccomp annotation became the field (field migration)'),
        ('securityContext.sysctls', 'sysctls annotation became the field (field migration)'),
        ('nodeSelector', 'deprecated node label renamed (field migration)'),
        ('affinity', 'deprecated node label renamed (field migration)'),
        ('topologySpreadConstraints', 'deprecated node label renamed (field migration)'),
    ]
]

def leaves(v, path=()):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from leaves(x, path + (str(k),))
    elif isinstance(v, list):
        if not v:
            yield path, []
        for i, x in enumerate(v):
            yield from leaves(x, path + (str(i),))
    else:
        yield path, v

def get(v, path):
    for p in path:
        if isinstance(v, dict) and p in v: v = v[p]
        elif isinstance(v, list) and p.isdigit() and int(p) < len(v): v = v[int(p)]
        else: return KeyError
    return v

SUFFIX = {'n': 'e-9', 'u': 'e-6', 'm': 'e-3', '': '', 'k': 'e3', 'M': 'e6', 'G': 'e9', 'T': 'e12', 'P': 'e15', 'E': 'e18'}
BINARY = {'Ki': 2**10, 'Mi': 2**20, 'Gi': 2**30, 'Ti': 2**40, 'Pi': 2**50, 'Ei': 2**60}

def quantity(x):
    """A Kubernetes quantity as a Decimal (`0.5` and `500m` are equal), or None."""
    from decimal import Decimal, InvalidOperation
    s = str(x).strip()
    try:
        for suf, mult in BINARY.items():
            if s.endswith(suf): return Decimal(s[:-2]) * mult
        if s and s[-1] in SUFFIX and not s[-1].isdigit(): return Decimal(s[:-1] + SUFFIX[s[-1]])
        return Decimal(s)
    except (InvalidOperation, ValueError):
        return None

def norm(x):
    if isinstance(x, bool): return str(x).lower()
    return None if x is None else str(x)

def same(a, b):
    if norm(a) == norm(b) or a == b: return True
    qa, qb = quantity(a), quantity(b)
    return qa is not None and qa == qb

def deliberate(kind, path):
    dotted = '.'.join('*' if p.isdigit() else p for p in path)
    return next((r for k, pre, r in DELIBERATE if k in (kind, '*') and dotted.startswith(pre)), None)

def run(cmd, text):
    return subprocess.run(cmd, input=text, capture_output=True, text=True)

compared = explained = dropped = 0
reasons = {}
conflicts = []
for root, _, files in sorted(os.walk(CORPUS)):
    for f in sorted(files):
        if not f.endswith(('.yaml', '.yml')): continue
        path = os.path.join(root, f)
        try:
            docs = list(yaml.safe_load_all(open(path, encoding='utf-8-sig')))
        except Exception:
            continue
        for doc in docs:
            if not isinstance(doc, dict): continue
            av, kind = doc.get('apiVersion'), doc.get('kind')
            out_version, release = target(av, kind)
            if not out_version: continue
            text = yaml.safe_dump(doc, sort_keys=False)
            args = [KUBEMIG, 'fix', '-'] + (['-t', release] if release else [])
            k = run(args, text)
            if k.returncode != 0: continue  # needs a human, or an error: nothing to compare
            mine = yaml.safe_load(k.stdout)
            if mine.get('apiVersion') != out_version: continue
            with tempfile.NamedTemporaryFile('w', suffix='.yaml', delete=False) as t:
                t.write(text)
            o = subprocess.run([CONVERT, '--local', '-f', t.name, '--output-version', out_version, '-o', 'yaml'],
                               capture_output=True, text=True)
            os.unlink(t.name)
            if o.returncode != 0: continue
            theirs = yaml.safe_load(o.stdout)
            compared += 1
            for p, v in leaves(mine):
                if p and p[0] == 'status': continue
                ov = get(theirs, p)
                if ov is not KeyError and same(ov, v): continue
                if ov is KeyError and get(doc, p) is not KeyError and norm(get(doc, p)) == norm(v):
                    dropped += 1  # kept from the input; the oracle drops fields it does not know
                    continue
                why = deliberate(kind, p)
                if why:
                    explained += 1
                    reasons[why] = reasons.get(why, 0) + 1
                    continue
                conflicts.append(f'{os.path.relpath(path, CORPUS)}: {kind} {".".join(p)}: kubemig {v!r}, oracle {"<absent>" if ov is KeyError else repr(ov)}')

print(f'oracle comparison: {compared} documents compared, {explained} deliberate differences, '
      f'{dropped} input fields the oracle dropped, {len(conflicts)} unexplained conflicts')
for why, n in sorted(reasons.items()):
    print(f'  deliberate ({n}): {why}')
for c in conflicts[:50]:
    print('  ' + c)
sys.exit(1 if conflicts else 0)
