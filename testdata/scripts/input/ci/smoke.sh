#!/bin/sh
set -eu
kubectl -n qa run smoke --image=curlimages/curl:8.8.0 --restart=Never --rm -i \
  --timeout=60s --grace-period=5 -- curl -fsS http://web/healthz
kubectl run probe --image=busybox:1.36 --timeout="$WAIT" -- true
