# Shared by bin/smartvm and bin/test: find a JDK >= 21, install missing host packages,
# build the CLI when its sources changed. Sourced, not run.

SMARTVM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLI_JAR="$SMARTVM_ROOT/smartvm-cli/target/smartvm-cli.jar"

say() { printf 'smartvm: %s\n' "$*" >&2; }
die() { printf 'error[HOST_DEPENDENCY_MISSING]: %s\n' "$*" >&2; exit 125; }

java_feature() { # prints the feature version of the JDK in $1, or nothing
  local v=""
  if [ -f "$1/release" ]; then # no JVM start needed: JAVA_VERSION="25.0.3"
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
  fi
  [ -n "$v" ] || v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}')
  echo "${v#1.}"
}

# Prints a JAVA_HOME with Java >= 21: $JAVA_HOME first, then /usr/lib/jvm/*, newest first.
find_jdk() {
  local candidates=() c v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  while IFS= read -r c; do candidates+=("$c"); done < <(ls -d /usr/lib/jvm/*/ 2>/dev/null | sed 's:/$::' | sort -rV)
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(java_feature "$c")
    if [ -n "$v" ] && [ "${v%%.*}" -ge 21 ] 2>/dev/null; then echo "$c"; return 0; fi
  done
  return 1
}

apt_install() {
  say "installing $* (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
}

# Installs what is missing (as root), or prints the exact command to run (otherwise). With
# "soft" (for doctor and help) a non-root user gets a warning and the command goes on.
ensure_host_packages() {
  local soft=${1:-}
  local need=()
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
  command -v qemu-img >/dev/null || need+=(qemu-utils) # a VM's writable disk is a qcow2 overlay
  command -v gcc >/dev/null || need+=(gcc)
  command -v make >/dev/null || need+=(make)
  [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
  command -v mvn >/dev/null || need+=(maven)
  command -v mkfs.ext4 >/dev/null || [ -x /usr/sbin/mkfs.ext4 ] || need+=(e2fsprogs)
  if [ "$(id -u)" -eq 0 ]; then # bridged networking (--net) is root's: its TAP, bridge and rules
    [ -x /usr/sbin/ip ] || need+=(iproute2)
    [ -x /usr/sbin/nft ] || need+=(nftables)
  fi
  local lists_ok=0 # the default image is built from Debian packages: apt needs its lists
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null && lists_ok=1
  if [ ${#need[@]} -eq 0 ] && [ $lists_ok -eq 1 ]; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    local cmd="sudo apt-get update && sudo apt-get install -y ${need[*]}"
    [ ${#need[@]} -eq 0 ] && cmd="sudo apt-get update"
    [ -n "$soft" ] && { say "warning: missing host packages${need:+: ${need[*]}}; run: $cmd"; return 0; }
    die "missing host packages${need:+: ${need[*]}}; run: $cmd"
  fi
  say "updating apt package lists"
  apt-get update -qq >&2 || die "apt-get update failed"
  [ ${#need[@]} -gt 0 ] && apt_install "${need[@]}"
  return 0
}

# What only the tests need: a container registry to pull OCI images from (on loopback),
# squashfs-tools to make the squashfs images the Firecracker CI tests serve, mmdebstrap for
# the Debian image test, nftables and python3 for the egress tests (python3 serves in namespaces). As root they are
# installed without starting Debian's registry service (the tests start their own); otherwise
# the tests that need them skip, saying so.
ensure_test_packages() {
  local need=()
  command -v docker-registry >/dev/null || need+=(docker-registry)
  command -v mksquashfs >/dev/null || [ -x /usr/bin/mksquashfs ] || need+=(squashfs-tools)
  command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
  [ -x /usr/sbin/nft ] || need+=(nftables)
  command -v python3 >/dev/null || need+=(python3)
  command -v clang >/dev/null || need+=(clang) # the agent's fuzz target (libFuzzer)
  command -v tmux >/dev/null || need+=(tmux) # the terminal test drives the CLI in tmux
  if [ ${#need[@]} -eq 0 ] && [ "$(id -u)" -eq 0 ]; then ensure_libfuzzer; fi
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "warning: ${need[*]} not installed; the tests that need them will skip (sudo apt-get install ${need[*]})"
    return 0
  fi
  local guard=/usr/sbin/policy-rc.d
  local made=0
  if [ ! -e "$guard" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$guard" && chmod 755 "$guard" && made=1
  fi
  local rc=0
  ( apt_install "${need[@]}" ) || rc=$?
  [ $made -eq 1 ] && rm -f "$guard"
  [ $rc -eq 0 ] || die "apt-get install ${need[*]} failed"
  ensure_libfuzzer
  return 0
}

# clang's libFuzzer and sanitizer runtimes come in packages named for its major version.
ensure_libfuzzer() {
  command -v clang >/dev/null || return 0
  if echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' \
      | clang -x c -fsanitize=fuzzer,address -o /dev/null - 2>/dev/null; then
    return 0
  fi
  local major pkgs=() p
  major=$(clang -dumpversion | cut -d. -f1)
  for p in "libclang-rt-$major-dev" "libfuzzer-$major-dev"; do
    apt-cache show "$p" >/dev/null 2>&1 && pkgs+=("$p")
  done
  [ ${#pkgs[@]} -gt 0 ] && ( apt_install "${pkgs[@]}" ) || say "warning: no libFuzzer for clang $major; the agent fuzz test will skip"
  return 0
}

# Sets JAVA_HOME to a JDK >= 21, installing one through apt where the distribution has it.
ensure_jdk() {
  local jdk
  if ! jdk=$(find_jdk); then
    if [ "$(id -u)" -eq 0 ] && apt-cache show --no-all-versions openjdk-21-jdk-headless >/dev/null 2>&1; then
      apt_install openjdk-21-jdk-headless
      jdk=$(find_jdk) || die "openjdk-21-jdk-headless installed but no JDK >= 21 found under /usr/lib/jvm"
    else
      die "no JDK 21 or newer found (JAVA_HOME, /usr/lib/jvm/*). Install one: 'apt-get install openjdk-21-jdk-headless' (Debian 13, Ubuntu 24.04) or Temurin 21 from adoptium.net, then set JAVA_HOME"
    fi
  fi
  export JAVA_HOME="$jdk"
  export PATH="$JAVA_HOME/bin:$PATH"
}

maven() {
  MAVEN_OPTS="${MAVEN_OPTS:-} -XX:+IgnoreUnrecognizedVMOptions --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED" \
    mvn -B -q -f "$SMARTVM_ROOT/pom.xml" "$@"
}

# Builds the CLI jar when it is missing or older than any source.
ensure_built() {
  if [ -f "$CLI_JAR" ] && [ -z "$(cd "$SMARTVM_ROOT" && find pom.xml smartvm-*/pom.xml smartvm-*/src/main smartvm-agent/Makefile \
      -newer "$CLI_JAR" -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  say "building SmartVM (mvn package)"
  maven -DskipTests install >&2 || die "the build failed; rerun 'mvn -f $SMARTVM_ROOT/pom.xml install' to see why"
}
