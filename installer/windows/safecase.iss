; Inno Setup script for Safecase on Windows: a per-user install, no admin rights.
; Build on Windows (see docs/installing.md):
;   py -m pip install -e .[bundle]
;   pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller installer\safecase.spec
;   "%ProgramFiles(x86)%\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 installer\windows\safecase.iss
; Installs under %LOCALAPPDATA%\Programs\Safecase, adds a Start-menu shortcut and an
; uninstaller; the only registry entry is Inno Setup's own uninstall key under HKCU.
; The store, its key file and its backups live in %LOCALAPPDATA%\Safecase and are never
; touched by installing, updating or uninstalling.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6E0B5C1E-5AFE-4CA5-9E1D-5AFECA5E0001}
AppName=Safecase
AppVersion={#AppVersion}
AppPublisher=Safecase
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=
DefaultDirName={localappdata}\Programs\Safecase
DisableDirPage=yes
DefaultGroupName=Safecase
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=Safecase-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
UninstallDisplayName=Safecase
CloseApplications=yes
; A newer version replaces the program files only; the store is elsewhere.
UsePreviousAppDir=yes

[Files]
; The bundle built by installer\safecase.spec. Old program files are removed first, so no
; stale library from an earlier version is loaded; policy.json (set by IT) is kept.
Source: "..\..\dist\safecase\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{userprograms}\Safecase"; Filename: "{app}\safecase.exe"
Name: "{userprograms}\Safecase self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\safecase.exe"" --self-test"

[Run]
Filename: "{app}\safecase.exe"; Description: "Start Safecase"; Flags: nowait postinstall skipifsilent
