#!/usr/bin/env bash
# run.sh: the quickstart behind `make run`.  Installs what is missing,
# builds, then starts on loopback a redis-server, two demo upstreams and
# nginx with the module, applies the MegaCo example policy, mints tokens and
# prints curl commands to try.  Ctrl-C stops everything it started.
#
#   RBAC_RUN_PORT      nginx port (default 8080; 0 = any free port)
#   RBAC_RUN_DIR       where the run lives (default build/run)
#   RBAC_RUN_LISTEN    nginx address (default 127.0.0.1; the image: 0.0.0.0)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh
make -s all

py=/usr/bin/python3
free_port() {
    $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

dir=${RBAC_RUN_DIR:-$root/build/run}
port=${RBAC_RUN_PORT:-8080}
listen=${RBAC_RUN_LISTEN:-127.0.0.1}
[ "$port" = 0 ] && port=$(free_port)
redis_port=$(free_port)
upstream_port=$(free_port)
rm -rf "$dir"
mkdir -p "$dir"

pids=()
stop() {
    trap - INT TERM EXIT
    [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "quickstart stopped"
}
trap stop INT TERM EXIT

# The decision table.
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' \
    --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
pids+=($!)
for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
done
export RBAC_REDIS="redis://127.0.0.1:$redis_port"
rbacctl() { "$root/build/rbacctl" "$@"; }
rbacctl apply -f conf-examples/policies/megaco.json >/dev/null

# The demo upstream: echoes the identity nginx decided.
$py scripts/demo_upstream.py "$upstream_port" coder-api &
pids+=($!)

# A fresh HS256 key for the demo's JWTs, and nginx.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/jwt-hs256.key"
sed -e "s|@MODULE@|$root/build/ngx_http_rbac_module.so|" \
    -e "s|@PREFIX@|$dir|g" -e "s|@LISTEN@|$listen|" -e "s|@PORT@|$port|" \
    -e "s|@REDIS_PORT@|$redis_port|" -e "s|@UPSTREAM_PORT@|$upstream_port|" \
    conf-examples/quickstart/nginx.conf.in > "$dir/nginx.conf"
user_directive=""
[ "$(id -u)" = 0 ] && user_directive="user root;"
nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
    -g "daemon off; $user_directive" &
pids+=($!)
for _ in $(seq 50); do
    $py -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" \
        2>/dev/null && break
    sleep 0.1
done

# Tokens: JWTs from the "identity provider", an API token for the CI
# service account, and a provisioner key for Raptix's daemon.
jwt() {
    $py - "$dir/jwt-hs256.key" "$1" "${2:-null}" <<'PY'
import json, sys, time, jwt
key = open(sys.argv[1], "rb").read()
now = int(time.time())
claims = {"sub": sys.argv[2], "iss": "https://idp.megaco.example",
          "iat": now, "exp": now + 3600}
claims.update(json.loads(sys.argv[3]) or {})
print(jwt.encode(claims, key, algorithm="HS256"))
PY
}
bob=$(jwt bob)
dave=$(jwt dave)
carol=$(jwt carol)
# frank exists only in the identity provider: IdP sync (rbac:idpsync) makes
# him what his memberOf claim says
frank=$(jwt frank '{"memberOf": ["mlbox"]}')
frank_noclaim=$(jwt frank)
ci=$(rbacctl token create --user sa-ci --ttl 1h | tail -n 1)
pkey=$(rbacctl pkey create --org raptix --name demo-daemon | tail -n 1)

url="http://127.0.0.1:$port"
cat <<EOT

ngx_rbac quickstart: nginx on $url, redis on 127.0.0.1:$redis_port
(policy: conf-examples/policies/megaco.json; logs: $dir/*.log)

# allow: bob (MegaCo Team Lead) reads his workspace (expect 200)
curl -s -i -H 'Authorization: Bearer $bob' $url/api/v2/workspaces/ws-bob

# org isolation: carol (contractors) reads a MegaCo workspace (expect 403)
curl -s -i -H 'Authorization: Bearer $carol' $url/api/v2/workspaces/ws-bob

# shared workspace: bob shared ws-bob with dave as 'use'; dave may ssh (expect 200)
curl -s -i -H 'Authorization: Bearer $dave' $url/api/v2/workspaces/ws-bob/ssh

# ... but not delete it (expect 403)
curl -s -i -X DELETE -H 'Authorization: Bearer $dave' $url/api/v2/workspaces/ws-bob

# workspace app: ws-bob (named "dev") is shared with dave, whose browser opens its app (expect 200)
curl -s -i -H 'Authorization: Bearer $dave' $url/@bob/dev/apps/code/

# ... and refused to carol, with whom it is not shared (expect 403)
curl -s -i -H 'Authorization: Bearer $carol' $url/@bob/dev/apps/code/

# IdP sync: frank (no record) is in ML Platform's ml-users by his memberOf claim (expect 200)
curl -s -i -H 'Authorization: Bearer $frank' $url/api/v2/templates/tpl-mlbox

# ... and without the claim he is nobody (expect 403)
curl -s -i -H 'Authorization: Bearer $frank_noclaim' $url/api/v2/templates/tpl-mlbox

# service account: the CI token reads a template on the API (expect 200)
curl -s -i -H 'Coder-Session-Token: $ci' $url/api/v2/templates/tpl-java

# ... and is refused on the dashboard, a UI location (expect 403)
curl -s -i -H 'Coder-Session-Token: $ci' $url/

# provisioner key: Raptix's daemon reaches its own organization (expect 200)
curl -s -i -H 'Coder-Provisioner-Daemon-Key: $pkey' $url/api/v2/organizations/raptix/provisionerdaemons/serve

# ... and nothing of MegaCo's (expect 403)
curl -s -i -H 'Coder-Provisioner-Daemon-Key: $pkey' $url/api/v2/organizations/megaco/provisionerdaemons/serve

# no credential at all (expect 401)
curl -s -i $url/api/v2/workspaces/ws-bob

Change the policy live, e.g. take bob's role away, and retry the first command:
  RBAC_REDIS=redis://127.0.0.1:$redis_port build/rbacctl member set --org megaco --user bob

Counters (decisions, 401 reasons, cache, Redis), from this machine only:
  curl -s $url/rbac/status

quickstart ready; Ctrl-C stops everything
EOT
wait
