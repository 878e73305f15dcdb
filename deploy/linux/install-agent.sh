#!/bin/sh
# Install (or update, or remove) the Canh agent as a systemd service on a Linux PC.
#
#   sudo ./install-agent.sh --site xa-an-binh --broker mqtt://10.0.0.5:1883 [--host pc-motcua-01] \
#        [--username xa-an-binh.pc-motcua-01] [--password PW | --password-file FILE] [--node /path/to/node]
#   sudo ./install-agent.sh --site xa-an-binh --collector http://10.0.0.5:8080 --enroll-token canh_enr_… [--node PATH]
#        [--update-key KEY]   the release public key (canh release keygen) pinned for signed self-updates
#   sudo ./install-agent.sh --uninstall [--purge]
#
# With --collector and --enroll-token (site enrolment, `canh enroll create`) the PC enrolls
# itself: the agent asks the collector for its own credential (kept in the state dir, 0600)
# and the token is not written anywhere unless the collector holds the PC for an admin's
# approval (then the service keeps asking with it until approved).
# Without --password/--password-file it asks for the password (not echoed), or reads it
# from $CANH_AGENT_PASSWORD. Running it again updates the files and restarts the agent
# (idempotent). Files:
#   /opt/canh/agent/                       agent bundle (canh-agent.mjs + chunks)
#   /etc/canh/agent.env                    settings and password, root:root 0600
#   /etc/systemd/system/canh-agent.service the unit (deploy/systemd/canh-agent.service)
#   /var/lib/canh-agent                    outbox (kept by --uninstall unless --purge); versions/ holds
#                                          self-updates (removed here: the installed version runs)
#
# The bundle and unit are taken from next to this script (release tarball layout) or,
# in a source checkout, from dist/agent-bundle/ and deploy/systemd/.
# CANH_INSTALL_ROOT=/some/dir installs into that directory instead of / and does not
# touch systemd (used by the tests and for building packages).
set -eu

ROOT="${CANH_INSTALL_ROOT:-}"
PREFIX="$ROOT/opt/canh/agent"
ETC="$ROOT/etc/canh"
ENV_FILE="$ETC/agent.env"
UNIT_DIR="$ROOT/etc/systemd/system"
UNIT="$UNIT_DIR/canh-agent.service"
DROPIN_DIR="$UNIT_DIR/canh-agent.service.d"
STATE="$ROOT/var/lib/canh-agent"
NODE_MIN_MAJOR=20

die() { echo "install-agent: $*" >&2; exit 1; }
say() { echo "install-agent: $*"; }
usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

SITE="" HOST="" BROKER="" USERNAME="" PASSWORD="${CANH_AGENT_PASSWORD:-}" PASSWORD_FILE="" NODE="" UNINSTALL=0 PURGE=0 COLLECTOR="" TOKEN="${CANH_ENROLL_TOKEN:-}" UPDATE_KEY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --site) SITE="${2:-}"; shift 2 ;;
    --host) HOST="${2:-}"; shift 2 ;;
    --broker) BROKER="${2:-}"; shift 2 ;;
    --username) USERNAME="${2:-}"; shift 2 ;;
    --password) PASSWORD="${2:-}"; shift 2 ;;
    --password-file) PASSWORD_FILE="${2:-}"; shift 2 ;;
    --node) NODE="${2:-}"; shift 2 ;;
    --collector) COLLECTOR="${2:-}"; shift 2 ;;
    --enroll-token) TOKEN="${2:-}"; shift 2 ;;
    --update-key) UPDATE_KEY="${2:-}"; shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    --purge) PURGE=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "install-agent: unknown option $1" >&2; usage 2 ;;
  esac
done

[ -n "$ROOT" ] || [ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 …)"
systemd_on() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }

if [ "$UNINSTALL" -eq 1 ]; then
  if systemd_on; then systemctl disable --now canh-agent.service 2>/dev/null || true; fi
  rm -f "$UNIT"; rm -rf "$DROPIN_DIR" "$PREFIX"; rm -f "$ENV_FILE"
  rmdir "$ETC" "$ROOT/opt/canh" 2>/dev/null || true
  if [ "$PURGE" -eq 1 ]; then rm -rf "$STATE" "$ROOT/var/lib/private/canh-agent"; fi
  if systemd_on; then systemctl daemon-reload; fi
  say "removed$( [ "$PURGE" -eq 1 ] && echo ' (outbox purged)' || echo '; outbox kept in /var/lib/canh-agent (--purge removes it)')"
  exit 0
fi

# --- sources ---------------------------------------------------------------------------
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ -f "$HERE/canh-agent.mjs" ]; then BUNDLE="$HERE"; UNIT_SRC="$HERE/canh-agent.service"
elif [ -f "$HERE/../../dist/agent-bundle/canh-agent.mjs" ]; then
  BUNDLE="$(cd "$HERE/../../dist/agent-bundle" && pwd)"; UNIT_SRC="$HERE/../systemd/canh-agent.service"
else die "agent bundle not found next to this script nor in dist/agent-bundle (run npm run build)"; fi
[ -f "$UNIT_SRC" ] || die "unit file not found: $UNIT_SRC"

# --- arguments ---------------------------------------------------------------------------
SLUG='^[a-z0-9][a-z0-9_-]{0,62}$'
# Keep settings from a previous install when not given again (re-run = update).
prev() { [ -f "$ENV_FILE" ] && sed -n "s/^$1='\"\\(.*\\)\"'\$/\\1/p" "$ENV_FILE" | tail -n 1 || true; }
[ -n "$SITE" ] || SITE="$(prev CANH_AGENT__SITE)"
[ -n "$HOST" ] || HOST="$(prev CANH_AGENT__HOST)"
[ -n "$BROKER" ] || BROKER="$(prev CANH_AGENT__MQTT__URL)"
[ -n "$USERNAME" ] || USERNAME="$(prev CANH_AGENT__MQTT__USERNAME)"
[ -n "$UPDATE_KEY" ] || UPDATE_KEY="$(prev CANH_AGENT__UPDATE__PUBLIC_KEY)"
[ -z "$UPDATE_KEY" ] || echo "$UPDATE_KEY" | grep -Eq '^[A-Za-z0-9+/]{43}=?$' || die "--update-key is not a release public key (32 bytes base64, canh release keygen)"
[ -n "$SITE" ] || die "--site is required (e.g. --site xa-an-binh)"
echo "$SITE" | grep -Eq "$SLUG" || die "--site must be a lowercase slug [a-z0-9_-]: $SITE"
[ -z "$HOST" ] || echo "$HOST" | grep -Eq "$SLUG" || die "--host must be a lowercase slug [a-z0-9_-]: $HOST"
[ -n "$BROKER" ] || [ -n "$COLLECTOR" ] || COLLECTOR="$(prev CANH_AGENT__COLLECTOR)"
if [ -n "$COLLECTOR" ]; then
  # Site enrolment: the credential comes from the collector.
  ENROLL=1
  # A PC still waiting for approval keeps its token in the env file: an update keeps asking with it.
  [ -n "$TOKEN" ] || TOKEN="$(prev CANH_AGENT__ENROLL_TOKEN)"
  echo "$COLLECTOR" | grep -Eq '^https?://[][A-Za-z0-9.:_-]+/?$' || die "--collector must be http://host:port: $COLLECTOR"
  [ -z "$TOKEN" ] || echo "$TOKEN" | grep -Eq '^canh_enr_[A-Za-z0-9_-]{32}$' || die "--enroll-token is not an enrolment token (canh_enr_…)"
else
ENROLL=0
[ -n "$BROKER" ] || die "--broker is required (e.g. --broker mqtt://10.0.0.5:1883), or --collector and --enroll-token"
echo "$BROKER" | grep -Eq '^(mqtts?|wss?)://[][A-Za-z0-9._:@%/-]+$' || die "--broker must be mqtt://host:port or mqtts://host:port: $BROKER"
[ -z "$USERNAME" ] || echo "$USERNAME" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' || die "bad --username: $USERNAME"
if [ -n "$PASSWORD_FILE" ]; then PASSWORD="$(head -n 1 "$PASSWORD_FILE")"; fi
if [ -z "$PASSWORD" ]; then PASSWORD="$(prev CANH_AGENT__MQTT__PASSWORD)"; fi
if [ -z "$PASSWORD" ] && [ -t 0 ]; then
  printf 'Agent password (from `canh credentials add`): ' >&2
  stty -echo 2>/dev/null || true; read -r PASSWORD || true; stty echo 2>/dev/null || true; echo >&2
fi
[ -n "$PASSWORD" ] || die "no password: pass --password, --password-file or set CANH_AGENT_PASSWORD"
# Generated passwords are base64url; refuse characters that would need quoting rules.
echo "$PASSWORD" | grep -Eq '^[A-Za-z0-9._~+/=-]{1,256}$' || die "password has unsupported characters (expected the generated base64url form)"
fi

# --- Node.js >= 20 -------------------------------------------------------------------------
NODE_HINT="Install Node.js $NODE_MIN_MAJOR or newer. On Debian 12 \`apt-get install nodejs\` gives 18, too old:
  use NodeSource (https://github.com/nodesource/distributions: nodistro nodejs 20.x/22.x package), or
  unpack the official Linux build from the release tarball / nodejs.org (e.g. /opt/canh/node) and pass --node /opt/canh/node/bin/node."
if [ -z "$NODE" ]; then NODE="$(command -v node || true)"; fi
[ -n "$NODE" ] && [ -x "$NODE" ] || die "Node.js not found. $NODE_HINT"
NODE_MAJOR="$("$NODE" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
[ "$NODE_MAJOR" -ge "$NODE_MIN_MAJOR" ] 2>/dev/null || die "$NODE is Node.js $("$NODE" -v 2>/dev/null || echo '?'), need >= $NODE_MIN_MAJOR. $NODE_HINT"
case "$NODE" in /*) ;; *) NODE="$(cd "$(dirname "$NODE")" && pwd)/$(basename "$NODE")" ;; esac

# --- files ---------------------------------------------------------------------------------
umask 022
mkdir -p "$PREFIX" "$UNIT_DIR"
# Replace the bundle as a whole: chunk names change between builds.
TMP_PREFIX="$PREFIX.new.$$"
rm -rf "$TMP_PREFIX"; mkdir -p "$TMP_PREFIX"
for f in "$BUNDLE"/*.mjs "$BUNDLE"/*.LEGAL.txt; do [ -f "$f" ] && cp "$f" "$TMP_PREFIX/"; done
[ -f "$HERE/README.md" ] && cp "$HERE/README.md" "$TMP_PREFIX/" || true
rm -rf "$PREFIX.old"; mv "$PREFIX" "$PREFIX.old"; mv "$TMP_PREFIX" "$PREFIX"; rm -rf "$PREFIX.old"
# Self-updates staged by the previous install go: the version installed now is the one to run.
rm -rf "$STATE/versions" "$ROOT/var/lib/private/canh-agent/versions"

install -m 0644 "$UNIT_SRC" "$UNIT"
if [ "$NODE" != /usr/bin/node ]; then
  mkdir -p "$DROPIN_DIR"
  printf '[Service]\nExecStart=\nExecStart=%s /opt/canh/agent/canh-agent.mjs\n' "$NODE" > "$DROPIN_DIR/10-node.conf"
else
  rm -rf "$DROPIN_DIR"
fi

# --- site enrolment: the agent gets its credential now, as root (it reads the DMI serials) ---
KEEP_TOKEN=0
if [ "$ENROLL" -eq 1 ]; then
  mkdir -p "$STATE"; chmod 0700 "$STATE"
  set +e
  env CANH_AGENT__SITE="\"$SITE\"" CANH_AGENT__COLLECTOR="$COLLECTOR" CANH_AGENT__STATE_DIR="$STATE" CANH_AGENT__LOG__LEVEL=error \
    ${TOKEN:+CANH_AGENT__ENROLL_TOKEN="$TOKEN"} \
    "$NODE" "$PREFIX/canh-agent.mjs" --enroll-only
  RC=$?
  set -e
  case "$RC" in
    0) ;;
    10) KEEP_TOKEN=1; say "đang chờ quản trị viên duyệt máy này; dịch vụ sẽ tự hỏi lại / waiting for an administrator's approval" ;;
    *) die "đăng ký không thành công (xem thông báo ở trên) / enrolment failed (see above)" ;;
  esac
fi

# Values are written JSON-quoted ('"…"'): the agent parses env values as JSON when they
# parse, so a site named "2024" or an all-digit password would otherwise become a number.
mkdir -p "$ETC"; chmod 0755 "$ETC"
TMP_ENV="$ENV_FILE.tmp.$$"
( umask 077
  {
    echo "# Canh agent settings (install-agent.sh). Secret: root-only. Keys: README.md, Configuration."
    echo "CANH_AGENT__SITE='\"$SITE\"'"
    [ -z "$UPDATE_KEY" ] || echo "CANH_AGENT__UPDATE__PUBLIC_KEY='\"$UPDATE_KEY\"'"
    [ -z "$HOST" ] || echo "CANH_AGENT__HOST='\"$HOST\"'"
    if [ "$ENROLL" -eq 1 ]; then
      echo "CANH_AGENT__COLLECTOR='\"$COLLECTOR\"'"
      # The credential is in the state dir (enrollment.json); the token only while waiting for approval.
      [ "$KEEP_TOKEN" -eq 0 ] || echo "CANH_AGENT__ENROLL_TOKEN='\"$TOKEN\"'"
    else
      echo "CANH_AGENT__MQTT__URL='\"$BROKER\"'"
      [ -z "$USERNAME" ] || echo "CANH_AGENT__MQTT__USERNAME='\"$USERNAME\"'"
      echo "CANH_AGENT__MQTT__PASSWORD='\"$PASSWORD\"'"
    fi
  } > "$TMP_ENV" )
chmod 0600 "$TMP_ENV"; [ -n "$ROOT" ] || chown root:root "$TMP_ENV"
mv "$TMP_ENV" "$ENV_FILE"

if systemd_on; then
  systemctl daemon-reload
  systemctl enable canh-agent.service >/dev/null
  systemctl restart canh-agent.service
  sleep 2
  if systemctl is-active --quiet canh-agent.service; then say "canh-agent is running (journalctl -u canh-agent -f)"
  else die "canh-agent did not stay up: journalctl -u canh-agent -n 50"; fi
else
  say "installed under ${ROOT:-/} (systemd not running here: start it with systemctl enable --now canh-agent)"
fi
