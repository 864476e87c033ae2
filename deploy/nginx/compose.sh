#!/bin/sh
# nginx image start-up hook (compose.yaml): deploy/nginx/cpor.conf with the compose host
# names of the web nodes, installed as the only site.
set -eu
sed -e 's/10\.0\.0\.11:8000/web1:8000/; s/10\.0\.0\.12:8000/web2:8000/' \
    -e 's/server_name cpor\.example\.com;/server_name _;/' \
    /etc/cpor/cpor.conf > /etc/nginx/conf.d/default.conf
