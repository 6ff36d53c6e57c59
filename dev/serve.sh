#!/usr/bin/env bash
# serve.sh: run the server and the web client (Vite, live reload) against
# the emulators that with-emulators.sh started, and say where to go.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/install-web.sh"
go build -o bin/server ./cmd/server
WEB_PORT="${WEB_PORT:-5173}"
bin/server &
server=$!
(cd "$here/../web" && CHATAPP_API_URL="http://127.0.0.1:${PORT}" WEB_PORT="$WEB_PORT" \
  exec node node_modules/vite/bin/vite.js --logLevel warn --clearScreen false) &
web=$!
trap 'kill -TERM $server $web 2>/dev/null; wait' EXIT INT TERM
for _ in $(seq 1 300); do curl -fsS -o /dev/null "http://127.0.0.1:${PORT}/readyz" 2>/dev/null && break; sleep 0.2; done
cat >&2 <<MSG

  Open http://127.0.0.1:${WEB_PORT}  — sign up in two browser windows (one private) and chat.

  Backend             http://127.0.0.1:${PORT}  (REST /api/*, Socket.IO /socket.io/)
  Firestore emulator  ${FIRESTORE_EMULATOR_HOST}
  Auth emulator       ${FIREBASE_AUTH_EMULATOR_HOST}  (project ${GOOGLE_CLOUD_PROJECT})
  Storage emulator    ${STORAGE_EMULATOR_HOST}  (bucket ${STORAGE_BUCKET})
  Fake FCM            ${FCM_ENDPOINT}  (GET /messages: the pushes the server sent)
  Ctrl-C stops the web client, the server and the emulators.

MSG
wait -n $server $web
