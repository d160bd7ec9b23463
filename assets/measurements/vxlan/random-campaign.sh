#!/bin/bash
# Randomized verify campaign over the tunnel settings of the vxlan labs (issue #16); run as root
# after `swift build`. Prints the seed, each run's --set line and result, and the totals.
#   random-campaign.sh [--seed N] [--runs N] [--minutes M] [--lab topologies/FILE.yaml ...]
# The draws are made by random_campaign.py (same directory); see its header for what is varied.
exec python3 "$(dirname "$0")/random_campaign.py" "$@"
