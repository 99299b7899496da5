#!/usr/bin/env bash
# Flags on a line of their own go with the line; a plain --cascade is only ignored.
kubectl run tmp --image=busybox:1.36 \
  --grace-period=0 \
  --force \
  --restart=Never -- sleep 1
kubectl run old --image=busybox:1.36 --cascade=orphan --dry-run=client -o yaml
kubectl get pods --timeout=30s   # not `run`: untouched
