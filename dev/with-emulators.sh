#!/usr/bin/env bash
# with-emulators.sh CMD...: start the Firestore and Firebase Auth emulators
# and fake-gcs-server (Cloud Storage), and the project's fake FCM
# (cmd/fakefcm) on free loopback ports, create the
# bucket, export their hosts, run CMD, then stop them all, also when CMD
# fails or the script is interrupted. Used by `make dev` and `make test`;
# nothing is left running afterwards.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="$(mktemp -d "${TMPDIR:-/tmp}/chatapp-emu.XXXXXX")"
pids=()

log() { printf 'with-emulators: %s\n' "$*" >&2; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pgid in "${pids[@]}"; do
    # Each emulator runs in its own session: signal the whole group so the
    # java child of gcloud and the node child of npm go too.
    kill -INT -- "-$pgid" 2>/dev/null || true
  done
  for pgid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
  done
  rm -rf "$state"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

command -v gcloud >/dev/null || { log "gcloud is missing: the Firestore emulator cannot start"; exit 1; }
command -v java >/dev/null || { log "java is missing: the Firestore emulator cannot start"; exit 1; }
"$here/install-node-tools.sh"
gobin="$("$here/install-go-tools.sh")"

project="${GOOGLE_CLOUD_PROJECT:-demo-chatapp}"
fs_port="${FIRESTORE_PORT:-$(free_port)}"
auth_port="${AUTH_PORT:-$(free_port)}"
hub_port="$(free_port)"; logging_port="$(free_port)"
gcs_port="${STORAGE_PORT:-$(free_port)}"
fcm_port="${FCM_PORT:-$(free_port)}"
bucket="${STORAGE_BUCKET:-chatapp-dev}"

# FCM has no emulator: the project's own fake (cmd/fakefcm) records pushes.
go build -o "$state/fakefcm" "$here/../cmd/fakefcm"
setsid "$state/fakefcm" -port "$fcm_port" >"$state/fcm.log" 2>&1 < /dev/null &
pids+=("$!")

setsid "$gobin/fake-gcs-server" -scheme http -host 127.0.0.1 -port "$gcs_port" -backend memory \
  -public-host "127.0.0.1:$gcs_port" -log-level warn >"$state/gcs.log" 2>&1 < /dev/null &
pids+=("$!")

setsid gcloud emulators firestore start --host-port="127.0.0.1:$fs_port" --quiet \
  >"$state/firestore.log" 2>&1 < /dev/null &
pids+=("$!")

cat >"$state/firebase.json" <<JSON
{"emulators":{"auth":{"host":"127.0.0.1","port":$auth_port},"hub":{"host":"127.0.0.1","port":$hub_port},
"logging":{"host":"127.0.0.1","port":$logging_port},"ui":{"enabled":false},"singleProjectMode":true}}
JSON
setsid bash -c 'cd "$1" && exec "$2/node_modules/.bin/firebase" emulators:start --only auth \
  --project "$3" --config "$1/firebase.json"' _ "$state" "$here" "$project" >"$state/auth.log" 2>&1 < /dev/null &
pids+=("$!")

wait_for() { # name url log
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "$2" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "$1 emulator did not become ready; its log follows"; cat "$3" >&2; exit 1
}
wait_for firestore "http://127.0.0.1:$fs_port/" "$state/firestore.log"
wait_for auth "http://127.0.0.1:$auth_port/" "$state/auth.log"
wait_for storage "http://127.0.0.1:$gcs_port/storage/v1/b" "$state/gcs.log"
wait_for fcm "http://127.0.0.1:$fcm_port/messages" "$state/fcm.log"
curl -fsS -o /dev/null -X POST -H 'content-type: application/json' -d "{\"name\":\"$bucket\"}" \
  "http://127.0.0.1:$gcs_port/storage/v1/b?project=$project" || { log "could not create bucket $bucket"; exit 1; }

export GOOGLE_CLOUD_PROJECT="$project"
export FIRESTORE_EMULATOR_HOST="127.0.0.1:$fs_port"
export FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:$auth_port"
export STORAGE_EMULATOR_HOST="127.0.0.1:$gcs_port"
export STORAGE_BUCKET="$bucket"
export FCM_ENDPOINT="http://127.0.0.1:$fcm_port"
log "firestore emulator at $FIRESTORE_EMULATOR_HOST, auth emulator at $FIREBASE_AUTH_EMULATOR_HOST, storage emulator at $STORAGE_EMULATOR_HOST (bucket $bucket), fake FCM at $FCM_ENDPOINT, project $project"
"$@" &
child=$!
# Background jobs of a script ignore SIGINT: pass Ctrl-C on as SIGTERM,
# which the server (and go test) handle.
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 130' INT
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 143' TERM
wait $child
