# ngx_rbac on Debian bookworm: Debian's nginx with the module loaded, the
# quickstart of `make run` as the default command.  A thin wrapper over
# scripts/: the image runs exactly what the README and CI run.
#
#   docker build -t ngx_rbac .
#   docker run --rm -p 8080:8080 ngx_rbac
#
# Runs as a non-root user; nginx listens on 8080, and the status location
# (/rbac/status) answers loopback only, inside the container.
FROM debian:bookworm

COPY . /opt/ngx_rbac
WORKDIR /opt/ngx_rbac

RUN bash scripts/install-deps.sh \
    && make all \
    && useradd --system --home-dir /opt/ngx_rbac --shell /usr/sbin/nologin rbac \
    && chown -R rbac:rbac /opt/ngx_rbac/build \
    && rm -rf /var/lib/apt/lists/*

USER rbac
ENV RBAC_RUN_PORT=8080 RBAC_RUN_LISTEN=0.0.0.0
EXPOSE 8080
STOPSIGNAL SIGINT
CMD ["bash", "scripts/run.sh"]
