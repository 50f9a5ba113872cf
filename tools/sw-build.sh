#!/bin/sh
# Trunk post_build hook: writes sw.js into the build with the list of files to precache and a
# build id taken from their contents (trunk's own hash covers only cargo's output).
set -eu
staging="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
source_dir="${TRUNK_SOURCE_DIR:-.}"
cd "$staging"
rm -f sw.js
build=$(find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
list=$(find . -type f | sed 's|^\./|/|' | sort | sed 's/.*/"&"/' | paste -sd, -)
sed -e "s|__BUILD_ID__|$build|" -e "s|__PRECACHE__|[$list]|" "$source_dir/public/sw.js" > sw.js
echo "sw.js: build $build, $(find . -type f ! -name sw.js | wc -l) files precached"
