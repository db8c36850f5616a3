// Package alletra drives HPE Alletra MP (block), Alletra 9000, Primera and 3PAR
// arrays through the Web Services API (WSAPI, https://<mgmt>[:port]/api/v1/...;
// 3PAR classic usually listens on :8080): volumes, hosts with a persona, VLUN
// exports with the array-assigned LUN read back, iSCSI and NVMe/TCP target
// discovery, snapshots and deletes.
//
// API targeted: HPE WSAPI 1.x (the /api/v1 surface of 3PAR OS 3.3.x, Primera
// OS 4.x and Alletra OS 9.x/10.x). The client is verified against a modelled
// API (an httptest server reproducing the paths, JSON shapes, session key
// header, {"code","desc"} error bodies and VLUN/port shapes), not against hardware.
//
// Session: POST /api/v1/credentials {"user","password"} returns {"key"}, sent
// as X-HP3PAR-WSAPI-SessionKey. WSAPI allows few sessions per user, so Logout
// (DELETE /api/v1/credentials/<key>) must always run: callers defer it right
// after Login, and it still runs when their context is cancelled. A 401 or 403
// on a later call (403 with code 6 is an invalid or expired session key) makes
// the client log in once more and repeat the call once.
//
// Redirects are never followed: Go would forward the session key header (and,
// on a 307/308, the login body with the password) to whatever host the
// redirect names. New works on a copy of the caller's *http.Client, and a 3xx
// answer becomes a *storage.Error of KindUnknown that says so; its body and
// Location are not used.
//
// Errors are *storage.Error values classified from the HTTP status and the
// numeric WSAPI code, never from desc text. Where the outcome matters for
// safety (host exists, volume already exported, LUN taken, export absent), the
// client re-reads the array's state instead of trusting a code.
//
// Every volume is listed whatever its provisioning type (full, thin, dedup,
// compressed); only virtual copies (snapshots) are left out. Hosts get persona
// 2 (Generic-ALUA) for Linux and 11 (WindowsServer) for Windows. NVMe/TCP
// portals come from each port's IPAddr, never from nodeWWN.
//
// A hostile or broken array cannot leak a credential or forge output (see
// storage.Redactor): every error the client returns, every log record and
// every array message it keeps is redacted of every form of the password (plain, JSON as in the
// login body, base64) and of each session key, and stripped
// of terminal escapes and control characters. Target names and portal
// addresses from the array must pass the answers file's rules (IQN/NQN
// grammar, unicast IP without zone) or are dropped; a volume whose name or id
// holds control, escape or invisible characters, or a credential, is left out
// of Volumes. WSAPI collections are not paged; one
// answer is bounded to 16 MiB. Unmap, DeleteHost and DeleteVolume report success only
// when a re-read shows the object gone: a refusal, even one coded "not
// found", for an object that is still there is an error.
package alletra
