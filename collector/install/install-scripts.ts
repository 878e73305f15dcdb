import { PACKAGES, type PackageInfo } from './package-catalog.js';

/**
 * "The one command to paste" (issue 15 item 2) and the two small bootstrap scripts it
 * downloads from the collector. The command carries the collector's address, the site,
 * the enrolment token and the package's SHA-256 as the admin saw it on the authenticated
 * board or CLI; the bootstrap script downloads the package from the same collector,
 * refuses it unless its SHA-256 matches, unpacks it and runs the package's own installer,
 * which enrolls with the token (and then forgets it). Nothing comes from the internet.
 */

/** Single-quote for POSIX sh (the values are validated, this is belt and braces). */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** Single-quote for PowerShell. */
const psq = (s: string) => `'${s.replace(/'/g, "''")}'`;

export interface CommandInput {
  /** The collector's HTTP base URL as the PCs reach it, e.g. `http://10.0.0.5:8080`. */
  collectorUrl: string;
  site: string;
  token: string;
  linux: PackageInfo;
  windows: PackageInfo;
  /** The release public key (`agentUpdate.publicKey`), pinned on the PC for signed self-updates. */
  updateKey?: string | undefined;
}

export function pasteCommands(c: CommandInput): { linux: string; windows: string } {
  const base = c.collectorUrl.replace(/\/+$/, '');
  const linuxSum = c.linux.sha256 ? ` --sha256 ${c.linux.sha256}` : '';
  const winSum = c.windows.sha256 ? ` -Sha256 ${c.windows.sha256}` : '';
  const linuxKey = c.updateKey ? ` --update-key ${sq(c.updateKey)}` : '';
  const winKey = c.updateKey ? ` -UpdateKey ${psq(c.updateKey)}` : '';
  return {
    linux: `curl -fsSL ${sq(`${base}/install/linux.sh`)} | sudo sh -s -- --collector ${sq(base)} --site ${sq(c.site)} --enroll-token ${sq(c.token)}${linuxSum}${linuxKey}`,
    // $ProgressPreference: Windows PowerShell 5.1 downloads many times slower while drawing its progress bar.
    windows:
      `$ProgressPreference='SilentlyContinue'; $u=${psq(base)}; $f=Join-Path $env:TEMP 'canh-install.ps1'; ` +
      `Invoke-WebRequest -UseBasicParsing "$u/install/windows.ps1" -OutFile $f; ` +
      `powershell -NoProfile -ExecutionPolicy Bypass -File $f -Collector $u -Site ${psq(c.site)} -EnrollToken ${psq(c.token)}${winSum}${winKey}`,
  };
}

/** `GET /install/linux.sh`: POSIX sh, run as root (or with CANH_INSTALL_ROOT for a staging root). */
export const LINUX_BOOTSTRAP = `#!/bin/sh
# Canh agent: download the Linux package from the collector, check its SHA-256, install it
# and enroll this PC (served by the collector at /install/linux.sh; see deploy/README.md).
#   curl -fsSL http://COLLECTOR:8080/install/linux.sh | sudo sh -s -- --collector http://COLLECTOR:8080 --site SITE --enroll-token TOKEN [--sha256 HEX] [--update-key KEY]
set -eu
die() { echo "canh: $*" >&2; exit 1; }
COLLECTOR="" SITE="" TOKEN="" SUM="" NODE="" UPDATE_KEY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --collector) COLLECTOR="\${2:-}"; shift 2 ;;
    --site) SITE="\${2:-}"; shift 2 ;;
    --enroll-token) TOKEN="\${2:-}"; shift 2 ;;
    --sha256) SUM="\${2:-}"; shift 2 ;;
    --node) NODE="\${2:-}"; shift 2 ;;
    --update-key) UPDATE_KEY="\${2:-}"; shift 2 ;;
    *) die "tham số không rõ / unknown option: $1" ;;
  esac
done
[ -n "$COLLECTOR" ] && [ -n "$SITE" ] && [ -n "$TOKEN" ] || die "cần --collector, --site và --enroll-token / --collector, --site and --enroll-token are required"
echo "$COLLECTOR" | grep -Eq '^https?://[][A-Za-z0-9.:_-]+/?$' || die "--collector phải là http://máy-chủ:cổng / must be http://host:port"
[ -n "\${CANH_INSTALL_ROOT:-}" ] || [ "$(id -u)" -eq 0 ] || die "hãy chạy bằng quyền root (sudo) / run as root"
COLLECTOR="\${COLLECTOR%/}"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
PKG="$TMP/${PACKAGES.linux.file}"
fetch() { if command -v curl >/dev/null 2>&1; then curl -fsS -o "$2" "$1"; else wget -q -O "$2" "$1"; fi; }
echo "canh: tải gói cài đặt từ $COLLECTOR … / downloading the agent package"
fetch "$COLLECTOR/install/files/${PACKAGES.linux.file}" "$PKG" || die "không tải được gói từ máy chủ / cannot download the package ($COLLECTOR)"
if [ -z "$SUM" ]; then
  fetch "$COLLECTOR/install/SHA256SUMS" "$TMP/SHA256SUMS" || die "không tải được SHA256SUMS / cannot download SHA256SUMS"
  SUM="$(sed -n 's/^\\([0-9a-f]\\{64\\}\\)  ${PACKAGES.linux.file}$/\\1/p' "$TMP/SHA256SUMS")"
  [ -n "$SUM" ] || die "máy chủ chưa có gói Linux / the collector has no Linux package"
fi
GOT="$(sha256sum "$PKG" | cut -d' ' -f1)"
[ "$GOT" = "$SUM" ] || die "mã kiểm tra SHA-256 không khớp (tải lỗi hoặc gói bị thay đổi) / SHA-256 mismatch: got $GOT, expected $SUM"
echo "canh: SHA-256 đúng / checksum OK ($GOT)"
tar -xzf "$PKG" -C "$TMP"
set -- --site "$SITE" --collector "$COLLECTOR" --enroll-token "$TOKEN"
[ -z "$NODE" ] || set -- "$@" --node "$NODE"
[ -z "$UPDATE_KEY" ] || set -- "$@" --update-key "$UPDATE_KEY"
sh "$TMP/canh-agent-linux/install-agent.sh" "$@"
`;

/** `GET /install/windows.ps1`: run by the pasted command in an administrator PowerShell. */
export const WINDOWS_BOOTSTRAP = `<#
  Canh agent: download the Windows package from the collector, check its SHA-256, install
  the service and enroll this PC (served by the collector at /install/windows.ps1).
  Run in PowerShell as Administrator; the board's "Thêm máy tính" page gives the command.
#>
param(
  [Parameter(Mandatory = $true)][ValidatePattern('^https?://[A-Za-z0-9.:_\\[\\]-]+/?$')][string]$Collector,
  [Parameter(Mandatory = $true)][ValidatePattern('^[a-z0-9][a-z0-9_-]{0,62}$')][string]$Site,
  [Parameter(Mandatory = $true)][ValidatePattern('^canh_enr_[A-Za-z0-9_-]{32}$')][string]$EnrollToken,
  [ValidatePattern('^[0-9a-fA-F]{64}$')][string]$Sha256,
  [ValidatePattern('^[A-Za-z0-9+/]{43}=?$')][string]$UpdateKey
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw 'Hãy mở PowerShell bằng quyền quản trị (chuột phải > Run as administrator). / Run PowerShell as Administrator.'
}
$Collector = $Collector.TrimEnd('/')
$work = Join-Path $env:TEMP ('canh-' + [Guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Force -Path $work | Out-Null
try {
  $zip = Join-Path $work '${PACKAGES.windows.file}'
  Write-Host "Đang tải gói cài đặt từ $Collector ... / Downloading the agent package"
  Invoke-WebRequest -UseBasicParsing "$Collector/install/files/${PACKAGES.windows.file}" -OutFile $zip
  if (-not $Sha256) {
    $sums = (Invoke-WebRequest -UseBasicParsing "$Collector/install/SHA256SUMS").Content
    $line = ($sums -split '\\r?\\n') | Where-Object { $_ -match '^([0-9a-f]{64})  ${PACKAGES.windows.file.replace(/\./g, '\\.')}\\s*$' } | Select-Object -First 1
    if (-not $line) { throw 'Máy chủ chưa có gói Windows (npm run build:windows). / The collector has no Windows package.' }
    $Sha256 = $line.Substring(0, 64)
  }
  $got = (Get-FileHash -Algorithm SHA256 -Path $zip).Hash.ToLowerInvariant()
  if ($got -ne $Sha256.ToLowerInvariant()) { throw "Mã kiểm tra SHA-256 không khớp (tải lỗi hoặc gói bị thay đổi): $got, cần $Sha256. / SHA-256 mismatch." }
  Write-Host "SHA-256 đúng / checksum OK ($got)"
  Expand-Archive -Path $zip -DestinationPath $work -Force
  $extra = @{}
  if ($UpdateKey) { $extra.UpdateKey = $UpdateKey }
  & (Join-Path $work 'canh-agent-win-x64\\install-agent.ps1') -Site $Site -Collector $Collector -EnrollToken $EnrollToken @extra
} finally {
  Remove-Item -Recurse -Force -ErrorAction SilentlyContinue $work
}
`;
