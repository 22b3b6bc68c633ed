# ngx_rbac_module/: the nginx module, built against Debian's nginx sources.
