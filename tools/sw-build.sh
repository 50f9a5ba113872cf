#!/bin/sh
# Trunk post_build hook: writes sw.js into the build with the list of files to precache and a
# build id taken from their contents (trunk's own hash covers only cargo's output).
#
# The same sources must give the same build id, or every restart offers every device an
# update: trunk writes the modulepreload links of wasm-bindgen's snippets in no fixed order,
# so they are sorted first (their order does not matter to the browser), and every listing
# is sorted byte-wise whatever the machine's locale.
set -eu
export LC_ALL=C
staging="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
source_dir="${TRUNK_SOURCE_DIR:-.}"
cd "$staging"
rm -f sw.js
perl -0pi -e 's{((?:<link rel="modulepreload"[^>]*>)+)}{join("", sort($1 =~ /(<link rel="modulepreload"[^>]*>)/g))}ge' index.html
build=$(find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
list=$(find . -type f | sed 's|^\./|/|' | sort | sed 's/.*/"&"/' | paste -sd, -)
sed -e "s|__BUILD_ID__|$build|" -e "s|__PRECACHE__|[$list]|" "$source_dir/public/sw.js" > sw.js
echo "sw.js: build $build, $(find . -type f ! -name sw.js | wc -l) files precached"
