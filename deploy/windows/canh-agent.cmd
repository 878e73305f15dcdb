@echo off
rem Run the Canh agent in this console (troubleshooting; the service runs the same thing).
rem   canh-agent.cmd [--config C:\ProgramData\Canh\agent.json]
rem Without --config it uses %CANH_AGENT_CONFIG%, else %ProgramData%\Canh\agent.json.
setlocal
if "%CANH_AGENT_CONFIG%"=="" if exist "%ProgramData%\Canh\agent.json" set "CANH_AGENT_CONFIG=%ProgramData%\Canh\agent.json"
"%~dp0node.exe" "%~dp0agent\canh-agent.mjs" %*
exit /b %ERRORLEVEL%
