#!/usr/bin/env bash
# Registers the country API and a daemon that calls it in Microsoft Entra ID,
# with the Azure CLI (2.37 or later: the Microsoft Graph based "az ad").
#
#   az login --tenant <tenant-id>   # as a Cloud Application Administrator or similar
#   ./examples/entra/setup.sh
#
# What it creates:
#   - app "country-api": App ID URI api://<its appId>, app role
#     Country.Read.All for applications (from manifest-fragment.json), and
#     v2 access tokens (api.requestedAccessTokenVersion = 2);
#   - app "country-client": the daemon, with a client secret;
#   - a service principal for each, and the app role granted to the daemon
#     (an app role assignment is what "admin consent" to an application
#     permission records).
#
# Client-credentials tokens carry app roles in "roles", never in "scp".
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TENANT_ID=$(az account show --query tenantId -o tsv)

# 1. The API. --app-roles takes the appRoles of a manifest (or a bare array).
API_APP_ID=$(az ad app create \
  --display-name country-api \
  --sign-in-audience AzureADMyOrg \
  --app-roles "@$HERE/manifest-fragment.json" \
  --query appId -o tsv)

# 2. Its App ID URI, and v2 access tokens. api://<appId> is accepted in every
#    tenant; api://country-api is refused where the tenant's app management
#    policy requires a tenant-unique identifier. requestedAccessTokenVersion
#    is the Graph manifest's name for the classic accessTokenAcceptedVersion;
#    left null (or 1) Entra issues v1 tokens, with issuer
#    https://sts.windows.net/<tenant-id>/ and aud api://<appId>.
az ad app update --id "$API_APP_ID" \
  --identifier-uris "api://$API_APP_ID" \
  --set api.requestedAccessTokenVersion=2
# The same through Microsoft Graph:
#   API_OBJECT_ID=$(az ad app show --id "$API_APP_ID" --query id -o tsv)
#   az rest --method PATCH \
#     --uri "https://graph.microsoft.com/v1.0/applications/$API_OBJECT_ID" \
#     --headers Content-Type=application/json \
#     --body '{"api":{"requestedAccessTokenVersion":2}}'

# 3. The API's service principal: the object app roles are granted on.
API_SP_ID=$(az ad sp create --id "$API_APP_ID" --query id -o tsv)

# 4. The daemon and its service principal.
CLIENT_APP_ID=$(az ad app create \
  --display-name country-client \
  --sign-in-audience AzureADMyOrg \
  --query appId -o tsv)
CLIENT_SP_ID=$(az ad sp create --id "$CLIENT_APP_ID" --query id -o tsv)

# 5. A client secret for the daemon. "credential reset" replaces the app's
#    passwords (add --append to keep them); the secret is shown only now.
CLIENT_SECRET=$(az ad app credential reset \
  --id "$CLIENT_APP_ID" \
  --display-name country-client-demo \
  --years 1 \
  --query password -o tsv)

# 6. Grant Country.Read.All to the daemon: POST an appRoleAssignment to the
#    API's service principal. New service principals take a moment to
#    replicate, hence the retries.
ROLE_ID=$(az ad app show --id "$API_APP_ID" \
  --query "appRoles[?value=='Country.Read.All'].id | [0]" -o tsv)
for attempt in 1 2 3 4 5 6; do
  if az rest --method POST \
    --uri "https://graph.microsoft.com/v1.0/servicePrincipals/$API_SP_ID/appRoleAssignedTo" \
    --headers Content-Type=application/json \
    --body "{\"principalId\":\"$CLIENT_SP_ID\",\"resourceId\":\"$API_SP_ID\",\"appRoleId\":\"$ROLE_ID\"}" \
    -o none; then
    break
  fi
  if [ "$attempt" = 6 ]; then
    echo "setup.sh: the app role assignment failed; rerun step 6 later" >&2
    exit 1
  fi
  sleep 10
done

cat <<EOF
Tenant $TENANT_ID
  country-api    appId $API_APP_ID (App ID URI api://$API_APP_ID)
  country-client appId $CLIENT_APP_ID

The daemon's secret (shown once; keep it out of logs):

  $CLIENT_SECRET

Run the API (v2 tokens: issuer .../v2.0, aud = the API's appId):

  ISSUER_URL=https://login.microsoftonline.com/$TENANT_ID/v2.0 AUDIENCE=$API_APP_ID go run ./examples/nethttp

Get an app-only token and call the API:

  TOKEN=\$(curl -s -d grant_type=client_credentials -d client_id=$CLIENT_APP_ID \\
    --data-urlencode client_secret='$CLIENT_SECRET' \\
    --data-urlencode scope=api://$API_APP_ID/.default \\
    https://login.microsoftonline.com/$TENANT_ID/oauth2/v2.0/token \\
    | sed -E 's/.*"access_token":"([^"]*)".*/\1/')
  curl -i -H "Authorization: Bearer \$TOKEN" http://localhost:8091/api/data

GET /country/code/AUS answers 403 until its route accepts the app role
(see examples/README.md, "Microsoft Entra ID").
EOF
