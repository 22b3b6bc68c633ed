#!/bin/sh
# smoke-test.sh MODULE.so CATALOG.json: the built module loads into the stock
# nginx and `nginx -t` accepts a minimal `rbac on` server (no Redis needed:
# nginx -t does not connect).  Run by debian/rules' dh_auto_test.
set -eu

so=$(readlink -f "$1")
catalog=$(readlink -f "$2")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM

cat > "$dir/nginx.conf" <<CONF
load_module $so;
pid $dir/nginx.pid;
error_log stderr;
events {}
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    rbac_redis 127.0.0.1:6379;
    rbac_roles $catalog;
    server {
        listen 127.0.0.1:8080;
        location / {
            rbac on;
            return 204;
        }
    }
}
CONF

/usr/sbin/nginx -t -q -e stderr -p "$dir/" -c "$dir/nginx.conf"
echo "smoke-test: nginx -t accepts the module with a minimal rbac on server"
