# Per-user install on Windows, no admin rights: a private virtual environment under
# %LOCALAPPDATA%\Safecase and a Start menu shortcut for this user only.
$ErrorActionPreference = "Stop"
$source = Split-Path -Parent $PSScriptRoot
$home_dir = Join-Path $env:LOCALAPPDATA "Safecase"
py -3 -m venv (Join-Path $home_dir "venv")
$python = Join-Path $home_dir "venv\Scripts\python.exe"
& $python -m pip install --quiet --upgrade pip
& $python -m pip install --quiet $source
$shell = New-Object -ComObject WScript.Shell
$menu = Join-Path $env:APPDATA "Microsoft\Windows\Start Menu\Programs\Safecase.lnk"
$link = $shell.CreateShortcut($menu)
$link.TargetPath = Join-Path $home_dir "venv\Scripts\safecase.exe"
$link.Save()
Write-Output "Safecase installed for $env:USERNAME."
Write-Output "Records are decrypted in memory while the store is open, and memory can be written to the"
Write-Output "page file or a hibernation file: keep this laptop's disk encrypted (BitLocker)."
