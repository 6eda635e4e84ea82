package telegramfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// SecretHeader is the header Telegram puts the webhook's secret_token in.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// setWebhook registers (or, with an empty url, removes) the webhook. Like
// Telegram it wants an HTTPS URL and a secret_token of 1-256 [A-Za-z0-9_-].
func (s *Server) setWebhook(w http.ResponseWriter, _ *http.Request, p params) {
	raw, secret := p["url"], p["secret_token"]
	if raw == "" {
		s.setHook(Webhook{}, false)
		writeOKDesc(w, "Webhook was deleted")
		return
	}
	if u, err := url.Parse(raw); err != nil || u.Scheme != "https" || u.Host == "" {
		writeError(w, http.StatusBadRequest, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook", 0)
		return
	}
	if _, ok := p["secret_token"]; ok && !secretRE.MatchString(secret) {
		writeError(w, http.StatusBadRequest, "Bad Request: secret token contains unallowed characters", 0)
		return
	}
	s.setHook(Webhook{URL: raw, Secret: secret}, p.bool("drop_pending_updates"))
	writeOKDesc(w, "Webhook was set")
}

func (s *Server) deleteWebhook(w http.ResponseWriter, _ *http.Request, p params) {
	s.setHook(Webhook{}, p.bool("drop_pending_updates"))
	writeOKDesc(w, "Webhook was deleted")
}

func (s *Server) setHook(h Webhook, drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = h
	if drop {
		s.updates = nil
	}
	s.notifyLocked()
}

func writeOKDesc(w http.ResponseWriter, desc string) {
	writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: true, Description: desc})
}

// PostWebhook POSTs an update to a webhook URL the way Telegram does (JSON
// body, the secret in SecretHeader when secret is not empty) and returns the
// HTTP status. update is sent as is when it is json.RawMessage, []byte or
// string, and JSON-encoded otherwise.
func PostWebhook(webhookURL, secret string, update any) (int, error) {
	body, err := updateBody(update)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(http.MethodPost, webhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("telegramtest: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(SecretHeader, secret)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("telegramtest: post webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func updateBody(update any) ([]byte, error) {
	switch u := update.(type) {
	case json.RawMessage:
		return u, nil
	case []byte:
		return u, nil
	case string:
		return []byte(u), nil
	}
	b, err := json.Marshal(update)
	if err != nil {
		return nil, fmt.Errorf("telegramtest: encode update: %w", err)
	}
	return b, nil
}
