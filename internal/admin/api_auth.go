package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// disabledMessage answers every API request while no token is configured.
const disabledMessage = "the manager API is disabled: set ADMIN_TOKEN (at least 16 characters) and restart chathub run"

// authorize checks the bearer token in constant time. It answers 503 when
// the API is disabled and 401 with a WWW-Authenticate challenge when the
// token is missing or wrong, and reports whether the request may go on.
// Neither the expected nor the presented token is ever logged.
func (a *API) authorize(w http.ResponseWriter, r *http.Request) bool {
	if a.cfg.Token == "" {
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: disabledMessage})
		return false
	}
	given, ok := bearerToken(r.Header.Get("Authorization"))
	if ok && tokensEqual(given, a.cfg.Token) {
		return true
	}
	challenge, msg := `Bearer realm="chathub"`, "missing bearer token: send Authorization: Bearer <ADMIN_TOKEN>"
	if ok {
		challenge, msg = `Bearer realm="chathub", error="invalid_token"`, "invalid bearer token"
	}
	a.log.Warn("api request refused", "reason", msg, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
	w.Header().Set("WWW-Authenticate", challenge)
	writeJSON(w, http.StatusUnauthorized, errorBody{Error: msg})
	return false
}

// bearerToken returns the credentials of an "Authorization: Bearer <token>"
// header (the scheme is case-insensitive, RFC 6750).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// tokensEqual compares in time independent of where the tokens differ and
// of their lengths (both are hashed to 32 bytes first).
func tokensEqual(given, want string) bool {
	g, w := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
