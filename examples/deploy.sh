#!/usr/bin/env bash
# The walkthrough with the `tessera` command only: sign in, register the iris model,
# deploy it as a web service with key authentication, call it with curl and the primary
# key, regenerate the key (the old one is refused, the new one accepted), clean up.
#
#   TESSERA_SERVER=http://127.0.0.1:5080 TESSERA_USER=admin TESSERA_PASSWORD=… bash examples/deploy.sh
#   … bash examples/deploy.sh examples/score.py     # the same model behind a Python entry script
#   … bash examples/deploy.sh examples/score.mjs    # … or a JavaScript one
#
# Without an entry script the ONNX model is served as it is. Optional settings:
# RESOURCE_GROUP (default tessera-examples; it must not exist yet, as it is deleted at the
# end), WORKSPACE (examples), SERVICE (iris-onnx, iris-py or iris-js). Needs `tessera`
# on the PATH (docs/installation.md), node, curl.
#
# Keys stay in shell variables and reach curl on its standard input, never on a command
# line (where `ps` shows them) and never on the screen.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { echo "deploy.sh: $*" >&2; exit 1; }
usage() { echo "deploy.sh: $*" >&2; exit 2; }

for name in TESSERA_SERVER TESSERA_USER TESSERA_PASSWORD; do
  [ -n "${!name:-}" ] || usage "set $name: TESSERA_SERVER is the server's URL (e.g. http://127.0.0.1:5080), TESSERA_USER and TESSERA_PASSWORD the account to sign in with"
done
command -v tessera >/dev/null || fail "the tessera command is not on the PATH: see docs/installation.md (npm install -g ./packages/cli)"
command -v curl >/dev/null || fail "curl is not installed"

script=${1:-}
case "$script" in
  '') runtime=onnx; default_service=iris-onnx ;;
  *.py) runtime=python; default_service=iris-py ;;
  *.mjs | *.js) runtime=javascript; default_service=iris-js ;;
  *) usage "the entry script must be a .py or .mjs file, not '$script'" ;;
esac
[ -z "$script" ] || [ -f "$script" ] || usage "no such entry script: $script"
group=${RESOURCE_GROUP:-tessera-examples}
workspace=${WORKSPACE:-examples}
service=${SERVICE:-$default_service}
ws=(-w "$workspace" -g "$group")

# The ONNX runtime takes the model's own input names; the entry scripts take {"data": rows}.
rows='[[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]]'
if [ "$runtime" = onnx ]; then body="{\"inputs\": {\"features\": $rows}}"; else body="{\"data\": $rows}"; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "1. sign in to $TESSERA_SERVER as $TESSERA_USER"
tessera login --server "$TESSERA_SERVER" -u "$TESSERA_USER" -p "$TESSERA_PASSWORD" -o none || fail "sign-in failed"

echo "2. a resource group and a workspace: $group/$workspace"
[ "$(tessera group exists -n "$group")" = false ] || fail "the resource group '$group' exists; set RESOURCE_GROUP to a new name (this script deletes it at the end)"
tessera group create -n "$group" -l local -o none
# However the script ends from here on, the resource group goes, and with it the
# workspace, the model and the service (`tessera ml service delete -n NAME` removes just one).
cleanup() {
  echo "7. clean up: delete the resource group $group, with everything in it"
  tessera group delete -n "$group" -o none
}
trap 'rc=$?; cleanup; rm -rf "$work"; exit $rc' EXIT
tessera ml workspace create "${ws[@]}" -o none

echo "3. make the model and register it"
node "$here/model/make-model.mjs" "$work/iris.onnx"
version=$(tessera ml model register -n iris -p "$work/iris.onnx" "${ws[@]}" --query version -o tsv)
echo "   iris version $version"

echo "4. deploy it as the web service '$service' ($runtime), with key authentication"
entry=()
[ -z "$script" ] || entry=(--entry-script "$script")
# It waits until the service is Healthy, then prints it: keep just its scoring URI.
uri=$(tessera ml service create -n "$service" -m "iris:$version" "${entry[@]}" --target cluster --auth-mode key "${ws[@]}" --query scoringUri -o tsv)
echo "   scoring URI: $uri"

# score KEY: POSTs the body with `Authorization: Bearer KEY` (the header read from stdin);
# prints the HTTP status, and leaves the answer in $work/answer.json.
score() {
  printf 'Authorization: Bearer %s\n' "$1" |
    curl -sS -H @- -H 'content-type: application/json' --data-binary "$body" -o "$work/answer.json" -w '%{http_code}' "$uri"
}

echo "5. call it with the primary key"
key=$(tessera ml service list-keys -n "$service" "${ws[@]}" --query primaryKey -o tsv)
status=$(score "$key")
[ "$status" = 200 ] || fail "scoring answered $status: $(cat "$work/answer.json")"
echo "   answer: $(cat "$work/answer.json")"

echo "6. regenerate the primary key"
old_key=$key
key=$(tessera ml service regen-key -n "$service" "${ws[@]}" --key-type Primary --query key -o tsv)
status=$(score "$old_key")
[ "$status" = 401 ] || fail "the old key should be refused, but scoring answered $status"
echo "   the old primary key is refused: $status"
status=$(score "$key")
[ "$status" = 200 ] || fail "the new key should be accepted, but scoring answered $status"
echo "   the new primary key is accepted: $status"
