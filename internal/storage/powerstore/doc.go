// Package powerstore drives a Dell PowerStore array through its REST API
// (https://<mgmt>/api/rest/...), for the calls the wizard needs: volumes, hosts,
// volume attach/detach with the array-assigned LUN read back, iSCSI and NVMe/TCP
// target discovery, snapshots and deletes.
//
// API targeted: PowerStore REST API as shipped with PowerStoreOS 3.x and 4.x
// (the "v3/v4" REST surface: session login, PostgREST-style filters such as
// name=eq.X, select= projections, Range/Content-Range pagination with 206).
// The client is verified against a modelled API (an httptest server that
// reproduces the documented paths, JSON shapes, session token and cookie, error
// bodies and pagination), not against hardware.
//
// Session: GET /api/rest/login_session with HTTP Basic returns a DELL-EMC-TOKEN
// header and an auth_cookie cookie. Every later call sends both and never the
// password again. A 401 or 403 on a later call means the session expired: the
// client logs in once more and retries the call once. Logout posts
// /api/rest/logout and works even after the caller's context was cancelled.
//
// Redirects are never followed: Go would forward the DELL-EMC-TOKEN header
// (and, to the same host name on another port, the Basic auth and auth_cookie)
// to whatever host the redirect names. New works on a copy of the caller's
// *http.Client, and a 3xx answer becomes a *storage.Error of KindUnknown that
// says so; its body and Location are not used.
//
// Errors are *storage.Error values classified from the HTTP status and the
// PowerStore hex error code in {"messages":[{"code":"0xE0..."}]}, never from
// message text. Where the outcome matters for safety (host already exists,
// volume already attached, requested LUN taken, mapping absent), the client
// re-reads the array's state instead of trusting any code.
//
// PowerStore gives each node its own iSCSI target IQN, so one storage.Target
// cannot carry every portal; Targets returns one Target per IQN and Target
// returns the best of them.
//
// A hostile or broken array cannot leak a credential or forge output (see
// storage.Redactor): every error the client returns, every log record and
// every array message it keeps is redacted of every form of the password (plain, JSON, base64 of
// user:password as in the Basic header), of each DELL-EMC-TOKEN and of each
// auth_cookie, and stripped
// of terminal escapes and control characters. Target names and portal
// addresses from the array must pass the answers file's rules (IQN/NQN
// grammar, unicast IP without zone) or are dropped; a volume whose name or id
// holds control, escape or invisible characters, or a credential, is left out
// of Volumes. A listing stops with an error after
// storage.MaxListPages pages or storage.MaxListBytes bytes. Unmap, DeleteHost and DeleteVolume report success only
// when a re-read shows the object gone: a refusal, even one coded "not
// found", for an object that is still there is an error.
package powerstore
