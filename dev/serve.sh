#!/usr/bin/env bash
# serve.sh: run the server against the emulators that with-emulators.sh
# started, and say how to reach it.
set -euo pipefail
cat >&2 <<MSG

  ChatApp backend on http://localhost:${PORT}  (REST /api/*, Socket.IO /socket.io/)
  Firestore emulator  ${FIRESTORE_EMULATOR_HOST}
  Auth emulator       ${FIREBASE_AUTH_EMULATOR_HOST}  (project ${GOOGLE_CLOUD_PROJECT})
  Storage emulator    ${STORAGE_EMULATOR_HOST}  (bucket ${STORAGE_BUCKET})
  A token:  curl -s -X POST "http://${FIREBASE_AUTH_EMULATOR_HOST}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake" \\
              -H 'content-type: application/json' -d '{"email":"ana@example.com","password":"secret1","returnSecureToken":true}'
  Ctrl-C stops the server and the emulators.

MSG
go build -o bin/server ./cmd/server
exec bin/server
