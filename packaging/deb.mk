# packaging/deb.mk: `make deb` builds the Debian packages with Debian's own
# tooling (dpkg-buildpackage, debhelper, dh_nginx from nginx-dev):
#
#   build/deb/libnginx-mod-http-rbac_<VERSION>_<arch>.deb   module, snippet,
#                                                           catalog
#   build/deb/rbacctl_<VERSION>_<arch>.deb                  rbacctl, man page
#
# dpkg-buildpackage writes into the parent of the tree it builds, so it runs
# in a copy of the tree, build/deb/src (build/ and .git left out), whose
# debian/changelog is generated from VERSION.  Nothing is written outside
# build/deb/.  `make deb-lint` runs lintian over both packages.

DEB_DIR      := $(BUILD)/deb
DEB_SRC      := $(DEB_DIR)/src
DEB_VERSION  := $(shell tr -d ' \t\r\n' < VERSION)
DEB_ARCH     := $(shell dpkg --print-architecture 2>/dev/null || echo unknown)
DEB_MODULE   := $(DEB_DIR)/libnginx-mod-http-rbac_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_CTL      := $(DEB_DIR)/rbacctl_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_PKGS     := $(DEB_MODULE) $(DEB_CTL)

# What the packages are built from (tests excluded: they are not shipped).
DEB_INPUTS   := VERSION Makefile config packaging/deb.mk \
                $(wildcard debian/* debian/source/* scripts/* */*.mk \
                           core/* cli/* ngx_rbac_module/*) $(CATALOG)

# The outer make's flags and variables (BUILD=, -j's jobserver) must not
# reach the package build, which runs its own make in the copy.
DEB_ENV      := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
                DEB_BUILD_OPTIONS="$(DEB_BUILD_OPTIONS)"

.PHONY: deb deb-lint
deb: $(DEB_PKGS)

$(DEB_PKGS) &: $(DEB_INPUTS)
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	tar -cf - --exclude=./build --exclude=./.git \
	    $(if $(filter-out /%,$(BUILD)),--exclude=./$(BUILD)) . \
	    | tar -C $(DEB_SRC) -xf -
	sh scripts/deb-changelog.sh VERSION debian/control \
	    > $(DEB_SRC)/debian/changelog
	cd $(DEB_SRC) && $(DEB_ENV) dpkg-buildpackage -b -us -uc -Jauto \
	    > ../build.log 2>&1 \
	    || { tail -40 ../build.log; echo "deb: see $(DEB_DIR)/build.log"; \
	         exit 1; }
	@ls -1 $(DEB_DIR)/*.deb

deb-lint: $(DEB_PKGS)
	lintian --fail-on error --tag-display-limit 0 $(DEB_PKGS)
