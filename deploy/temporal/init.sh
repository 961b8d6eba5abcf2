#!/bin/sh
# One-shot setup of a running Temporal server, with the temporal CLI of the
# admin-tools image: the namespace, then the order workflow's custom search
# attributes (SEARCH_ATTRIBUTES: "Name=Type ..."). Creates only what is
# missing, so it is safe on every `docker compose up`.
set -eu

: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"
RETENTION="${NAMESPACE_RETENTION:-72h}"

tries=0
until temporal operator cluster health >/dev/null 2>&1; do
	tries=$((tries + 1))
	if [ "$tries" -ge 60 ]; then
		echo "Temporal at $TEMPORAL_ADDRESS is not healthy after 60 tries" >&2
		exit 1
	fi
	sleep 2
done

if ! temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
	echo "creating namespace $TEMPORAL_NAMESPACE (retention $RETENTION)"
	temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$RETENTION"
fi

# A namespace just created takes a few seconds to be seen by every service.
tries=0
until existing=$(temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" 2>&1); do
	tries=$((tries + 1))
	if [ "$tries" -ge 30 ]; then
		echo "$existing" >&2
		exit 1
	fi
	sleep 1
done
for pair in $SEARCH_ATTRIBUTES; do
	name=${pair%%=*}
	type=${pair#*=}
	if printf '%s\n' "$existing" | grep -qw "$name"; then
		echo "search attribute $name exists"
		continue
	fi
	echo "registering search attribute $name ($type)"
	temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type"
done
echo "Temporal namespace $TEMPORAL_NAMESPACE is ready"
