@echo off
rem Kyso Agent at logon on Windows: registers a Task Scheduler task for the current user
rem that runs the agent without a console window (pythonw); the password and the token's
rem PIN are asked in a small window. Run once, as the official (no administrator needed):
rem   kyso-agent-login.cmd https://kyso.xa.example.vn phochutich
rem Remove it with:  schtasks /Delete /TN "Kyso Agent" /F
setlocal
if "%~2"=="" (
  echo Cach dung / usage: %~nx0 DIA-CHI-DICH-VU TAI-KHOAN
  exit /b 2
)
for /f "delims=" %%P in ('where pythonw 2^>nul') do if not defined PYW set "PYW=%%P"
if not defined PYW (
  echo Khong tim thay pythonw.exe - cai Python 3.11+ ^(co tkinter^) roi chay lai / pythonw.exe not found
  exit /b 2
)
schtasks /Create /F /TN "Kyso Agent" /SC ONLOGON /RL LIMITED ^
  /TR "\"%PYW%\" -m api.agent --service %1 --user %2"
if errorlevel 1 exit /b 1
echo Da dang ky: Kyso Agent chay moi lan dang nhap / registered: runs at every logon
endlocal
