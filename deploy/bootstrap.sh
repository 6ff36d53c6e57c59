#!/usr/bin/env bash
# bootstrap.sh PROJECT_ID [REGION]: one-time set-up of a Google Cloud
# project for `gcloud builds submit`. Idempotent: re-running changes nothing
# that is already in place. Needs Owner (or equivalent) on the project.
set -euo pipefail
project="${1:?usage: deploy/bootstrap.sh PROJECT_ID [REGION]}"
region="${2:-europe-west1}"
repo=chatapp
bucket="${project}-chatapp-files"
run_sa="chatapp-run@${project}.iam.gserviceaccount.com"
number="$(gcloud projects describe "$project" --format='value(projectNumber)')"
build_sa="${number}-compute@developer.gserviceaccount.com" # Cloud Build's default

gcloud services enable --project "$project" \
  run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com \
  firestore.googleapis.com firebaserules.googleapis.com storage.googleapis.com \
  identitytoolkit.googleapis.com iam.googleapis.com fcm.googleapis.com

# Firestore in Native mode (skip if the project has a database already).
gcloud firestore databases describe --project "$project" >/dev/null 2>&1 ||
  gcloud firestore databases create --project "$project" --location "$region"

gcloud artifacts repositories describe "$repo" --project "$project" --location "$region" >/dev/null 2>&1 ||
  gcloud artifacts repositories create "$repo" --project "$project" --location "$region" --repository-format docker

gcloud storage buckets describe "gs://$bucket" >/dev/null 2>&1 ||
  gcloud storage buckets create "gs://$bucket" --project "$project" --location "$region" \
    --uniform-bucket-level-access --public-access-prevention

# The service's own identity, with only what it uses.
gcloud iam service-accounts describe "$run_sa" --project "$project" >/dev/null 2>&1 ||
  gcloud iam service-accounts create chatapp-run --project "$project" --display-name "ChatApp Cloud Run service"
# Firestore reads and writes.
gcloud projects add-iam-policy-binding "$project" --member "serviceAccount:$run_sa" --role roles/datastore.user --condition=None >/dev/null
# Revocation checks read the user's account, and DELETE /api/me deletes it
# (firebaseauth.users.delete): Firebase Authentication Admin is the narrowest
# predefined role with both. It replaces the viewer role earlier versions of
# this script granted.
gcloud projects add-iam-policy-binding "$project" --member "serviceAccount:$run_sa" --role roles/firebaseauth.admin --condition=None >/dev/null
gcloud projects remove-iam-policy-binding "$project" --member "serviceAccount:$run_sa" --role roles/firebaseauth.viewer --condition=None >/dev/null 2>&1 || true
# Push notifications: sending through FCM's HTTP v1 API needs
# cloudmessaging.messages.create, and the narrowest predefined role holding
# it is Firebase Cloud Messaging API Admin.
gcloud projects add-iam-policy-binding "$project" --member "serviceAccount:$run_sa" --role roles/firebasecloudmessaging.admin --condition=None >/dev/null
# Attachments: objects in this one bucket only.
gcloud storage buckets add-iam-policy-binding "gs://$bucket" --member "serviceAccount:$run_sa" --role roles/storage.objectUser >/dev/null

# What Cloud Build's steps do: push images, deploy the service as the run
# service account, deploy Firestore indexes and rules.
for role in roles/run.admin roles/artifactregistry.writer roles/datastore.indexAdmin \
            roles/firebaserules.admin roles/logging.logWriter; do
  gcloud projects add-iam-policy-binding "$project" --member "serviceAccount:$build_sa" --role "$role" --condition=None >/dev/null
done
gcloud iam service-accounts add-iam-policy-binding "$run_sa" --project "$project" \
  --member "serviceAccount:$build_sa" --role roles/iam.serviceAccountUser >/dev/null

echo "ready: gcloud builds submit --project $project --config cloudbuild.yaml --substitutions _REGION=$region,_CORS_ORIGINS=https://your.app,_WEB_APP_URL=https://your.app"
