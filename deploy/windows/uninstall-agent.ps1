<#
.SYNOPSIS
  Remove the Canh agent service and program files. Run as Administrator:
    powershell -ExecutionPolicy Bypass -File uninstall-agent.ps1 [-Purge]
  Settings, outbox and logs in C:\ProgramData\Canh are kept unless -Purge is given
  (the outbox may hold samples not yet sent).
#>
[CmdletBinding()]
param(
  [switch]$Purge,
  [string]$InstallDir = (Join-Path $env:ProgramFiles 'Canh\Agent'),
  [string]$DataDir = (Join-Path $env:ProgramData 'Canh')
)
$ErrorActionPreference = 'Stop'
$ServiceName = 'canh-agent'
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) { throw 'Run this script as Administrator.' }

$svc = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($svc) {
  if ($svc.Status -ne 'Stopped') { Stop-Service -Name $ServiceName -Force; $svc.WaitForStatus('Stopped', '00:00:30') }
  $wrapper = Join-Path $InstallDir 'canh-agent-service.exe'
  if (Test-Path $wrapper) { & $wrapper uninstall | Out-Host } else { & sc.exe delete $ServiceName | Out-Host }
}
# This script may itself live in $InstallDir: copy-free removal still works in PowerShell.
if (Test-Path $InstallDir) { Remove-Item -Recurse -Force $InstallDir }
$parent = Split-Path $InstallDir -Parent
if ((Test-Path $parent) -and -not (Get-ChildItem $parent)) { Remove-Item -Force $parent }
if ($Purge -and (Test-Path $DataDir)) { Remove-Item -Recurse -Force $DataDir }
Write-Host ("Canh agent removed" + $(if ($Purge) { ' (settings, outbox and logs deleted)' } else { "; settings and outbox kept in $DataDir (-Purge deletes them)" }))
