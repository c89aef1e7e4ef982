#!/usr/bin/env bash
# Installs a released sloguard binary on a GitHub Actions runner: the step
# "install" of action.yml runs it on Linux, macOS and Windows (Git Bash).
#
# It picks the archive for the runner (RUNNER_OS, RUNNER_ARCH), downloads it
# and the release's checksums file, verifies the archive's SHA-256 before it
# unpacks anything, and keeps the binary in the runner's tool cache
# ($RUNNER_TOOL_CACHE/sloguard/<version>/<arch>, the layout of
# @actions/tool-cache), so that a second step or job on the same runner
# downloads nothing.
#
# Environment (action.yml maps the inputs with env:, never into this text):
#   SLOGUARD_VERSION            v1.2.3, 1.2.3 or latest; blank: the action's own ref
#   SLOGUARD_ACTION_REF         github.action_ref (v1, v1.2.3, a branch or a commit)
#   SLOGUARD_ACTION_REPOSITORY  github.action_repository (owner/name)
#   SLOGUARD_RELEASES_URL       where the releases are (default
#                               https://github.com/<repository>/releases): archives
#                               at <url>/download/<tag>/<asset>, the git
#                               repository at <url> without /releases
# Outputs ($GITHUB_OUTPUT): path (the binary), version (the tag), dir,
# cache-hit (true or false). The binary's directory is added to $GITHUB_PATH.
set -euo pipefail

fail() {
  # %, CR and LF escaped as workflow commands want them.
  local msg=${1//'%'/'%25'}
  msg=${msg//$'\r'/'%0D'}
  msg=${msg//$'\n'/'%0A'}
  echo "::error title=sloguard install::${msg}"
  exit 1
}

output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

# The archive for this runner, named as .goreleaser.yaml names it.
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) goos=linux goarch=amd64 arch=x64 ext=tar.gz ;;
  Linux/ARM64) goos=linux goarch=arm64 arch=arm64 ext=tar.gz ;;
  macOS/X64) goos=darwin goarch=amd64 arch=x64 ext=tar.gz ;;
  macOS/ARM64) goos=darwin goarch=arm64 arch=arm64 ext=tar.gz ;;
  Windows/X64) goos=windows goarch=amd64 arch=x64 ext=zip ;;
  *)
    fail "sloguard has no release for a ${RUNNER_OS:-unknown OS} ${RUNNER_ARCH:-unknown architecture} runner: releases exist for Linux X64 and ARM64, macOS X64 and ARM64, Windows X64. Run on one of those, or use the container image (uses: docker://...) or build from source (go install github.com/sloguard/sloguard/cmd/sloguard@VERSION)."
    ;;
esac
exe=sloguard
if [ "$goos" = windows ]; then exe=sloguard.exe; fi

repository=${SLOGUARD_ACTION_REPOSITORY:-}
ref=${SLOGUARD_ACTION_REF:-}
# github.action_ref and github.action_repository may be empty in composite
# actions (actions/runner#2473): the action's path,
# .../_actions/<owner>/<name>/<ref>, says the same.
if [ -z "$ref" ] || [ -z "$repository" ]; then
  action_path=${GITHUB_ACTION_PATH:-}
  action_path=${action_path//\\//}
  case "$action_path" in
    */_actions/*/*/*)
      rest=${action_path#*/_actions/}
      IFS=/ read -r p_owner p_name p_ref _ <<<"$rest"
      repository=${repository:-$p_owner/$p_name}
      ref=${ref:-$p_ref}
      ;;
  esac
fi
repository=${repository:-sloguard/sloguard}
releases=${SLOGUARD_RELEASES_URL:-https://github.com/$repository/releases}
releases=${releases%/}
git_url=${releases%/releases}

# resolve sets tag to the release for a ref that is no version number: the
# newest vX.Y.Z tag on the commit the ref points at (a major tag such as v1,
# a branch, or a commit SHA), or the newest release for "latest".
resolve() {
  local want=$1 refs commit="" tags found
  command -v git >/dev/null || fail "cannot tell which release \"$want\" is: git is not installed on this runner. Set the input version to a release, e.g. version: v1.2.3."
  if ! refs=$(git ls-remote --tags --heads "$git_url" 2>&1); then
    fail "cannot list the tags of $git_url to find the release of \"$want\": $refs. Set the input version to a release, e.g. version: v1.2.3."
  fi
  # "<sha> refs/tags/v1.2.3^{}" is the commit an annotated tag points at.
  tags=$(printf '%s\n' "$refs" | awk '{ r = $2; sub(/\^\{\}$/, "", r); print $1, r }')
  if [ "$want" != latest ]; then
    if printf '%s\n' "$want" | grep -Eq '^[0-9a-f]{40}$'; then
      commit=$want
    else
      # the peeled line comes after the tag's own: the last one wins
      commit=$(printf '%s\n' "$tags" | awk -v t="refs/tags/$want" -v h="refs/heads/$want" '$2 == t || $2 == h { c = $1 } END { print c }')
    fi
    if [ -z "$commit" ]; then
      fail "the action's ref \"$want\" is neither a release, a tag nor a branch of $git_url. Set the input version to a release, e.g. version: v1.2.3, or version: latest."
    fi
  fi
  found=$(printf '%s\n' "$tags" |
    awk -v c="$commit" '$2 ~ /^refs\/tags\/v[0-9]+\.[0-9]+\.[0-9]+$/ && (c == "" || $1 == c) { sub(/^refs\/tags\/v/, "", $2); print $2 }' |
    sort -u -t. -k1,1n -k2,2n -k3,3n | tail -n 1) || true
  if [ -z "$found" ]; then
    if [ "$want" = latest ]; then
      fail "$git_url has no release tag (vX.Y.Z): set the input version to a release."
    fi
    fail "the action's ref \"$want\" (commit ${commit:0:12}) is not a release: no vX.Y.Z tag points at it. Use the action at a release (uses: $repository@v1), or set the input version, e.g. version: v1.2.3, or version: latest."
  fi
  tag=v$found
}

want=${SLOGUARD_VERSION:-$ref}
want=${want#refs/tags/}
if [ -z "$want" ]; then
  fail "which sloguard release to install is unknown: the action runs from a local path (uses: ./). Set the input version, e.g. version: v1.2.3, or version: latest."
fi
if printf '%s\n' "$want" | grep -Eq '^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'; then
  tag=v${want#v}
else
  resolve "$want"
fi
version=${tag#v}

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | awk '{ print $1 }'
  elif command -v shasum >/dev/null; then
    shasum -a 256 "$1" | awk '{ print $1 }'
  else
    openssl dgst -sha256 -r "$1" | awk '{ print $1 }'
  fi
}

cache=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/toolcache}
dir=$cache/sloguard/$version/$arch
bin=$dir/$exe

publish() {
  output path "$bin"
  output version "$tag"
  output dir "$dir"
  output cache-hit "$1"
  if [ -n "${GITHUB_PATH:-}" ]; then
    local p=$dir
    if command -v cygpath >/dev/null; then p=$(cygpath -w "$dir"); fi
    printf '%s\n' "$p" >>"$GITHUB_PATH"
  fi
}

# A cached binary is used only when its install completed and the binary
# is the one that was verified then (a tool cache on a self-hosted runner
# outlives the job).
if [ -f "$dir.complete" ] && [ -f "$bin" ] && [ -f "$dir/.sha256" ] && [ "$(sha256 "$bin")" = "$(cat "$dir/.sha256")" ]; then
  echo "sloguard $tag for $goos/$goarch: from the tool cache ($dir)"
  publish true
  exit 0
fi

asset=sloguard_${version}_${goos}_${goarch}.${ext}
sums=sloguard_${version}_checksums.txt
work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/sloguard-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

download() {
  local url=$releases/download/$tag/$1 code
  code=$(curl -sSL --retry 3 --retry-delay 2 --connect-timeout 20 --max-time 300 -o "$work/$1" -w '%{http_code}' "$url" 2>"$work/curl.err") || true
  case "$code" in
    200) ;;
    404) fail "release $tag has no $1 ($url: HTTP 404): is $tag released, and for $goos/$goarch? Releases: $releases" ;;
    000) fail "cannot download $url: $(tr '\n' ' ' <"$work/curl.err")" ;;
    *) fail "cannot download $url: HTTP $code" ;;
  esac
}

echo "sloguard $tag for $goos/$goarch: downloading $asset from $releases"
download "$sums"
download "$asset"
expected=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print tolower($1) }' "$work/$sums" | head -n 1)
if [ -z "$expected" ]; then
  fail "$sums of release $tag lists no $asset: nothing was installed."
fi
actual=$(sha256 "$work/$asset")
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $asset of release $tag: $sums says sha256 $expected, the download has $actual. The file was altered or damaged in transit; nothing was unpacked or run."
fi
echo "sha256 $actual: matches $sums"

stage=$work/unpacked
mkdir -p "$stage"
if [ "$ext" = zip ]; then
  if command -v unzip >/dev/null; then
    unzip -q "$work/$asset" -d "$stage"
  else
    pwsh -NoProfile -Command "Expand-Archive -LiteralPath '$work/$asset' -DestinationPath '$stage'"
  fi
else
  tar -xzf "$work/$asset" -C "$stage"
fi
if [ ! -f "$stage/$exe" ]; then
  fail "$asset of release $tag holds no $exe at its top level: nothing was installed."
fi
chmod +x "$stage/$exe"

rm -rf "$dir" "$dir.complete"
mkdir -p "$(dirname "$dir")"
mv "$stage" "$dir"
sha256 "$bin" >"$dir/.sha256"
touch "$dir.complete"
echo "sloguard $tag installed in $dir"
publish false
