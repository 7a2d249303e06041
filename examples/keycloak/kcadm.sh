#!/usr/bin/env bash
# Creates with Keycloak's admin CLI (kcadm.sh) what realm-services.json
# imports: realm "services", client scope "country.read" whose Audience
# mapper puts "country-api" in access tokens' aud, the confidential client
# "country-client" (client-credentials grant only) with that scope as a
# default scope, and the client "country-api" that stands for the API.
#
# Keycloak 17 or later (no /auth in URLs). Run it once, against a Keycloak
# where realm "services" does not exist yet:
#
#   KEYCLOAK_URL=http://localhost:8080 KC_ADMIN=admin KC_ADMIN_PASSWORD=... ./kcadm.sh
#
# REALM names the realm to create (default services; bouncer's tests run
# the script for a realm of their own beside the imported one). KCADM names
# Keycloak's kcadm.sh (default /opt/keycloak/bin/kcadm.sh, its
# place in the container image). Inside a container started from the
# official image:
#
#   docker exec -e KC_ADMIN_PASSWORD=... -i <container> bash < examples/keycloak/kcadm.sh
#
# Unlike the realm import, a realm created this way gets Keycloak's built-in
# client scopes (basic, roles, profile, ...), and new clients get the
# realm's default ones.
set -euo pipefail

KCADM=${KCADM:-/opt/keycloak/bin/kcadm.sh}
KEYCLOAK_URL=${KEYCLOAK_URL:-http://localhost:8080}
KC_ADMIN=${KC_ADMIN:-admin}
REALM=${REALM:-services}

# 1. Log in to the master realm as an administrator. The session is kept in
#    ~/.keycloak/kcadm.config for the commands below. Without --password,
#    kcadm.sh asks for it.
if [ -n "${KC_ADMIN_PASSWORD:-}" ]; then
  "$KCADM" config credentials --server "$KEYCLOAK_URL" --realm master \
    --user "$KC_ADMIN" --password "$KC_ADMIN_PASSWORD"
else
  "$KCADM" config credentials --server "$KEYCLOAK_URL" --realm master --user "$KC_ADMIN"
fi

# 2. The realm. Its issuer is <Keycloak's URL>/realms/services.
"$KCADM" create realms -s realm="$REALM" -s enabled=true

# 3. The client scope country.read. include.in.token.scope puts its name in
#    the token's scope claim. -i prints only the new object's id.
SCOPE_ID=$("$KCADM" create client-scopes -r "$REALM" -i \
  -s name=country.read \
  -s protocol=openid-connect \
  -s 'attributes."include.in.token.scope"=true' \
  -s 'attributes."display.on.consent.screen"=false')

# 4. The Audience mapper on that scope: "Included Custom Audience"
#    country-api, added to access tokens (and introspection), not to ID
#    tokens. Without it aud is "account" or missing, and bouncer answers 401
#    "the token is not meant for this API".
"$KCADM" create "client-scopes/$SCOPE_ID/protocol-mappers/models" -r "$REALM" \
  -s name=country-api-audience \
  -s protocol=openid-connect \
  -s protocolMapper=oidc-audience-mapper \
  -s 'config."included.custom.audience"=country-api' \
  -s 'config."access.token.claim"=true' \
  -s 'config."id.token.claim"=false' \
  -s 'config."introspection.token.claim"=true'

# 5. The calling service: confidential (client authenticator client-secret,
#    Keycloak generates the secret), service accounts on, every other flow
#    off, so client credentials is its only grant.
CLIENT_UUID=$("$KCADM" create clients -r "$REALM" -i \
  -s clientId=country-client \
  -s enabled=true \
  -s protocol=openid-connect \
  -s publicClient=false \
  -s clientAuthenticatorType=client-secret \
  -s serviceAccountsEnabled=true \
  -s standardFlowEnabled=false \
  -s implicitFlowEnabled=false \
  -s directAccessGrantsEnabled=false)

# 6. country.read as a default client scope of country-client: every token of
#    the client carries it. Use optional-client-scopes instead to hand it out
#    only when the token request says scope=country.read.
"$KCADM" update "clients/$CLIENT_UUID/default-client-scopes/$SCOPE_ID" -r "$REALM"

# 7. The API as a client with no flow at all: it never obtains tokens. It is
#    not needed for the audience (the mapper names a custom audience), but
#    it shows the API in the admin console and can own client roles
#    (resource_access.country-api.roles).
"$KCADM" create clients -r "$REALM" \
  -s clientId=country-api \
  -s enabled=true \
  -s protocol=openid-connect \
  -s publicClient=false \
  -s serviceAccountsEnabled=false \
  -s standardFlowEnabled=false \
  -s implicitFlowEnabled=false \
  -s directAccessGrantsEnabled=false

# 8. The generated secret of country-client. To replace it later:
#      "$KCADM" create "clients/$CLIENT_UUID/client-secret" -r services
SECRET=$("$KCADM" get "clients/$CLIENT_UUID/client-secret" -r "$REALM" \
  --fields value --format csv --noquotes)

cat <<EOF
Realm $REALM is ready. The secret of country-client (keep it out of logs):

  $SECRET

Run the API and call it:

  ISSUER_URL=$KEYCLOAK_URL/realms/$REALM AUDIENCE=country-api go run ./examples/nethttp
  TOKEN=\$(curl -s -d grant_type=client_credentials -d client_id=country-client \\
    --data-urlencode client_secret='$SECRET' -d scope=country.read \\
    $KEYCLOAK_URL/realms/$REALM/protocol/openid-connect/token \\
    | sed -E 's/.*"access_token":"([^"]*)".*/\1/')
  curl -i -H "Authorization: Bearer \$TOKEN" http://localhost:8091/country/code/AUS
EOF
