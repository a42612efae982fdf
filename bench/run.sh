#!/usr/bin/env bash
# bench/run.sh: run loginkit's side-by-side benchmarks and print markdown.
#
# Starts the test services (Redis is needed for the redisstore stacks)
# unless LOGINKIT_REDIS_URL is already set, then runs:
#   1. Go benchmarks of one authenticated GET per stack (-count 6, benchstat)
#   2. per-request cost with 1k, 100k and 1M live sessions, and memstore's
#      memory per session
#   3. a loopback load test of every stack, interleaved rounds, with wrk
#      (installed from Debian's packages if missing) or, failing that, Go
#      clients in the load-test process
#   4. a realistic mix: 10,000 live sessions per Redis stack, Zipf-skewed
#      access, loginkit on Redis with and without the near-cache beside scs
#      on Redis, with the near-cache's hit ratio
#   5. the login path at the default argon2id cost with 64 clients
#   6. with SOAK=1, the ten-minute soak test (cmd/loadtest -soak): two
#      near-cache instances sharing Redis and a memstore baseline under
#      login, logout and password-change churn
#   7. with BASELINE=<git revision>, the authenticated GET of this tree
#      against that revision's, in one run: both benchmark binaries are
#      built, run alternately COUNT times (each first in every other
#      round), and compared with benchstat
#      (a regression shows as a positive, significant delta)
# Environment: COUNT (default 6), DURATION (default 3s), ROUNDS (default 3),
# SOAK (default 0), BASELINE (default unset), ONLY_BASELINE=1 (run only 7).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
COUNT=${COUNT:-6}
DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-3}
SOAK=${SOAK:-0}

if [[ -z "${LOGINKIT_REDIS_URL:-}" ]]; then
	"$root/scripts/services.sh" start >&2
	trap '"$root/scripts/services.sh" stop >&2' EXIT
	eval "$("$root/scripts/services.sh" env)"
fi
export LOGINKIT_REDIS_URL

out=$(mktemp -d)

# baseline REV: the authenticated GET of this tree against REV's, one run.
baseline() {
	local rev=$1 wt="$out/baseline" stacks='AuthenticatedGET/stack=(bare|loginkit-memstore|loginkit-cookiestore|loginkit-redisstore)$'
	git -C "$root" worktree add -q --detach "$wt" "$rev" >&2
	trap 'git -C "$root" worktree remove --force "$wt" >/dev/null 2>&1 || true' RETURN
	(cd "$wt/bench" && go mod tidy >&2 && go test -c -o "$out/old.test" .)
	go test -c -o "$out/new.test" .
	echo "## Against $(git -C "$root" rev-parse --short "$rev") (authenticated GET, one run, alternating)"
	echo
	# Each round runs both binaries, the baseline first in even rounds and
	# second in odd ones, so that neither gains from its place in the round.
	for ((i = 0; i < COUNT; i++)); do
		local order=(old new)
		((i % 2 == 0)) || order=(new old)
		for which in "${order[@]}"; do
			"$out/$which.test" -test.run '^$' -test.bench "$stacks" -test.benchmem >>"$out/$which.txt"
		done
	done
	echo '```'
	go tool benchstat "$(git -C "$root" rev-parse --short "$rev")=$out/old.txt" "this tree=$out/new.txt"
	echo '```'
	echo
}

if [[ "${ONLY_BASELINE:-0}" == 1 ]]; then
	baseline "${BASELINE:?ONLY_BASELINE=1 needs BASELINE}"
	rm -rf "$out"
	exit 0
fi

echo "# loginkit benchmarks"
echo
echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3)."
echo
echo "## One authenticated GET (Go benchmark, httptest, no network)"
echo
go test -run '^$' -bench 'AuthenticatedGET' -benchmem -count "$COUNT" . >"$out/get.txt"
echo '```'
go tool benchstat -col /stack -row .name "$out/get.txt" 2>/dev/null ||
	go tool benchstat "$out/get.txt"
echo '```'
echo
echo "## Live sessions (per-request cost must stay flat)"
echo
go test -run '^$' -bench 'LiveSessions|MemstoreBytesPerSession' -benchmem -count 1 -timeout 60m . >"$out/live.txt"
echo '```'
go tool benchstat "$out/live.txt"
echo '```'
echo
echo "## Loopback load test"
echo
if ! command -v wrk >/dev/null; then
	echo "bench: installing wrk (Debian package) for the load test" >&2
	if [[ $(id -u) -eq 0 ]]; then apt-get install -y -qq wrk >&2 || true; else sudo apt-get install -y -qq wrk >&2 || true; fi
fi
loadgen=()
if command -v wrk >/dev/null; then loadgen=(-wrk); fi
go run ./cmd/loadtest "${loadgen[@]}" -duration "$DURATION" -rounds "$ROUNDS" -clients 32
echo
echo "## Realistic mix: 10,000 live sessions, skewed access"
echo
go run ./cmd/loadtest -mix 10000 -duration "$DURATION" -rounds "$ROUNDS" -clients 32
echo
echo "## Login path"
echo
go run ./cmd/loadtest -login -duration 10s -clients 64
echo
echo "With a deadline shorter than the queue, waiting logins time out (503) instead of piling up:"
echo
go run ./cmd/loadtest -login -duration 10s -clients 64 -login-timeout 250ms
if [[ "$SOAK" == 1 ]]; then
	echo
	echo "## Soak (10 minutes)"
	echo
	go run ./cmd/loadtest -soak -duration 10m -rate 500 -users 200 -idle 1m
fi
if [[ -n "${BASELINE:-}" ]]; then
	echo
	baseline "$BASELINE"
fi
rm -rf "$out"
