# Two commands do all set-up: `make run` and `make test`. Each installs what is missing and
# starts PostgreSQL, Redis and NATS (with JetStream) when they are not running.

SHELL := /bin/bash
PG_URL ?= postgres://postgres@127.0.0.1:5432
DATABASE_URL ?= $(PG_URL)/allot
REDIS_URL ?= redis://127.0.0.1:6379/
export DATABASE_URL REDIS_URL


.PHONY: run test deps browser-deps services database build lint clean-test-databases bench

run: deps services database
	cargo build --release --bin allot
	./target/release/allot seed-demo | tee .demo-credentials
	@echo
	@echo "Allot on http://127.0.0.1:8080 (pages: / for clerks, /plans for planners) — try:"
	@echo "  KEY=\$$(tail -n 1 .demo-credentials)"
	@echo "  curl -s -H \"Authorization: Bearer \$$KEY\" 'http://127.0.0.1:8080/v1/stock/TSHIRT-BLK-M?store=TPE-001' | python3 -m json.tool"
	@echo "  curl -s -H \"Authorization: Bearer \$$KEY\" http://127.0.0.1:8080/v1/locations/TPE-001/stock?limit=5"
	@echo "  curl -s  http://127.0.0.1:8080/openapi.json | head -c 300; echo"
	@echo "  curl -s  http://127.0.0.1:8080/ready"
	@echo
	./target/release/allot serve

test: deps browser-deps services clean-test-databases
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace
	@# The clairvoyant bound and plans that docs/BENCHMARKS.md cites, against brute force.
	cd load-tests/exactness && python3 master_test.py
	@# The hold, order and lookup tests again, their holds on a 3-master Redis Cluster that the
	@# test process starts and stops (those that flush or stop a Redis of their own excepted).
	ALLOT_TEST_ON_CLUSTER=1 cargo test --test api -- holds:: orders:: stock:: \
		--skip flushall_mid_run --skip with_redis_down --skip a_write_redis_missed

bench:
	cargo bench --workspace

# Installs only what is missing (a fresh machine has Rust and little else).
deps:
	@missing=""; \
	command -v cmake >/dev/null || missing="$$missing cmake"; \
	ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || missing="$$missing libclang-dev clang"; \
	command -v pg_ctlcluster >/dev/null || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v nats-server >/dev/null || missing="$$missing nats-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v node >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@# The contract fuzzer tests/contract.rs runs, at its pinned version.
	@command -v st >/dev/null || python3 -m pip install -q -r tests/contract/requirements.txt
	@# The independent MILP solver/tests/exactness.rs checks the sourcing optimiser against,
	@# and the clairvoyant bounds of load-tests/exactness (HiGHS through scipy and highspy).
	@python3 -c "import scipy, highspy" 2>/dev/null || \
		python3 -m pip install -q -r load-tests/exactness/requirements.txt

# playwright-core for the browser tests, pinned by tests/browser/package-lock.json.
browser-deps:
	@[ tests/browser/node_modules/.package-lock.json -nt tests/browser/package-lock.json ] || \
		npm ci --prefix tests/browser --no-audit --no-fund

services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -n 1) main start; \
		for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
	@(exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null || { mkdir -p /var/lib/nats-server; \
		start-stop-daemon --start --oknodo --background --exec "$$(command -v nats-server)" -- \
			-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server; }
	@for i in $$(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && break; sleep 0.2; done

database:
	@psql "$(PG_URL)/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = 'allot'" | grep -q 1 || \
		psql "$(PG_URL)/postgres" -qc "CREATE DATABASE allot"

# Databases left by earlier test runs (each test makes its own).
clean-test-databases:
	@psql "$(PG_URL)/postgres" -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'allot\_test\_%'" | \
		while read -r db; do psql "$(PG_URL)/postgres" -qc "DROP DATABASE IF EXISTS \"$$db\" WITH (FORCE)"; done
