#!/usr/bin/env bash
# The quick start: set everything up, bring up the local fleet and `pulumi up` the dev stack on it.
source "$(dirname "$0")/prepare.sh"
pulumi stack select dev 2>/dev/null || pulumi stack init dev
pulumi up --yes --stack dev
echo
echo "demo: the fleet is hardened. Try: source scripts/env.sh && pulumi preview --diff --stack dev"
