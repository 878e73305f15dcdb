<#
.SYNOPSIS
  Install (or update) the Canh agent as a Windows service. Run as Administrator from the
  unpacked canh-agent-win-x64 folder:

    powershell -ExecutionPolicy Bypass -File install-agent.ps1 -Site xa-an-binh -Broker mqtt://10.0.0.5:1883 -Password <pw>
    powershell -ExecutionPolicy Bypass -File install-agent.ps1 -Site xa-an-binh -Collector http://10.0.0.5:8080 -EnrollToken canh_enr_...

  With -Collector and -EnrollToken (site enrolment, `canh enroll create`, the board's
  "Thêm máy tính" page) the PC enrolls itself: the agent gets its own credential from the
  collector (kept in C:\ProgramData\Canh\state\enrollment.json, SYSTEM and Administrators
  only) and the token is removed from agent.json, unless the collector holds the PC for an
  administrator's approval (then the service keeps asking with it until approved).

  -HostId defaults to this PC's name as a slug; -Username to <site>.<host>. Without
  -Password it asks for it. Running it again updates the files and settings (idempotent).

  Files: C:\Program Files\Canh\Agent (program), C:\ProgramData\Canh\agent.json (settings,
  SYSTEM and Administrators only), C:\ProgramData\Canh\state (outbox), ...\logs (service log).
  Service: "canh-agent" (WinSW wrapper running node.exe), automatic start, restarts on failure.
#>
[CmdletBinding()]
param(
  [Parameter(Mandatory = $true)][ValidatePattern('^[a-z0-9][a-z0-9_-]{0,62}$')][string]$Site,
  [ValidatePattern('^(mqtts?|wss?)://[^\s"]+$')][string]$Broker,
  [ValidatePattern('^https?://[A-Za-z0-9.:_\[\]-]+/?$')][string]$Collector,
  [ValidatePattern('^canh_enr_[A-Za-z0-9_-]{32}$')][string]$EnrollToken,
  # Not -Host: $Host is a PowerShell automatic variable.
  [ValidatePattern('^[a-z0-9][a-z0-9_-]{0,62}$')][string]$HostId,
  [string]$Username,
  [string]$Password,
  [string[]]$PingTargets = @(),
  # The release public key (canh release keygen), pinned for signed self-updates (update.publicKey).
  [ValidatePattern('^[A-Za-z0-9+/]{43}=?$')][string]$UpdateKey,
  [string]$InstallDir = (Join-Path $env:ProgramFiles 'Canh\Agent'),
  [string]$DataDir = (Join-Path $env:ProgramData 'Canh')
)
$ErrorActionPreference = 'Stop'
$ServiceName = 'canh-agent'

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw 'Run this script as Administrator (right-click PowerShell > Run as administrator).'
}
$src = $PSScriptRoot
foreach ($f in 'node.exe', 'agent\canh-agent.mjs', 'canh-agent-service.exe', 'canh-agent-service.xml') {
  if (-not (Test-Path (Join-Path $src $f))) { throw "Missing $f next to this script: unpack the whole canh-agent-win-x64 folder." }
}

if (-not $HostId) {
  $HostId = ($env:COMPUTERNAME.ToLowerInvariant() -replace '[^a-z0-9_-]+', '-').Trim('-')
  if ($HostId.Length -gt 63) { $HostId = $HostId.Substring(0, 63) }
}
$Enroll = [bool]$Collector
if (-not $Enroll -and -not $Broker) { throw 'Give -Broker (and -Password), or -Collector and -EnrollToken (site enrolment).' }
if (-not $Enroll -and -not $Password) {
  $secure = Read-Host -AsSecureString "Agent password for $Site.$HostId (from canh credentials add)"
  $Password = [Runtime.InteropServices.Marshal]::PtrToStringAuto([Runtime.InteropServices.Marshal]::SecureStringToBSTR($secure))
}
if (-not $Enroll -and -not $Password) { throw 'A password is required (-Password).' }

# --- stop and unregister a previous install (idempotent update) -----------------------
$existing = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($existing) {
  Write-Host "Stopping the existing $ServiceName service"
  if ($existing.Status -ne 'Stopped') { Stop-Service -Name $ServiceName -Force; $existing.WaitForStatus('Stopped', '00:00:30') }
  $oldWrapper = Join-Path $InstallDir 'canh-agent-service.exe'
  if (Test-Path $oldWrapper) { & $oldWrapper uninstall | Out-Host } else { & sc.exe delete $ServiceName | Out-Host }
  Start-Sleep -Seconds 2
}

# --- program files -------------------------------------------------------------------------
New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
if ((Resolve-Path $src).Path.TrimEnd('\') -ne (Resolve-Path $InstallDir).Path.TrimEnd('\')) {
  # Chunk names change between builds: replace the bundle folder as a whole.
  Remove-Item -Recurse -Force -ErrorAction SilentlyContinue (Join-Path $InstallDir 'agent')
  Copy-Item -Recurse -Force -Path (Join-Path $src '*') -Destination $InstallDir
}

# --- settings: C:\ProgramData\Canh, SYSTEM + Administrators only ---------------------------
function Set-PrivateAcl([string]$Path, [bool]$IsDirectory) {
  $system = New-Object Security.Principal.SecurityIdentifier('S-1-5-18')
  $admins = New-Object Security.Principal.SecurityIdentifier('S-1-5-32-544')
  if ($IsDirectory) {
    $acl = New-Object Security.AccessControl.DirectorySecurity
    $inherit = [Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
  } else {
    $acl = New-Object Security.AccessControl.FileSecurity
    $inherit = [Security.AccessControl.InheritanceFlags]::None
  }
  $acl.SetAccessRuleProtection($true, $false)   # no inherited entries (Users lose read)
  $acl.SetOwner($admins)
  foreach ($sid in $system, $admins) {
    $rule = New-Object Security.AccessControl.FileSystemAccessRule($sid, 'FullControl', $inherit, [Security.AccessControl.PropagationFlags]::None, 'Allow')
    $acl.AddAccessRule($rule)
  }
  Set-Acl -Path $Path -AclObject $acl
}
New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
Set-PrivateAcl $DataDir $true
foreach ($d in 'state', 'logs') { New-Item -ItemType Directory -Force -Path (Join-Path $DataDir $d) | Out-Null }
# Self-updates staged by the previous install go: the version installed now is the one to run.
Remove-Item -Recurse -Force -ErrorAction SilentlyContinue (Join-Path $DataDir 'state\versions')

$configFile = Join-Path $DataDir 'agent.json'
function Write-AgentConfig($config) {
  $json = $config | ConvertTo-Json -Depth 5
  # UTF-8 *without* BOM: Node's JSON.parse rejects a BOM (Set-Content -Encoding UTF8 adds one).
  $tmp = "$configFile.tmp"
  [IO.File]::WriteAllText($tmp, $json, (New-Object Text.UTF8Encoding($false)))
  Set-PrivateAcl $tmp $false
  Move-Item -Force -Path $tmp -Destination $configFile
}
if ($Enroll) {
  $config = [ordered]@{
    site      = $Site
    collector = $Collector.TrimEnd('/')
    stateDir  = (Join-Path $DataDir 'state')
    ping      = [ordered]@{ gateway = $true; targets = @($PingTargets) }
  }
  if ($EnrollToken) { $config.enrollToken = $EnrollToken }
  if ($UpdateKey) { $config.update = [ordered]@{ publicKey = $UpdateKey } }
  Write-AgentConfig $config
  # Enrol now, so that a refused token (expired, revoked, used up) is shown here, in Vietnamese.
  & (Join-Path $InstallDir 'node.exe') (Join-Path $InstallDir 'agent\canh-agent.mjs') --config $configFile --enroll-only
  $rc = $LASTEXITCODE
  if ($rc -eq 0) {
    # Enrolled: the credential is in state\enrollment.json; the token is no longer needed.
    $config.Remove('enrollToken')
    Write-AgentConfig $config
  } elseif ($rc -eq 10) {
    Write-Host 'Đang chờ quản trị viên duyệt máy này; dịch vụ sẽ tự hỏi lại. / Waiting for an administrator to approve this PC.'
  } else {
    throw "Đăng ký không thành công (xem thông báo ở trên). / Enrolment failed (exit code $rc)."
  }
} else {
  $config = [ordered]@{
    site     = $Site
    host     = $HostId
    stateDir = (Join-Path $DataDir 'state')
    mqtt     = [ordered]@{ url = $Broker; password = $Password }
    ping     = [ordered]@{ gateway = $true; targets = @($PingTargets) }
  }
  if ($Username) { $config.mqtt.username = $Username }
  if ($UpdateKey) { $config.update = [ordered]@{ publicKey = $UpdateKey } }
  Write-AgentConfig $config
}

# --- service -----------------------------------------------------------------------------
$wrapper = Join-Path $InstallDir 'canh-agent-service.exe'
& $wrapper install | Out-Host
if ($LASTEXITCODE -ne 0) { throw "Service registration failed ($wrapper install)" }
# WinSW sets these from <onfailure> too; set them explicitly so they hold whatever the
# wrapper version. failureflag 1: also act when the service stops with an error code.
& sc.exe failure $ServiceName reset= 3600 actions= restart/5000/restart/5000/restart/60000 | Out-Null
& sc.exe failureflag $ServiceName 1 | Out-Null
& sc.exe config $ServiceName start= delayed-auto | Out-Null
Start-Service -Name $ServiceName
Start-Sleep -Seconds 5
$svc = Get-Service -Name $ServiceName
if ($svc.Status -ne 'Running') {
  throw "The $ServiceName service is $($svc.Status): see $(Join-Path $DataDir 'logs')\canh-agent-service.err.log"
}
if ($Enroll) { Write-Host "Đã cài và đăng ký máy vào điểm $Site (máy chủ $Collector). / Canh agent installed and enrolled at $Site." }
else { Write-Host "Canh agent installed and running as $Site/$HostId -> $Broker" }
Write-Host "Logs: $(Join-Path $DataDir 'logs')   Uninstall: powershell -ExecutionPolicy Bypass -File `"$InstallDir\uninstall-agent.ps1`""
