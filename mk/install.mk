# mk/install.mk: what `make install` puts beside the two binaries (systemd units, the example
# config, the nginx site, firestore.indexes.json, the README) and `make uninstall` takes away.
#
# Layout (DESTDIR is prepended to every path; PREFIX defaults to /usr/local):
#   $(SYSTEMD_UNIT_DIR)/clipapi.socket, clipapi.service, clipapi-migrate.service
#                                          (ExecStart paths rewritten to $(PREFIX)/bin)
#   $(PREFIX)/share/clipapi/clipapi.conf.example     every key, commented
#   $(PREFIX)/share/clipapi/nginx/clipapi.conf       the production site (sites-available/)
#   $(PREFIX)/share/clipapi/nginx/clipapi/*.conf     its includes (/etc/nginx/clipapi/)
#   $(PREFIX)/share/clipapi/firestore.indexes.json   when the tree has one
#   $(PREFIX)/share/doc/clipapi/README.md
#   $(CLIPAPI_CONFDIR)/clipapi.conf                  a copy of the example, only when absent
#   $(CLIPAPI_CONFDIR)/secrets/                      0700, only when absent
# /etc/clipapi is not under PREFIX: clipapi-fcgi, clipctl and the units look there by default.
# `make uninstall` removes the installed files; of /etc/clipapi it removes only what is still
# exactly as installed (an edited clipapi.conf and any secrets stay, and so their directories).

# tests/checks/systemd-units.sh audits the pool's system calls with strace.
APT_PKGS += strace

SYSTEMD_UNIT_DIR ?= /lib/systemd/system
CLIPAPI_CONFDIR ?= /etc/clipapi
CLIPAPI_DATADIR = $(PREFIX)/share/clipapi
CLIPAPI_DOCDIR = $(PREFIX)/share/doc/clipapi

CLIPAPI_UNITS := clipapi.socket clipapi.service clipapi-migrate.service
CLIPAPI_NGINX_INCLUDES := $(notdir $(wildcard nginx/clipapi/*.conf))

.PHONY: install-extra

install-extra::
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR) $(DESTDIR)$(CLIPAPI_DATADIR)/nginx/clipapi \
		$(DESTDIR)$(CLIPAPI_DOCDIR)
	@for u in $(CLIPAPI_UNITS); do \
	  echo "install systemd/$$u -> $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u"; \
	  sed -e 's|/usr/local/|$(PREFIX)/|g' -e 's|/etc/clipapi/|$(CLIPAPI_CONFDIR)/|g' systemd/$$u \
	    >$(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u.tmp && \
	  chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u.tmp && \
	  mv -f $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u.tmp $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u || exit 1; \
	done
	install -m 0644 etc/clipapi.conf.example $(DESTDIR)$(CLIPAPI_DATADIR)/clipapi.conf.example
	install -m 0644 nginx/clipapi.conf $(DESTDIR)$(CLIPAPI_DATADIR)/nginx/clipapi.conf
	install -m 0644 $(addprefix nginx/clipapi/,$(CLIPAPI_NGINX_INCLUDES)) \
		$(DESTDIR)$(CLIPAPI_DATADIR)/nginx/clipapi/
	@if [ -f firestore.indexes.json ]; then \
	  echo "install -m 0644 firestore.indexes.json $(DESTDIR)$(CLIPAPI_DATADIR)/"; \
	  install -m 0644 firestore.indexes.json $(DESTDIR)$(CLIPAPI_DATADIR)/firestore.indexes.json; \
	else echo "install: no firestore.indexes.json in the tree yet, skipped"; fi
	install -m 0644 README.md $(DESTDIR)$(CLIPAPI_DOCDIR)/README.md
	install -d -m 0755 $(DESTDIR)$(CLIPAPI_CONFDIR)
	@if [ -e $(DESTDIR)$(CLIPAPI_CONFDIR)/clipapi.conf ]; then \
	  echo "install: $(DESTDIR)$(CLIPAPI_CONFDIR)/clipapi.conf exists, left as it is"; \
	else \
	  echo "install -m 0644 etc/clipapi.conf.example $(DESTDIR)$(CLIPAPI_CONFDIR)/clipapi.conf"; \
	  install -m 0644 etc/clipapi.conf.example $(DESTDIR)$(CLIPAPI_CONFDIR)/clipapi.conf; \
	fi
	@[ -d $(DESTDIR)$(CLIPAPI_CONFDIR)/secrets ] || \
	  { echo "install -d -m 0700 $(DESTDIR)$(CLIPAPI_CONFDIR)/secrets"; \
	    install -d -m 0700 $(DESTDIR)$(CLIPAPI_CONFDIR)/secrets; }

uninstall::
	rm -f $(addprefix $(DESTDIR)$(SYSTEMD_UNIT_DIR)/,$(CLIPAPI_UNITS))
	rm -f $(DESTDIR)$(CLIPAPI_DATADIR)/clipapi.conf.example \
		$(DESTDIR)$(CLIPAPI_DATADIR)/firestore.indexes.json \
		$(DESTDIR)$(CLIPAPI_DATADIR)/nginx/clipapi.conf \
		$(addprefix $(DESTDIR)$(CLIPAPI_DATADIR)/nginx/clipapi/,$(CLIPAPI_NGINX_INCLUDES)) \
		$(DESTDIR)$(CLIPAPI_DOCDIR)/README.md
	@rmdir $(DESTDIR)$(CLIPAPI_DATADIR)/nginx/clipapi $(DESTDIR)$(CLIPAPI_DATADIR)/nginx \
		$(DESTDIR)$(CLIPAPI_DATADIR) $(DESTDIR)$(CLIPAPI_DOCDIR) 2>/dev/null || true
	@if cmp -s etc/clipapi.conf.example $(DESTDIR)$(CLIPAPI_CONFDIR)/clipapi.conf; then \
	  echo "rm -f $(DESTDIR)$(CLIPAPI_CONFDIR)/clipapi.conf"; \
	  rm -f $(DESTDIR)$(CLIPAPI_CONFDIR)/clipapi.conf; \
	elif [ -e $(DESTDIR)$(CLIPAPI_CONFDIR)/clipapi.conf ]; then \
	  echo "uninstall: $(DESTDIR)$(CLIPAPI_CONFDIR)/clipapi.conf was edited, kept"; fi
	@rmdir $(DESTDIR)$(CLIPAPI_CONFDIR)/secrets 2>/dev/null || \
	  { [ ! -d $(DESTDIR)$(CLIPAPI_CONFDIR)/secrets ] || \
	    echo "uninstall: $(DESTDIR)$(CLIPAPI_CONFDIR)/secrets is not empty, kept"; }
	@rmdir $(DESTDIR)$(CLIPAPI_CONFDIR) 2>/dev/null || true
